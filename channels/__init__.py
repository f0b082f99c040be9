"""The FastAPI gateway: channel adapters (web, Telegram, WeChat), the Rasa client, handoff and staff console."""
