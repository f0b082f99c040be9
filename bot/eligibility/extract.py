"""Read screening facts from free text: "孩子爸爸在坐牢，妈妈联系不上快一年了，孩子9岁，农村的".

A deterministic reader over the phrase lists in ``knowledge_base/lexicon/facts.yml``: the text is
standardised (script, dialect, voice-typing errors) and split into clauses; in each clause, phrases are
matched leftmost-longest; a situation belongs to the parent named before it in the clause (or in an earlier
clause, or the parent just asked about); a negated situation ("不是坐牢") is skipped. For prison, drug
rehabilitation and detention a number said with the sentence ("判了两年") is the term, which decides the
6-month threshold; time served only tells that the term is at least that long. For 失联 the time is elapsed
time. Words that do not settle a status ("跑了", "精神病", "看守所", "走了几年") are not read as one: they
become a clarification to ask. Short answers ("是", "不知道", "9") fill the fact that was just asked.
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
from textnorm import normalize, standardise

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
# A bound of a rule ("6岁以下", "未满16周岁", "18岁以后") is not the child's age.
_AGE = re.compile(
    r"(?<![未不满\d零一两二三四五六七八九十])"
    + _NUM
    + r"\s*(?:周岁|岁)(半)?(?!以下|以上|以内|以后|之前|之后|之内|前|后|的孩子|的儿童|的娃)"
)
_AGE_MONTHS = re.compile(_NUM + r"\s*个月(?:大|的宝宝|的孩子)")
# "伢十二", "孙子十五了", "孩子才八岁": the age of the child named, without 岁 (clause by clause). With 了 the
# clause may go on: the normalised text has lost the spaces that ended it ("孩子十五了户口在农村").
_AGE_OF_CHILD = re.compile(
    r"(?:孩子|孙子|孙女|外孙女|外孙|儿子|女儿|闺女)(?:今年|才|已经|快|刚)?"
    + r"(\d{1,2}|[一二三四五六七八九十]{1,3})(?:了|岁?$)"
)
# "上个月满了十六", "刚满16": an age reached, said without 岁.
_AGE_REACHED = re.compile(r"(?<![不未没])满了?" + _NUM + r"(?:岁|周岁)?(?!个|年|月|天|以下|以上|的孩子|的儿童)")
_AGE_ALONE = re.compile(r"^(?:孩子|娃|伢)?(?:今年)?" + _NUM + r"(?:了|岁了)?$")
_DURATION = re.compile(r"(?:快|近|差不多|将近|有)?" + _NUM + r"\s*(?:个)?\s*(年|月)(?:多)?")
_CLAUSE = re.compile(r"[，,。.;；!！?？\n]+")
_QUESTION = re.compile(r"吗|么$|算不算|能不能|是不是|可不可以|怎么|什么|哪些|哪个|多少|呢")
# More telling than where a parent is: "在外地，电话打得通" is about whether the parent can be reached.
SPECIFIC = ("absent_reachable", "lost_contact", "whereabouts_unknown", "deceased")
_NEGATED = re.compile(
    r"(不是|并不是|也不是|没有|没|并没有|不|并非)(在|是|去|人|人会|谁|吃|领|享受|办|拿|评上|评|人来)?$"
)
_GRADE = re.compile(r"([一二三四1234])级")
_SEVERE_TYPES = ("精神", "智力")
_OTHER_TYPES = ("肢体", "视力", "听力", "言语", "多重")
HELD = ("imprisoned", "drug_rehab", "detained")
_ANSWER_CLAUSE = re.compile(r"[，,。.;；!！?？\n\s]+")
YES_NO_FACTS = {"family_low_income": "low_income", "in_school": "in_school", "guardianship_harm": "harm"}
TOPIC_FACTS = ("child_disability", "family_low_income", "in_school", "guardianship_harm")
# Outside the screening, harm words describe what the user asks about more often than the child's situation.
FREE_TOPIC_FACTS = ("child_disability", "family_low_income", "in_school")


def zh_number(text: str) -> int | None:
    """ "9" → 9, "十二" → 12, "二十" → 20."""
    if text.isdigit():
        return int(text)
    if not text or any(ch not in _ZH for ch in text):
        return None
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_ZH[tens] if tens else 1) * 10 + (_ZH[ones] if ones else 0)
    # "六七年": a range, read as its lower end.
    return _ZH[text[0]] if len(text) <= 2 else None


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
        for value, words in data["unclear"].items():
            phrases += [(w, "unclear", value) for w in words]
        phrases += [(w, "duration", "long") for w in data["long_durations"]]
        phrases += [(w, "duration", "short") for w in data["short_durations"]]
        for value, words in data["hukou"].items():
            phrases += [(w, "hukou", value) for w in words]
        self._phrases = sorted(((normalize(p), k, v) for p, k, v in phrases), key=lambda t: -len(t[0]))
        self.durations = [p for p in self._phrases if p[1] == "duration"]

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


def _months(text: str) -> int | None:
    match = _DURATION.search(text)
    if not match:
        return None
    n = zh_number(match.group(1))
    if n is None:
        return None
    return n * 12 if match.group(2) == "年" else n


def _term_months(clause: str, markers: list[str]) -> int | None:
    """The length of a sentence or measure said in the clause ("判了两年", "刑期8个月"), if any."""
    for marker in markers:
        at = clause.find(marker)
        if at >= 0:
            months = _months(clause[at : at + len(marker) + 8])
            if months is not None:
                return months
    if "无期" in clause or "死缓" in clause:
        return 999
    return None


@dataclass
class Reading:
    """What one message says: facts, and what must be asked because the words did not settle a status."""

    facts: dict[str, Any]
    clarify: dict[str, str]  # parent → what to ask: reachable, how_long, grade, term:<situation>, died_or_left


class FactExtractor:
    """Usage example::

    FactExtractor().extract("孩子爸爸在坐牢，妈妈联系不上快一年了，孩子9岁，农村的")
    # {"child_age": 9, "father": "imprisoned", "mother": "lost_contact_6m", "hukou": "rural"}
    """

    def __init__(self, lexicon: Lexicon | None = None) -> None:
        self.lex = lexicon or load_lexicon()

    def extract(self, text: str, requested: str | None = None, pending: str | None = None) -> dict[str, Any]:
        """The facts a message gives (vague words give none: see :meth:`read`)."""
        return self.read(text, requested, pending).facts

    def read(self, text: str, requested: str | None = None, pending: str | None = None) -> Reading:
        """Facts and clarifications; ``pending`` is the clarification that was just asked about ``requested``."""
        # A space typed between words often ends a clause ("他爸坐牢 他妈跑了"): it is kept as a comma.
        t = "，".join(standardise(part) for part in text.split())
        facts: dict[str, Any] = {}
        self._age(t, requested, facts)
        clarify = self._parents(t, requested, pending, facts)
        for match in self.lex.scan(t):
            if match.kind == "hukou":
                facts.setdefault("hukou", match.value)
        if requested in YES_NO_FACTS or requested == "child_disability":
            self._answer(t, requested, facts)
        # What the message says in so many words about the other facts is read too ("冇得残疾 屋里不是低保").
        others = TOPIC_FACTS if requested in (*YES_NO_FACTS, "child_disability") else FREE_TOPIC_FACTS
        for fact in others:
            if fact != requested:
                self._topic(t, fact, facts)
        if requested and requested not in facts and requested not in clarify and self._said(t, "unknown"):
            facts[requested] = UNKNOWN
        return Reading(facts, clarify)

    def county(self, text: str) -> str | None:
        t = normalize(text)
        for kind in ("counties", "towns"):
            for county, words in self.lex.data[kind].items():
                if any(normalize(w) in t for w in words):
                    return str(county)
        return None

    def role(self, text: str) -> str | None:
        t = standardise(text)
        for role in ("child_director", "staff", "parent", "child"):
            for w in self.lex.words("roles", role):
                at = t.find(w)
                # "我是孩子" is a child, "我是孩子的婆婆" is not.
                if at >= 0 and not (role == "child" and t[at + len(w) : at + len(w) + 1] in ("的", "他", "她")):
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
        reached = _AGE_REACHED.search(t)
        if reached and (n := zh_number(reached.group(1))) is not None and 0 < n <= 30:
            facts["child_age"] = n
            return
        for clause in _CLAUSE.split(t):
            of_child = _AGE_OF_CHILD.search(clause)
            if of_child and (n := zh_number(of_child.group(1))) is not None:
                facts["child_age"] = n
                return
        if requested == "child_age":
            alone = _AGE_ALONE.match(t.strip("。.!！ "))
            if alone and (n := zh_number(alone.group(1))) is not None:
                facts["child_age"] = n

    def _parents(self, t: str, requested: str | None, pending: str | None, facts: dict[str, Any]) -> dict[str, str]:
        """Each parent's situation; the first one said about a parent wins (a negated one is skipped)."""
        asked = requested if requested in ("father", "mother") else None
        last_parent: str | None = asked
        unclear: dict[str, tuple[str, str]] = {}  # parent → (kind, clause)
        markers = self.lex.words("term_markers")
        for clause in filter(None, _CLAUSE.split(t)):
            matches = self.lex.scan(clause)
            # Time words on their own scan: "走了几年没音信" still says "几年" about the lost contact.
            durations = [m.value for m in self.lex.scan(clause, self.lex.durations)]
            named = any(m.kind == "parent" for m in matches)
            # A question about a situation ("这种重病能算吗") says nothing about the parent talked of before.
            current = last_parent if named or not _QUESTION.search(clause) else None
            previous: Match | None = None
            for m in matches:
                if m.kind == "parent":
                    # "他爸他妈都在打工", "爸爸和妈妈": two parents named together share what follows.
                    together = (
                        previous is not None
                        and previous.kind == "parent"
                        and previous.value != m.value
                        and len(clause[previous.end : m.start].strip("和跟与及、还有")) == 0
                    )
                    current = last_parent = "both" if together else m.value
                    previous = m
                    continue
                previous = m
                if m.kind not in ("situation", "unclear") or current is None or _NEGATED.search(clause[: m.start]):
                    continue
                for parent in ("father", "mother") if current == "both" else (current,):
                    if m.kind == "unclear":
                        unclear.setdefault(parent, (m.value, clause))
                        continue
                    value = self._situation(m.value, clause, durations, markers)
                    if value.startswith("clarify:"):
                        unclear.setdefault(parent, (value.removeprefix("clarify:"), clause))
                    elif facts.get(parent) in ("migrant_worker", "at_home") and m.value in SPECIFIC:
                        facts[parent] = value
                    else:
                        facts.setdefault(parent, value)
        if asked and asked not in facts and pending:
            self._clarified(t, asked, pending, facts, markers)
        if asked and pending and pending.startswith("term:") and facts.get(asked) in HELD:
            facts[asked] = pending.split(":", 1)[1]  # "判了两年" answers for the measure that was asked about
        clarify = {}
        for parent, (kind, clause) in unclear.items():
            if parent in facts:
                continue
            settled = self._graded(clause) if kind == "grade" else None
            if settled:
                facts[parent] = settled
            elif kind == "term" and (months := _term_months(clause, markers)) is not None:
                facts[parent] = "detained" if months >= 6 else "detained_short"
            else:
                clarify[parent] = "term:detained" if kind == "term" else kind
        return clarify

    def _situation(self, situation: str, clause: str, durations: list[str], markers: list[str]) -> str:
        """A settled situation, refined by time said in the clause; ``clarify:<kind>`` when time is unclear."""
        if situation == "lost_contact":
            months = _months(clause)
            if (months is not None and months >= 6) or "long" in durations:
                return "lost_contact_6m"
            if months is not None or "short" in durations:
                return "lost_contact_short"
            return "clarify:how_long"
        if situation in HELD:
            term = _term_months(clause, markers)
            if term is not None:
                return situation if term >= 6 else "detained_short"
            served = _months(clause)
            if (served is not None and served >= 6) or "long" in durations:
                return situation  # served that long already: the term is at least as long
            if served is not None or "short" in durations:
                return f"clarify:term:{situation}"
        return situation

    def _graded(self, clause: str) -> str | None:
        """重残 by grade (民发〔2019〕62号): grades 1–2 of any kind, 3–4 of a mental or intellectual disability."""
        match = _GRADE.search(clause)
        if not match:
            return None
        grade = zh_number(match.group(1)) or int(match.group(1))
        if grade <= 2 or any(k in clause for k in (*_SEVERE_TYPES, "精神病")):
            return "severe_disability"
        return "other_disability" if any(k in clause for k in _OTHER_TYPES) else None

    def _clarified(self, t: str, parent: str, pending: str, facts: dict[str, Any], markers: list[str]) -> None:
        """The answer to a clarifying question about ``parent`` ("判了两年", "能联系上", "二级")."""
        if pending.startswith("term:"):
            situation = pending.split(":", 1)[1]
            months = _term_months(t, markers) or _months(t)
            if any(w in t for w in self.lex.words("clarify_answers", "term_short")) or (months or 6) < 6:
                facts[parent] = "detained_short"
            elif any(w in t for w in self.lex.words("clarify_answers", "term_long")) or months is not None:
                facts[parent] = situation
            elif self._said(t, "unknown") or any(w in t for w in self.lex.words("clarify_answers", "not_sentenced")):
                facts[parent] = UNKNOWN
        elif pending == "grade":
            graded = self._graded(t)
            if graded:
                facts[parent] = graded
            elif any(w in t for w in self.lex.words("clarify_answers", "grade_severe")):
                facts[parent] = "severe_disability"
            elif any(w in t for w in self.lex.words("clarify_answers", "grade_other")):
                facts[parent] = "other_disability"
            elif self._said(t, "unknown") or any(w in t for w in self.lex.words("clarify_answers", "no_certificate")):
                facts[parent] = UNKNOWN
        elif pending in ("reachable", "how_long"):
            months = _months(t)
            if any(w in t for w in self.lex.words("clarify_answers", "lost_short")) or (months or 6) < 6:
                facts[parent] = "lost_contact_short"
            elif any(w in t for w in self.lex.words("clarify_answers", "lost_long")) or months is not None:
                facts[parent] = "lost_contact_6m"
            elif self._said(t, "unknown"):
                facts[parent] = UNKNOWN
        elif pending == "died_or_left" and self._said(t, "unknown"):
            facts[parent] = UNKNOWN

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
        # Words about the topic decide before bare yes/no: "没人管" is a yes to "is the child neglected?",
        # "也没人欺负他" a no.
        yes = [t.find(w) for w in self.lex.words(topic, "yes") if w in t]
        if any(w in t for w in self.lex.words(topic, "no")) or (yes and all(_NEGATED.search(t[:i]) for i in yes)):
            facts[requested] = False
        elif yes:
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
        elif fact in YES_NO_FACTS:
            topic = YES_NO_FACTS[fact]
            yes = [t.find(w) for w in self.lex.words(topic, "yes") if w in t]
            if any(w in t for w in self.lex.words(topic, "no")) or (yes and all(_NEGATED.search(t[:i]) for i in yes)):
                facts[fact] = False
            elif yes:
                facts[fact] = True

    def _parent_disabled(self, t: str) -> bool:
        """ "他爸残疾" is about a parent, not the child."""
        for clause in _CLAUSE.split(t):
            kinds = [m.kind for m in self.lex.scan(clause)]
            if "parent" in kinds and "situation" in kinds:
                return True
        return False
