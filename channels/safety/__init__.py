"""Child safety in the gateway: the crisis screen (before NLU, during handoff too) and PII masking."""
