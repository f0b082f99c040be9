"""Read screening facts from free text: "孩子爸爸在坐牢，妈妈联系不上快一年了，孩子9岁，农村的".

A deterministic reader over the phrase lists in ``knowledge_base/lexicon/facts.yml``: the text is split
into clauses; in each clause, phrases are matched leftmost-longest; a situation belongs to the parent
named before it in the clause (or in an earlier clause, or the parent just asked about); a duration in
the same clause decides the 6-month thresholds. Short answers ("是", "不知道", "9") fill the fact
that was just asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.eligibility.facts import UNKNOWN
from knowledge_base import KB_ROOT
from textnorm import normalize

LEXICON = KB_ROOT / "lexicon" / "facts.yml"
_ZH = {
    "零": 0,
    "一": 1,
    "两": 2,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
    "半": 0,
}
_NUM = r"(\d{1,2}|[零一两二三四五六七八九十]{1,3})"
_AGE = re.compile(_NUM + r"\s*(?:周岁|岁)(半)?")
_AGE_MONTHS = re.compile(_NUM + r"\s*个月(?:大|的宝宝|的孩子)")
_AGE_ALONE = re.compile(r"^(?:孩子|娃|伢)?(?:今年)?" + _NUM + r"(?:了|岁了)?$")
_DURATION = re.compile(r"(?:快|近|差不多|将近|有)?" + _NUM + r"\s*(?:个)?\s*(年|月)(?:多)?")
_CLAUSE = re.compile(r"[，,。.;；!！?？\n]+")
_ANSWER_CLAUSE = re.compile(r"[，,。.;；!！?？\n\s]+")
YES_NO_FACTS = {"family_low_income": "low_income", "in_school": "in_school", "guardianship_harm": "harm"}


def zh_number(text: str) -> int | None:
    """ "9" → 9, "十二" → 12, "二十" → 20."""
    if text.isdigit():
        return int(text)
    if not text or any(ch not in _ZH for ch in text):
        return None
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_ZH[tens] if tens else 1) * 10 + (_ZH[ones] if ones else 0)
    return _ZH[text] if len(text) == 1 else None


@dataclass(frozen=True)
class Match:
    start: int
    end: int
    kind: str
    value: str


class Lexicon:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        phrases: list[tuple[str, str, str]] = []
        for value, words in data["parents"].items():
            phrases += [(w, "parent", value) for w in words]
        for value, words in data["situations"].items():
            phrases += [(w, "situation", value) for w in words]
        phrases += [(w, "duration", "long") for w in data["long_durations"]]
        phrases += [(w, "duration", "short") for w in data["short_durations"]]
        for value, words in data["hukou"].items():
            phrases += [(w, "hukou", value) for w in words]
        self._phrases = sorted(((normalize(p), k, v) for p, k, v in phrases), key=lambda t: -len(t[0]))

    def scan(self, text: str, phrases: list[tuple[str, str, str]] | None = None) -> list[Match]:
        """Leftmost-longest, non-overlapping matches."""
        table = phrases if phrases is not None else self._phrases
        out, i = [], 0
        while i < len(text):
            for phrase, kind, value in table:
                if phrase and text.startswith(phrase, i):
                    out.append(Match(i, i + len(phrase), kind, value))
                    i += len(phrase)
                    break
            else:
                i += 1
        return out

    def words(self, *path: str) -> list[str]:
        node: Any = self.data
        for key in path:
            node = node[key]
        return sorted((normalize(w) for w in node), key=len, reverse=True)


@lru_cache(maxsize=2)
def load_lexicon(path: Path = LEXICON) -> Lexicon:
    return Lexicon(yaml.safe_load(path.read_text(encoding="utf-8")))


def _months(clause: str) -> int | None:
    match = _DURATION.search(clause)
    if not match:
        return None
    n = zh_number(match.group(1))
    if n is None:
        return None
    return n * 12 if match.group(2) == "年" else n


def _with_duration(situation: str, clause: str, tags: list[str]) -> str:
    months = _months(clause)
    long = (months is not None and months >= 6) or "long" in tags
    short = (months is not None and months < 6) or ("short" in tags and not long)
    if situation == "lost_contact":
        if long:
            return "lost_contact_6m"
        return "lost_contact_short" if short else "whereabouts_unknown"
    if situation in ("imprisoned", "drug_rehab", "detained"):
        if short:
            return "detained_short"
        if situation == "detained" and not long and "拘留" in clause:
            return "detained_short"  # administrative or criminal detention is counted in days or weeks
    return situation


class FactExtractor:
    """Usage example::

    FactExtractor().extract("孩子爸爸在坐牢，妈妈联系不上快一年了，孩子9岁，农村的")
    # {"child_age": 9, "father": "imprisoned", "mother": "lost_contact_6m", "hukou": "rural"}
    """

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.lex = lexicon or load_lexicon()

    def extract(self, text: str, requested: str | None = None) -> dict[str, Any]:
        t = normalize(text)
        facts: dict[str, Any] = {}
        self._age(t, requested, facts)
        self._parents(t, requested, facts)
        for match in self.lex.scan(t):
            if match.kind == "hukou":
                facts.setdefault("hukou", match.value)
        if requested in YES_NO_FACTS or requested == "child_disability":
            self._answer(t, requested, facts)
        else:
            for fact in ("child_disability", "family_low_income"):
                self._topic(t, fact, facts)
        if requested and requested not in facts and self._said(t, "unknown"):
            facts[requested] = UNKNOWN
        return facts

    def county(self, text: str) -> str | None:
        t = normalize(text)
        for kind in ("counties", "towns"):
            for county, words in self.lex.data[kind].items():
                if any(normalize(w) in t for w in words):
                    return str(county)
        return None

    def role(self, text: str) -> str | None:
        t = normalize(text)
        for role in ("child_director", "staff", "parent"):
            if any(normalize(w) in t for w in self.lex.data["roles"][role]):
                return role
        return None

    def _age(self, t: str, requested: str | None, facts: dict[str, Any]) -> None:
        match = _AGE.search(t)
        if match and (n := zh_number(match.group(1))) is not None:
            facts["child_age"] = n
            return
        if _AGE_MONTHS.search(t):
            facts["child_age"] = 0
            return
        if requested == "child_age":
            alone = _AGE_ALONE.match(t.strip("。.!！ "))
            if alone and (n := zh_number(alone.group(1))) is not None:
                facts["child_age"] = n

    def _parents(self, t: str, requested: str | None, facts: dict[str, Any]) -> None:
        last_parent: str | None = requested if requested in ("father", "mother") else None
        for clause in filter(None, _CLAUSE.split(t)):
            matches = self.lex.scan(clause)
            durations = [m.value for m in matches if m.kind == "duration"]
            current = last_parent
            for m in matches:
                if m.kind == "parent":
                    current = last_parent = m.value
                elif m.kind == "situation" and current is not None:
                    value = _with_duration(m.value, clause, durations)
                    for parent in ("father", "mother") if current == "both" else (current,):
                        # The first situation said about a parent wins; later ones in the same answer
                        # ("坐牢…判了三年") only refine it through the duration.
                        facts.setdefault(parent, value)

    def _said(self, t: str, answer: str) -> bool:
        return any(w in t for w in self.lex.words("answers", answer))

    def _replied(self, t: str, answer: str) -> bool:
        """A bare yes or no opens or closes a clause of the reply ("没有", "是的 我们家是", "我们家没有").
        Inside a clause the same characters belong to other words: 无 in 无人抚养, 是 in 什么是."""
        words = tuple(self.lex.words("answers", answer))
        clauses = (c.strip("嗯哦呃啊额噢呀吧啦的") for c in _ANSWER_CLAUSE.split(t))
        return any(c.startswith(words) or c.endswith(words) for c in clauses if c)

    def _answer(self, t: str, requested: str, facts: dict[str, Any]) -> None:
        if self._said(t, "unknown"):
            facts[requested] = UNKNOWN
            return
        if requested == "child_disability":
            self._topic(t, requested, facts)
            if requested not in facts:
                if self._replied(t, "no"):
                    facts[requested] = "none"
                elif self._replied(t, "yes"):
                    facts[requested] = "certified"
            return
        topic = YES_NO_FACTS[requested]
        # Words about the topic decide before bare yes/no: "没人管" is a yes to "is the child neglected?".
        if any(w in t for w in self.lex.words(topic, "no")):
            facts[requested] = False
        elif any(w in t for w in self.lex.words(topic, "yes")):
            facts[requested] = True
        elif self._replied(t, "no"):
            facts[requested] = False
        elif self._replied(t, "yes"):
            facts[requested] = True

    def _topic(self, t: str, fact: str, facts: dict[str, Any]) -> None:
        if fact == "child_disability":
            if any(w in t for w in self.lex.words("disability", "none")):
                facts[fact] = "none"
            elif any(w in t for w in self.lex.words("disability", "certified")) and not self._parent_disabled(t):
                facts[fact] = "certified"
        elif fact == "family_low_income":
            if any(w in t for w in self.lex.words("low_income", "no")):
                facts[fact] = False
            elif any(w in t for w in self.lex.words("low_income", "yes")):
                facts[fact] = True

    def _parent_disabled(self, t: str) -> bool:
        """ "他爸残疾" is about a parent, not the child."""
        for clause in _CLAUSE.split(t):
            kinds = [m.kind for m in self.lex.scan(clause)]
            if "parent" in kinds and "situation" in kinds:
                return True
        return False
