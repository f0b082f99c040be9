"""Children's personal data: mask ID cards, phone and bank card numbers, detailed addresses.

Masked text is what logs, analytics and list views show; the full transcript stays with the ticket.
"""

from __future__ import annotations

import logging
import re

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # 18-digit resident ID (the last may be X) and the old 15-digit form.
    (re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)"), r"\1********\2"),
    (re.compile(r"(?<!\d)(\d{6})\d{6}(\d{3})(?!\d)"), r"\1******\2"),
    # Bank cards: 16–19 digits, possibly in groups of four.
    (re.compile(r"(?<!\d)(\d{4})(?:[ -]?\d{4}){2,3}[ -]?(\d{1,4})(?!\d)"), r"\1 **** **** \2"),
    # Mobile numbers (with an optional +86) and landlines with an area code.
    (re.compile(r"(?<!\d)((?:\+?86[ -]?)?1[3-9]\d)[ -]?\d{4}[ -]?(\d{4})(?!\d)"), r"\1****\2"),
    (re.compile(r"(?<!\d)(0\d{2,3})[ -]?\d{3,4}(\d{4})(?!\d)"), r"\1-****\2"),
    # Detailed addresses: keep the street or village, hide the house (…路12号3栋2单元501室, …村3组).
    # Only after an address word, so 民发〔2019〕62号 and 第3号 stay as they are.
    (
        re.compile(
            r"(路|街|道|巷|弄|村|小区|社区|花园|苑|镇|乡)"
            r"((?:\s*[\d一二三四五六七八九十]+\s*(?:号楼|号院|号|栋|幢|单元|楼|层|室|组))+)"
        ),
        r"\1**",
    ),
)


def mask_pii(text: str) -> str:
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def mask_phone(phone: str | None) -> str | None:
    """138****5678 for list views."""
    return None if phone is None else mask_pii(phone)


class PiiFilter(logging.Filter):
    """Masks personal data in every log record (message and arguments)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is still logged, as is
            return True
        record.msg, record.args = mask_pii(message), None
        return True
