"""Pydantic models for everything in ``knowledge_base/``: the file formats are defined here."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

DOC_NO_RE = re.compile(r"^[\u4e00-\u9fff]+〔(19|20)\d{2}〕\d+号$")
ID_RE = r"^[a-z][a-z0-9_]*$"

Scope = Literal["national", "hubei", "yichang"]
Audience = Literal["parent", "child_director", "staff"]
Status = Literal["current", "amended", "superseded"]
Topic = Literal[
    "left_behind",
    "in_difficulty",
    "de_facto_unsupported",
    "orphan",
    "disability",
    "guardianship",
    "entrusted_care",
    "mandatory_reporting",
    "child_director",
    "institutions",
    "online_and_venues",
    "minors_law",
    "hotlines",
    "yichang",
    "application",
    "benefits",
    "emergency",
    "counselling",
    "education",
    "medical",
    "social_assistance",
]
County = Literal[
    "西陵区",
    "伍家岗区",
    "点军区",
    "猇亭区",
    "夷陵区",
    "宜都市",
    "当阳市",
    "枝江市",
    "远安县",
    "兴山县",
    "秭归县",
    "长阳土家族自治县",
    "五峰土家族自治县",
]
YICHANG_COUNTIES: tuple[str, ...] = get_args(County)
# The only numbers POLICY_FACTS.md lists as verified national lines (§8). Anything else must stay unverified.
VERIFIED_NUMBERS: frozenset[str] = frozenset({"110", "120", "12355", "12345", "12338"})


def _doc_no(value: str) -> str:
    if not DOC_NO_RE.match(value):
        raise ValueError(f"document number {value!r} is not written as issued, e.g. 民发〔2019〕62号")
    return value


def _partial_date(value: object) -> object:
    """Accept YAML dates and "YYYY", "YYYY-MM", "YYYY-MM-DD" strings: only as precise as the source."""
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError("a date must be written as YYYY, YYYY-MM or YYYY-MM-DD")
    formats = {4: "%Y", 7: "%Y-%m", 10: "%Y-%m-%d"}
    fmt = formats.get(len(value))
    if fmt is None:
        raise ValueError(f"date {value!r} must be YYYY, YYYY-MM or YYYY-MM-DD")
    try:
        dt.datetime.strptime(value, fmt)
    except ValueError as exc:
        raise ValueError(f"date {value!r} is not a real date") from exc
    return value


# Digits that read like a phone number: 7 or more (separators allowed), or 3 to 6 that are not a count, a
# year or one of the verified national lines ("112名儿童督导员", "2016年" and "12355" are fine).
_LONG_DIGITS = re.compile(r"(?<![\d])\d[\d\- ]{5,}\d(?![\d])")
_SHORT_DIGITS = re.compile(
    r"(?<![\d.])(\d{3,6})(?![\d.])(?!\s*(?:名|人|个|所|家|户|元|万|余|年|月|日|天|岁|周岁|级|条|号|项|次|%))"
)


def phone_like(text: str) -> list[str]:
    found = [m.group(0) for m in _LONG_DIGITS.finditer(text)]
    found += [d for d in _SHORT_DIGITS.findall(text) if d not in VERIFIED_NUMBERS and not any(d in f for f in found)]
    return found


DocNo = Annotated[str, AfterValidator(_doc_no)]
PartialDate = Annotated[str | None, BeforeValidator(_partial_date)]
NonEmpty = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class PolicyMeta(_Strict):
    """The front matter of one policy document."""

    id: Annotated[str, Field(pattern=ID_RE)]
    title: NonEmpty
    source_title: str | None = None
    doc_no: DocNo | None
    law: str | None = None
    articles: tuple[int, ...] = ()
    issuer: NonEmpty
    issued: PartialDate = None
    effective: PartialDate = None
    status: Status
    amended_by: tuple[DocNo, ...] = ()
    superseded_by: str | None = None
    scope: Scope
    audience: Annotated[tuple[Audience, ...], Field(min_length=1)]
    topics: Annotated[tuple[Topic, ...], Field(min_length=1)]
    related: tuple[str, ...] = ()
    questions: Annotated[tuple[NonEmpty, ...], Field(min_length=6, max_length=10)]
    # Questions that one section answers, keyed by the section's heading (the text after ## or ###): they
    # lead a question to the passage that holds the asked-for fact, not only to the document.
    section_questions: dict[NonEmpty, Annotated[tuple[NonEmpty, ...], Field(min_length=1, max_length=8)]] = {}
    summary: Annotated[str, Field(min_length=10)]

    @model_validator(mode="after")
    def _consistent(self) -> PolicyMeta:
        if self.law and self.doc_no:
            raise ValueError("a law has no doc_no: give `law` + `articles`, or `doc_no`, not both")
        if self.articles and not self.law:
            raise ValueError("`articles` belong to a law: set `law`")
        if self.law and not self.articles:
            raise ValueError("a law document must list the `articles` it covers")
        if self.status == "amended" and not self.amended_by:
            raise ValueError("status `amended` needs `amended_by`")
        if self.amended_by and self.status != "amended":
            raise ValueError("`amended_by` is only for status `amended`")
        if (self.status == "superseded") != (self.superseded_by is not None):
            raise ValueError("status `superseded` and `superseded_by` go together")
        if self.superseded_by == self.id or self.id in self.related:
            raise ValueError("a document cannot refer to itself")
        return self

    @property
    def answerable(self) -> bool:
        """Superseded documents never answer; they can only be cited as history."""
        return self.status != "superseded"


class PolicyDocument(_Strict):
    meta: PolicyMeta
    body: Annotated[str, Field(min_length=50)]
    path: str


class Referral(_Strict):
    """One entry of the referral directory.

    Contact details are shown only for verified entries: always go through :meth:`public_contact`.
    """

    id: Annotated[str, Field(pattern=ID_RE)]
    name: NonEmpty
    kind: Literal[
        "emergency",
        "hotline",
        "counselling",
        "welfare_institution",
        "protection_centre",
        "community_service",
        "child_director",
        "government_office",
    ]
    scope: Scope
    county: County | None = None
    purpose: NonEmpty
    who_should_call: NonEmpty
    hours: str | None = None
    phone: str | None = None
    address: str | None = None
    verified: bool
    source: NonEmpty
    note: str | None = None

    @model_validator(mode="after")
    def _contact_rules(self) -> Referral:
        if not self.verified and (self.phone or self.address):
            raise ValueError("an unverified entry must not carry a phone number or an address")
        if not self.verified:
            for name in ("name", "purpose", "who_should_call", "hours", "note"):
                for digits in phone_like(getattr(self, name) or ""):
                    raise ValueError(f"{name} of an unverified entry holds {digits!r}, which reads like a phone number")
        if self.verified:
            if not self.phone:
                raise ValueError("a verified entry needs its phone number")
            if self.phone not in VERIFIED_NUMBERS:
                raise ValueError(
                    f"{self.phone!r} is not a verified number of the fact sheet; mark the entry unverified"
                )
        return self

    def public_contact(self) -> str | None:
        """The phone number a user may see, or None: unverified numbers are never shown."""
        return self.phone if self.verified else None


class ReferralDirectory(_Strict):
    entries: Annotated[tuple[Referral, ...], Field(min_length=1)]


class EvalQuestion(_Strict):
    id: NonEmpty
    question: NonEmpty
    persona: Literal["grandparent", "parent", "child_director", "staff"]
    script: Literal["simplified", "traditional"] = "simplified"
    expected: Annotated[tuple[str, ...], Field(min_length=1)]
    key_facts: Annotated[tuple[NonEmpty, ...], Field(min_length=1, max_length=3)]


class EvalSet(_Strict):
    questions: Annotated[tuple[EvalQuestion, ...], Field(min_length=1)]


class OutOfScopeQuestion(_Strict):
    id: NonEmpty
    question: NonEmpty


class OutOfScopeSet(_Strict):
    questions: Annotated[tuple[OutOfScopeQuestion, ...], Field(min_length=1)]
