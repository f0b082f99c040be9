"""Eligibility screening: pure Python over the rules in ``knowledge_base/eligibility/``.

``python -m bot.eligibility --json '<facts>'`` prints the verdict of every programme.
"""
