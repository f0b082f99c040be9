"""The fact table: every number, age, time limit and condition the corpus states, with its source.

Claims live in ``knowledge_base/claims/*.yml``. The rule, checked by ``python -m knowledge_base validate``:
every number written with a unit in a document (title, summary, body) is among the ``values`` of a claim
that lists that document, and every value of a claim occurs in each document it lists. So a number can
enter the corpus only with its source, and the table in ``docs/knowledge_base.md`` (``python -m
knowledge_base facts --write``) is complete by construction.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from knowledge_base.schema import ID_RE, PolicyDocument

# Longer units first, so that "15个工作日" is read whole and not as "15个".
UNITS: tuple[str, ...] = (
    *("万余元", "个工作日", "工作日", "小时", "余名", "个月", "周岁", "万元"),
    *"岁日天年级名个所万元%户人次周种类项条家",
)
_NUMBER = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)(" + "|".join(map(re.escape, UNITS)) + ")")


class Claim(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    id: Annotated[str, Field(pattern=ID_RE)]
    claim: Annotated[str, Field(min_length=4)]
    values: Annotated[tuple[Annotated[str, Field(min_length=1)], ...], Field(min_length=1)]
    source: Annotated[str, Field(min_length=2)]
    docs: Annotated[tuple[str, ...], Field(min_length=1)]


class ClaimFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    claims: tuple[Claim, ...]


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def numbers(text: str) -> set[str]:
    """Numbers with a unit ("16周岁", "15个工作日", "377万余元"); four-digit years are dates, not facts."""
    out = set()
    for match in _NUMBER.finditer(fold(text)):
        number, unit = match.groups()
        if unit == "年" and len(number) == 4:
            continue
        out.add(number + unit)
    return out


def document_text(doc: PolicyDocument) -> str:
    return fold(f"{doc.meta.title}\n{doc.meta.summary}\n{doc.body}")


def load_claims(folder: Path, problems: list[str]) -> list[Claim]:
    claims: list[Claim] = []
    for path in sorted(folder.glob("*.yml")):
        try:
            claims += ClaimFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))).claims
        except ValidationError as exc:
            problems += [f"{path}: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        except yaml.YAMLError as exc:
            problems.append(f"{path}: not valid YAML: {exc}")
    return claims


def check_claims(claims: list[Claim], documents: tuple[PolicyDocument, ...], where: Path) -> list[str]:
    problems = [f"{where}: claim id {i!r} is used {n} times" for i, n in Counter(c.id for c in claims).items() if n > 1]
    texts = {d.meta.id: document_text(d) for d in documents}
    covered: dict[str, set[str]] = {d: set() for d in texts}
    for claim in claims:
        for doc_id in claim.docs:
            if doc_id not in texts:
                problems.append(f"{where}: {claim.id}: unknown document {doc_id!r}")
                continue
            for value in claim.values:
                if fold(value) not in texts[doc_id]:
                    problems.append(f"{where}: {claim.id}: {value!r} does not occur in {doc_id}")
                covered[doc_id] |= numbers(value) | {fold(value)}
    for doc_id, text in texts.items():
        for number in sorted(numbers(text) - covered[doc_id]):
            problems.append(f"{where}: {doc_id} states {number!r} but no claim listing {doc_id} gives its source")
    return problems


def fact_table(claims: list[Claim]) -> str:
    lines = [
        "## Fact table",
        "",
        "Every number, age, time limit and condition in the corpus, with the document and clause it comes from",
        "(`knowledge_base/claims/*.yml`; `python -m knowledge_base validate` checks that every number written in a",
        "document is here, and that every value here is in the documents listed).",
        "",
        "| claim | values | source | documents |",
        "|---|---|---|---|",
    ]
    for c in claims:
        values = "、".join(c.values).replace("|", "\\|")
        lines.append(f"| {c.claim} | {values} | {c.source} | {', '.join(c.docs)} |")
    lines += ["", "Command: `.venv/bin/python -m knowledge_base facts --write`"]
    return "\n".join(lines)
