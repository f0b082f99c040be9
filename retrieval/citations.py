"""Citations: how a policy source is named, in one place (title, document number or law article)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

_DIGITS = "零一二三四五六七八九"
_ARTICLE_HEADING = re.compile(r"第([零一二三四五六七八九十百]+)条")


def chinese_number(n: int) -> str:
    """1 → 一, 21 → 二十一, 110 → 一百一十: how article numbers are written in Chinese laws."""
    if not 0 < n < 1000:
        raise ValueError(f"article number out of range: {n}")
    hundreds, rest = divmod(n, 100)
    tens, ones = divmod(rest, 10)
    out = ""
    if hundreds:
        out += _DIGITS[hundreds] + "百"
        if rest and tens == 0:
            out += "零"
    if tens:
        out += ("" if tens == 1 and not hundreds else _DIGITS[tens]) + "十"
    if ones:
        out += _DIGITS[ones]
    return out


def articles_label(articles: tuple[int, ...]) -> str:
    """(21, 22, 23) → 第二十一、二十二、二十三条."""
    if not articles:
        return ""
    return "第" + "、".join(chinese_number(a) for a in articles) + "条"


@dataclass(frozen=True)
class DocInfo:
    """The document metadata a citation and an answer card need (kept in the index sidecar)."""

    doc_id: str
    title: str
    source_title: str | None
    doc_no: str | None
    law: str | None
    articles: tuple[int, ...]
    issuer: str
    issued: str | None
    effective: str | None
    status: str
    amended_by: tuple[str, ...]
    superseded_by: str | None
    scope: str
    audience: tuple[str, ...]
    summary: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DocInfo:
        return cls(
            **{
                **data,
                "articles": tuple(data["articles"]),
                "audience": tuple(data["audience"]),
                "amended_by": tuple(data["amended_by"]),
            }
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Citation:
    """A source, serialised in the shape of the ``/api/chat`` contract (plus issuer and date for source cards).

    For a law, ``title`` is the law's name and ``article`` the article(s) the passage rests on.
    """

    doc_id: str
    doc_no: str | None
    title: str
    issuer: str
    issued: str | None
    article: str | None = None

    @property
    def full_title(self) -> str:
        return self.title + (self.article or "")

    def to_json(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "doc_no": self.doc_no,
            "title": self.full_title,
            "issuer": self.issuer,
            "issued": self.issued,
        }

    @property
    def label(self) -> str:
        """One line for plain-text channels: 《title》第X条（doc_no）."""
        return f"《{self.title}》{self.article or ''}" + (f"（{self.doc_no}）" if self.doc_no else "")


def cite(doc: DocInfo, heading: tuple[str, ...] = ()) -> Citation:
    """The citation of ``doc``; for a law, the article named in the passage's heading if there is one."""
    if doc.law:
        named = next((m.group(0) for h in heading for m in [_ARTICLE_HEADING.search(h)] if m), None)
        return Citation(
            doc.doc_id, None, doc.law, doc.issuer, doc.issued or doc.effective, named or articles_label(doc.articles)
        )
    return Citation(doc.doc_id, doc.doc_no, doc.source_title or doc.title, doc.issuer, doc.issued or doc.effective)
