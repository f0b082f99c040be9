"""Custom actions, one small module per feature; ``rasa_sdk`` registers every submodule's actions."""
