"""Explicit references in a question: "62号文", "国发〔2016〕13号", "未保法第23条", "民法典36条".

Child directors cite documents and articles; when a question names one, the documents that carry
that number or article form their own ranking list in the fusion.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from retrieval.citations import DocInfo

_ZH_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
LAW_ALIASES = {
    "中华人民共和国未成年人保护法": ("未成年人保护法", "未保法", "未成年人保护"),
    "中华人民共和国民法典": ("民法典",),
}
_DOC_NO = re.compile(r"(?:[〔\[(（]?(\d{4})[〕\])）年]?)?\s*(\d{1,3})\s*号")
_PHONE = re.compile(r"(?<!\d)(1\d{2,4})(?!\d)")
_ARTICLE = re.compile(r"第?\s*([0-9]{1,3}|[零一二两三四五六七八九十百]{1,6})\s*条")


def parse_number(text: str) -> int | None:
    """ "23" → 23, "二十三" → 23, "一百零五" → 105."""
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for ch in text:
        if ch in _ZH_DIGITS:
            current = _ZH_DIGITS[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current or None


def _doc_numbers(doc: DocInfo) -> Iterable[tuple[str, str]]:
    for no in (doc.doc_no, *doc.amended_by):
        if no:
            match = re.search(r"〔(\d{4})〕(\d+)号", no)
            if match:
                yield match.group(1), match.group(2)


def referenced_documents(question: str, docs: Iterable[DocInfo]) -> list[str]:
    """Ids of documents the question names by document number or law article, in corpus order."""
    docs = list(docs)
    found: list[str] = []
    for year, number in ((m.group(1), m.group(2)) for m in _DOC_NO.finditer(question)):
        for doc in docs:
            if any(n == number and (year is None or y == year) for y, n in _doc_numbers(doc)):
                found.append(doc.doc_id)
    for law, aliases in LAW_ALIASES.items():
        for alias in aliases:
            for part in question.split(alias)[1:]:
                match = _ARTICLE.match(part.strip())
                article = parse_number(match.group(1)) if match else None
                if article is None:
                    continue
                found += [d.doc_id for d in docs if d.law == law and article in d.articles]
    # A hotline number on its own ("12355") names the document that explains that line.
    for number in _PHONE.findall(question):
        found += [d.doc_id for d in docs if number in d.title]
    return list(dict.fromkeys(found))
