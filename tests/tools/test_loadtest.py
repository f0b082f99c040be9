from pathlib import Path

import pytest

from tools import loadtest


def _phase(users: int, think: str, rps: float, failures: int = 0) -> dict[str, object]:
    total = {"name": "Aggregated", "requests": 100, "failures": failures, "p50_ms": 120.0, "p95_ms": 480.0, "rps": rps}
    return {
        "users": users,
        "duration": "2m",
        "think": think,
        "by_kind": [{**total, "name": "policy question"}],
        "total": total,
        "failure_kinds": [],
        "server_errors": 0,
    }


def test_markdown_reports_the_bounded_run_and_the_ceiling() -> None:
    report = {**_phase(50, "2,4", 14.2), "ceiling": _phase(32, "0", 21.5)}
    text = loadtest.markdown(report)
    assert "| Aggregated | 100 | 0 | 120 | 480 | 14.2 |" in text
    assert "**21.5 messages/s**" in text


def test_markdown_without_ceiling_has_no_ceiling_line() -> None:
    assert "ceiling" not in loadtest.markdown(_phase(50, "2,4", 14.2))


def test_missing_locust_output_is_explained(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"(?s)locust wrote no load_stats\.csv.*ImportError"):
        loadtest._read_csv(tmp_path / "load_stats.csv", "Traceback ...\nImportError: no locust")
