"""``python -m tools.gateway_bench [--write]``: /api/chat round trips at 1, 8 and 32 concurrent users against the
real stack, and the same requests sent to Rasa's REST webhook directly; the gateway's overhead is the ratio.

It starts its own stack (action server, Rasa, gateway) on free ports unless ``--gateway``/``--rasa`` point
at a running one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from knowledge_base import KB_ROOT
from tools.docs import BENCHMARKS, replace_section
from tools.stack import Stack


def questions() -> list[str]:
    data = yaml.safe_load((KB_ROOT / "eval" / "questions.yml").read_text(encoding="utf-8"))
    return [q["question"] for q in data["questions"]]


def pct(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 1),
    }


async def _user(client: httpx.AsyncClient, target: str, user: str, texts: list[str], out: list[float]) -> int:
    errors = 0
    token = ""
    for text in texts:
        started = time.perf_counter()
        if target == "gateway":
            headers = {"X-Session-Token": token} if token else {}
            resp = await client.post("/api/chat", json={"sender_id": user, "text": text}, headers=headers)
            ok = resp.status_code == 200 and bool(resp.json().get("replies"))
            token = resp.json().get("session_token") or token if ok else token
        else:
            resp = await client.post("/webhooks/rest/webhook", json={"sender": f"web:{user}", "message": text})
            ok = resp.status_code == 200
        out.append((time.perf_counter() - started) * 1000)
        errors += not ok
    return errors


async def measure(base_url: str, target: str, users: int, per_user: int, pool: list[str], tag: str) -> dict[str, Any]:
    samples: list[float] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
        started = time.perf_counter()
        errors = await asyncio.gather(
            *[
                _user(
                    client,
                    target,
                    f"bench-{tag}-{target}-{users}-{u}",
                    [pool[(u * per_user + i) % len(pool)] for i in range(per_user)],
                    samples,
                )
                for u in range(users)
            ]
        )
        wall = time.perf_counter() - started
    return {
        "target": target,
        "users": users,
        "requests": len(samples),
        "errors": sum(errors),
        "throughput_rps": round(len(samples) / wall, 2),
        **pct(samples),
    }


async def long_conversation(base_url: str, turns: int, pool: list[str]) -> dict[str, Any]:
    """One conversation of ``turns`` policy questions: does a late turn cost more than an early one?

    The same ten questions come round again and again, so the first ten turns and the last ten ask the same."""
    samples: list[float] = []
    sender = f"bench-long-{int(time.time())}-{turns:04d}"
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
        await _user(client, "gateway", sender, [pool[i % 10] for i in range(turns)], samples)
    early, late = statistics.median(samples[:10]), statistics.median(samples[-10:])
    return {
        "turns": turns,
        "early_ms": round(early, 1),
        "middle_ms": round(statistics.median(samples[turns // 2 - 5 : turns // 2 + 5]), 1),
        "late_ms": round(late, 1),
        "late_over_early": round(late / early, 2),
    }


async def run(gateway: str, rasa: str, levels: list[int], per_user: int, long_turns: int = 0) -> dict[str, Any]:
    pool = questions()
    rows = []
    for users in levels:
        # Warm both paths, then measure Rasa directly and through the gateway with the same questions.
        await measure(rasa, "rasa", 1, 3, pool, "warm")
        await measure(gateway, "gateway", 1, 3, pool, "warm")
        direct = await measure(rasa, "rasa", users, per_user, pool, "run")
        through = await measure(gateway, "gateway", users, per_user, pool, "run")
        overhead = through["p50_ms"] / direct["p50_ms"] - 1 if direct["p50_ms"] else 0.0
        rows.append({"users": users, "rasa": direct, "gateway": through, "overhead_p50": round(overhead, 3)})
    report: dict[str, Any] = {"per_user": per_user, "levels": rows}
    if long_turns:
        report["long"] = await long_conversation(gateway, long_turns, pool)
    return report


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"Each virtual user sends {report['per_user']} policy questions from the evaluation set, one after another; "
        "the same questions go once through the gateway (`POST /api/chat`: store, crisis screen, Rasa, actions, "
        "retrieval) and once to Rasa's REST webhook directly.",
        "",
        "| users | Rasa direct p50 / p95 (ms) | gateway p50 / p95 (ms) | gateway overhead at p50 "
        "| gateway req/s | errors |",
        "|---|---|---|---|---|---|",
    ]
    for row in report["levels"]:
        r, g = row["rasa"], row["gateway"]
        lines.append(
            f"| {row['users']} | {r['p50_ms']} / {r['p95_ms']} | {g['p50_ms']} / {g['p95_ms']} | "
            f"{row['overhead_p50']:+.1%} | {g['throughput_rps']} | {g['errors'] + r['errors']} |"
        )
    if "long" in report:
        long = report["long"]
        n = long["turns"]
        lines += [
            "",
            f"One conversation of {n} turns through the gateway, median latency of ten turns: turns 1–10 "
            f"**{long['early_ms']} ms**, turns {n // 2 - 4}–{n // 2 + 5} {long['middle_ms']} ms, turns {n - 9}–{n} "
            f"**{long['late_ms']} ms** ({long['late_over_early']}× the first ten).",
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.gateway_bench")
    parser.add_argument("--gateway", help="URL of a running gateway (default: start a stack)")
    parser.add_argument("--rasa", help="URL of the running Rasa server")
    parser.add_argument("--levels", default="1,8,32")
    parser.add_argument("--per-user", type=int, default=8)
    parser.add_argument("--long", type=int, default=0, help="also one conversation of this many turns (0: none)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",")]
    stack = None
    if not args.gateway:
        # Benchmark users send quickly: lift the per-sender rate limit for the run.
        stack = Stack(
            Path(tempfile.mkdtemp(prefix="tongxin-bench-")),
            extra_env={"TONGXIN_RATE_BURST": "10000", "TONGXIN_RATE_PER_SECOND": "1000"},
        )
        stack.start()
    gateway = args.gateway or (stack.gateway if stack else "")
    rasa = args.rasa or (stack.rasa_url if stack else "")
    try:
        report = asyncio.run(run(gateway, rasa, levels, args.per_user, args.long))
    finally:
        if stack:
            stack.stop_all()
    print(json.dumps(report, indent=1) if args.json else markdown(report))
    if args.write:
        replace_section(
            BENCHMARKS,
            "channels-bench",
            "## Gateway overhead\n\n"
            + markdown(report)
            + f"\n\nCommand: `.venv/bin/python -m tools.gateway_bench --levels {args.levels} "
            f"--per-user {args.per_user}" + (f" --long {args.long}" if args.long else "") + " --write`",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
