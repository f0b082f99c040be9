"""Persistence of the gateway: conversations, messages, tickets, staff users, canned replies, audit log.

SQLite file by default; PostgreSQL when ``TONGXIN_DATABASE_URL`` says so. The schema is managed by
Alembic migrations (``channels/store/migrations``), applied at start-up.
"""
