"""The Rasa project (domain, NLU and dialogue data) and its custom actions (``bot.actions``)."""
