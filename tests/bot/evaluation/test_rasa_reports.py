import json
from pathlib import Path

import pytest

from bot.evaluation import __main__ as cli
from bot.evaluation import rasa_reports as evaluation

INTENT_REPORT = {
    "greet": {"precision": 1.0, "recall": 0.9, "f1-score": 0.947, "support": 10},
    "ask_policy": {"precision": 0.8, "recall": 1.0, "f1-score": 0.889, "support": 8},
    "accuracy": 0.944,
    "macro avg": {"precision": 0.9, "recall": 0.95, "f1-score": 0.918, "support": 18},
    "weighted avg": {"precision": 0.91, "recall": 0.944, "f1-score": 0.921, "support": 18},
}
ENTITY_REPORT = {
    "user_role": {"precision": 1.0, "recall": 0.5, "f1-score": 0.667, "support": 4},
    "no_entity": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 900},
    "macro avg": {"precision": 1.0, "recall": 0.5, "f1-score": 0.667, "support": 4},
    "weighted avg": {"precision": 1.0, "recall": 0.5, "f1-score": 0.667, "support": 4},
}


def _write(folder: Path, name: str, data: object) -> None:
    (folder / name).write_text(json.dumps(data), encoding="utf-8")


def test_classification_summary_reads_averages_and_sorts_worst_label_first() -> None:
    summary = evaluation.summarise_classification(INTENT_REPORT)
    assert summary.macro_f1 == pytest.approx(0.918)
    assert summary.accuracy == pytest.approx(0.944)
    assert [score.label for score in summary.labels] == ["ask_policy", "greet"]
    assert summary.support == 18


def test_entity_reports_drop_no_entity_and_skip_intent_report(tmp_path: Path) -> None:
    _write(tmp_path, "intent_report.json", INTENT_REPORT)
    _write(tmp_path, "DIETClassifier_report.json", ENTITY_REPORT)
    reports = evaluation.entity_reports(tmp_path)
    assert list(reports) == ["DIETClassifier"]
    assert [score.label for score in reports["DIETClassifier"].labels] == ["user_role"]


def test_nlu_cv_writes_marked_section(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, "intent_report.json", INTENT_REPORT)
    _write(tmp_path, "DIETClassifier_report.json", ENTITY_REPORT)
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n\n<!-- nlu-cv:start -->\nSTALE\n<!-- nlu-cv:end -->\n\ntail\n", encoding="utf-8")
    monkeypatch.setattr(cli, "BENCHMARKS", docs)
    config = tmp_path / "config.yml"
    config.write_text("pipeline:\n  - name: JiebaTokenizer\n  - name: bot.nlu.classifier.LinearIntentClassifier\n")
    assert cli.main(["nlu-cv", str(tmp_path), "--folds", "5", "--config", str(config), "--write"]) == 0
    text = docs.read_text(encoding="utf-8")
    assert "STALE" not in text and text.endswith("tail\n")
    assert "| intent macro-F1 | **0.918** |" in text
    assert "| entity macro-F1 (DIETClassifier) | 0.667 |" in text
    assert "Pipeline: JiebaTokenizer → LinearIntentClassifier." in text


def test_core_summary_counts_failed_conversations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(
        tmp_path,
        "story_report.json",
        {**INTENT_REPORT, "conversation_accuracy": {"accuracy": 0.9, "correct": 36, "with_warnings": 0, "total": 40}},
    )
    assert cli.main(["core", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"stories": 40, "failed": 4, "action_accuracy": 0.944}


@pytest.mark.parametrize("content", [None, "not json", json.dumps({"accuracy": 1.0})])
def test_missing_or_broken_report_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None
) -> None:
    if content is not None:
        (tmp_path / "story_report.json").write_text(content, encoding="utf-8")
    assert cli.main(["core", str(tmp_path)]) == 2
    assert "story_report.json" in capsys.readouterr().err
