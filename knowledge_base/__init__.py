"""The policy knowledge base: documents, referral directory, eligibility rules and eval sets, as data.

Nothing is loaded at import; call :func:`knowledge_base.loader.load_knowledge_base`.
"""

from pathlib import Path

KB_ROOT = Path(__file__).resolve().parent
