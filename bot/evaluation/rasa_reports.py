"""Turn Rasa's own test reports into the sections of docs/benchmarks.md.

Rasa writes its reports as JSON (``rasa test nlu --cross-validation --out DIR`` → ``intent_report.json``
and ``<Extractor>_report.json``; ``rasa test core --out DIR`` → ``story_report.json``). This module only
reads them, so it runs in the application environment and never retrains anything::

    python -m bot.evaluation nlu-cv .build/nlu-cv --folds 5 --write
    python -m bot.evaluation core .build/rasa-test --write
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

NLU_MARKER = "nlu-cv"
CORE_MARKER = "rasa-test"
# sklearn's summary rows sit beside the per-label rows in Rasa's reports.
SUMMARY_ROWS = frozenset({"accuracy", "macro avg", "weighted avg", "micro avg"})


class ReportError(Exception):
    """A report file is missing or not what Rasa writes."""


@dataclass(frozen=True)
class LabelScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class ClassificationSummary:
    macro_f1: float
    weighted_f1: float
    accuracy: float | None
    labels: tuple[LabelScore, ...]

    @property
    def support(self) -> int:
        return sum(label.support for label in self.labels)


@dataclass(frozen=True)
class CoreSummary:
    stories: int
    failed: int
    action_accuracy: float | None


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ReportError(f"{path} not found: run Rasa's test with --out pointing at its folder first")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ReportError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ReportError(f"{path} does not hold a report object")
    return data


def summarise_classification(report: dict[str, Any]) -> ClassificationSummary:
    """Macro/weighted F1 and per-label scores of one sklearn-style report, worst label first."""
    try:
        macro = float(report["macro avg"]["f1-score"])
        weighted = float(report["weighted avg"]["f1-score"])
    except (KeyError, TypeError) as exc:
        raise ReportError(f"report has no macro/weighted averages ({exc})") from exc
    accuracy = report.get("accuracy")
    labels = tuple(
        sorted(
            (
                LabelScore(
                    label=name,
                    precision=float(row["precision"]),
                    recall=float(row["recall"]),
                    f1=float(row["f1-score"]),
                    support=int(row["support"]),
                )
                for name, row in report.items()
                if name not in SUMMARY_ROWS and isinstance(row, dict) and "f1-score" in row
            ),
            key=lambda score: (score.f1, score.label),
        )
    )
    return ClassificationSummary(
        macro_f1=macro,
        weighted_f1=weighted,
        accuracy=float(accuracy) if isinstance(accuracy, int | float) else None,
        labels=labels,
    )


def entity_reports(folder: Path) -> dict[str, ClassificationSummary]:
    """One summary per entity extractor whose report Rasa wrote (``DIETClassifier_report.json``, …)."""
    found: dict[str, ClassificationSummary] = {}
    for path in sorted(folder.glob("*_report.json")):
        extractor = path.name.removesuffix("_report.json")
        if extractor in {"intent", "response_selection", "story"}:
            continue
        report = _read_json(path)
        # Rasa's entity reports carry a "no_entity" row that would swamp every average.
        report.pop("no_entity", None)
        found[extractor] = summarise_classification(report)
    return found


def summarise_core(folder: Path) -> CoreSummary:
    report = _read_json(folder / "story_report.json")
    conversation = report.get("conversation_accuracy")
    if not isinstance(conversation, dict) or not conversation.get("total"):
        raise ReportError(f"{folder / 'story_report.json'} has no conversation_accuracy")
    accuracy = report.get("accuracy")
    return CoreSummary(
        stories=int(conversation["total"]),
        failed=int(conversation["total"]) - int(conversation.get("correct", 0)),
        action_accuracy=float(accuracy) if isinstance(accuracy, int | float) else None,
    )


def pipeline_names(config: Path) -> list[str]:
    """The NLU components of a Rasa config, by their short names, in order."""
    raw = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    return [str(step.get("name", "?")).rsplit(".", 1)[-1] for step in raw.get("pipeline") or []]


def nlu_markdown(
    intents: ClassificationSummary,
    entities: dict[str, ClassificationSummary],
    folds: int,
    pipeline: list[str] | None = None,
) -> str:
    lines = [
        f"## NLU cross-validation ({folds} folds)",
        "",
        f"Intents and entities of `bot/data/` predicted by models trained on the other {folds - 1} folds "
        "(`config.yml` pipeline; the test folds' predictions pooled).",
        "",
    ]
    if pipeline:
        lines += [f"Pipeline: {' → '.join(pipeline)}.", ""]
    lines += [
        "| metric | value |",
        "| --- | --- |",
        f"| intent macro-F1 | **{intents.macro_f1:.3f}** |",
        f"| intent weighted-F1 | {intents.weighted_f1:.3f} |",
    ]
    if intents.accuracy is not None:
        lines.append(f"| intent accuracy | {intents.accuracy:.3f} |")
    lines.append(f"| intent examples | {intents.support} |")
    for extractor, summary in entities.items():
        lines.append(f"| entity macro-F1 ({extractor}) | {summary.macro_f1:.3f} |")
        lines.append(f"| entity weighted-F1 ({extractor}) | {summary.weighted_f1:.3f} |")
    lines += [
        "",
        "Weakest intents:",
        "",
        "| intent | precision | recall | F1 | examples |",
        "| --- | --- | --- | --- | --- |",
    ]
    for score in intents.labels[:5]:
        lines.append(
            f"| {score.label} | {score.precision:.3f} | {score.recall:.3f} | {score.f1:.3f} | {score.support} |"
        )
    lines += [
        "",
        "Reproduce from the repository root (about half an hour on 2 cores):",
        "",
        "```",
        "make nlu-cv",
        "```",
    ]
    return "\n".join(lines)


def core_markdown(summary: CoreSummary) -> str:
    passed = summary.stories - summary.failed
    lines = [
        "## Dialogue test conversations",
        "",
        "`bot/tests/test_stories.yml` through the trained model (`rasa test core`, part of `make test`, which fails on "
        "any wrong prediction).",
        "",
        "| metric | value |",
        "| --- | --- |",
        f"| conversations passed | {passed}/{summary.stories} |",
    ]
    if summary.action_accuracy is not None:
        lines.append(f"| action accuracy | {summary.action_accuracy:.3f} |")
    lines += ["", "```", "make test   # or: .venv-rasa/bin/rasa test core --stories bot/tests/test_stories.yml", "```"]
    return "\n".join(lines)
