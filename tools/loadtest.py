"""``python -m tools.loadtest [--users 50 --duration 2m] [--url URL --label NAME] [--write]``: a load test.

Starts its own stack on free ports (or, with ``--url``, uses a running one such as ``make run-scale``), runs
locust headless (tests/load/locustfile.py) with fixed users and duration, and reports requests, failures, 5xx,
p50/p95 and throughput; then, on the same stack, users who never pause, which measures the throughput ceiling
of the machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tools.docs import BENCHMARKS, replace_section
from tools.stack import ROOT, Stack


def _read_csv(path: Path, locust_stderr: str) -> list[dict[str, str]]:
    if not path.is_file():
        raise RuntimeError(f"locust wrote no {path.name}; its last output:\n{locust_stderr[-2000:]}")
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _locust(
    host: str, workdir: Path, name: str, users: int, duration: str, spawn_rate: int, think: str
) -> dict[str, Any]:
    prefix = workdir / name
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(ROOT / "tests" / "load" / "locustfile.py"),
            "--headless",
            "-u",
            str(users),
            "-r",
            str(spawn_rate),
            "-t",
            duration,
            "--host",
            host,
            "--csv",
            str(prefix),
            "--only-summary",
        ],
        cwd=ROOT,
        env={**os.environ, "TONGXIN_LOAD_THINK": think},
        check=False,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    rows = _read_csv(Path(f"{prefix}_stats.csv"), done.stderr)
    failures = _read_csv(Path(f"{prefix}_failures.csv"), done.stderr)
    out: dict[str, Any] = {"users": users, "duration": duration, "think": think, "by_kind": []}
    for row in rows:
        entry = {
            "name": row["Name"],
            "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "p50_ms": float(row["50%"]),
            "p95_ms": float(row["95%"]),
            "rps": round(float(row["Requests/s"]), 2),
        }
        if row["Name"] == "Aggregated":
            out["total"] = entry
        else:
            out["by_kind"].append(entry)
    out["failure_kinds"] = [
        {"name": f["Name"], "error": f["Error"], "occurrences": int(f["Occurrences"])} for f in failures
    ]
    out["server_errors"] = sum(f["occurrences"] for f in out["failure_kinds"] if "status 5" in f["error"])
    return out


def run(
    users: int, duration: str, spawn_rate: int, ceiling_users: int, ceiling_duration: str, url: str | None = None
) -> dict[str, Any]:
    """The bounded test with families' pauses, then (same stack) the ceiling: users who never pause."""
    workdir = Path(tempfile.mkdtemp(prefix="tongxin-load-"))
    stack = None if url else Stack(workdir)
    if stack is not None:
        stack.start()
        url = stack.gateway
    host = str(url)
    try:
        report = _locust(host, workdir, "load", users, duration, spawn_rate, "2,4")
        if ceiling_users:
            report["ceiling"] = _locust(host, workdir, "ceiling", ceiling_users, ceiling_duration, ceiling_users, "0")
        if stack is not None:
            report["memory_mb"] = stack.memory_mb()
    finally:
        if stack is not None:
            stack.stop_all()
    return report


def markdown(report: dict[str, Any]) -> str:
    total = report["total"]
    lines = [
        f"{report['users']} concurrent users for {report['duration']} on loopback (locust headless, users wait 2–4 s "
        "between messages; 60% policy questions, 30% screening answers, 10% crisis messages), against the full stack.",
        "",
        "| kind | requests | failures | p50 (ms) | p95 (ms) | req/s |",
        "|---|---|---|---|---|---|",
    ]
    for row in [*report["by_kind"], total]:
        lines.append(
            f"| {row['name']} | {row['requests']} | {row['failures']} | {row['p50_ms']:.0f} | "
            f"{row['p95_ms']:.0f} | {row['rps']} |"
        )
    lines += [
        "",
        f"- 5xx responses: **{report['server_errors']}**; failures of any kind (non-200 or empty reply): "
        f"**{total['failures']}**",
    ]
    for f in report["failure_kinds"]:
        lines.append(f"  - {f['name']}: {f['error']} × {f['occurrences']}")
    ceiling = report.get("ceiling")
    if ceiling:
        top = ceiling["total"]
        lines += [
            "",
            f"Throughput ceiling: {ceiling['users']} users who send their next message as soon as the reply arrives "
            f"(no pause), for {ceiling['duration']}, same mix and stack: **{top['rps']} messages/s**, "
            f"p50 {top['p50_ms']:.0f} ms, p95 {top['p95_ms']:.0f} ms, {top['failures']} failures, "
            f"{ceiling['server_errors']} 5xx. On 2 cores the processes (Rasa, action server with retrieval, gateway) "
            "share the CPU, so this is the machine's limit, not the gateway's.",
        ]
    memory = report.get("memory_mb")
    if memory:
        lines += [
            "",
            "Resident memory after the test: "
            + ", ".join(f"{name} {mb} MB" for name, mb in memory.items())
            + f"; together **{sum(memory.values())} MB**.",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.loadtest")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", default="2m")
    parser.add_argument("--spawn-rate", type=int, default=10)
    parser.add_argument("--ceiling-users", type=int, default=32, help="users without pauses afterwards (0: skip)")
    parser.add_argument("--ceiling-duration", default="45s")
    parser.add_argument("--url", help="a running gateway (e.g. make run-scale) instead of a stack of its own")
    parser.add_argument("--label", default="", help="with --write: the section's name (load-test-<label>)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    report = run(args.users, args.duration, args.spawn_rate, args.ceiling_users, args.ceiling_duration, args.url)
    print(json.dumps(report, indent=1, ensure_ascii=False) if args.json else markdown(report))
    if args.write:
        marker = "load-test" + (f"-{args.label}" if args.label else "")
        title = "## Load test" + (f" ({args.label})" if args.label else "")
        target = f" --url {args.url}" if args.url else ""
        label = f" --label {args.label}" if args.label else ""
        replace_section(
            BENCHMARKS,
            marker,
            f"{title}\n\n" + markdown(report) + f"\n\nCommand: `.venv/bin/python -m tools.loadtest "
            f"--users {args.users} --duration {args.duration} --ceiling-users {args.ceiling_users} "
            f"--ceiling-duration {args.ceiling_duration}{target}{label} --write`",
        )
    phases = [report, *([report["ceiling"]] if "ceiling" in report else [])]
    return 0 if all(p["server_errors"] == 0 and p["total"]["failures"] == 0 for p in phases) else 1


if __name__ == "__main__":
    sys.exit(main())
