"""``python -m tools.profile [--write]``: where a turn's CPU goes, process by process, under load.

Virtual users send policy questions from the evaluation set through ``/api/chat`` without pausing
while ``py-spy`` samples the gateway, the Rasa server and the action server. Each process's CPU time
over the window (from ``/proc``) divided by the turns completed is its cost per turn; its samples,
sorted into the named steps below (idle waits left out), divide that cost. It starts its own stack
unless ``--gateway`` and ``--pids`` point at a running one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from tools.docs import BENCHMARKS, replace_section
from tools.gateway_bench import questions
from tools.stack import Stack, rss_mb

PY_SPY = Path(sys.executable).parent / "py-spy"

# Leaf frames where a thread waits (event loops, worker pools, locks): not CPU.
IDLE_LEAVES = re.compile(
    r"^((Runner\.)?run \(asyncio/runners|(BaseEventLoop\.)?(run_forever|_run_once) \(asyncio/base_events|"
    r"serve \(sanic/server/runners|_run_server_forever \(sanic/|_worker \(concurrent/futures/thread|"
    r"(Condition\.|Event\.)?wait \(threading|_wait_for_tstate_lock \(threading|(Queue\.)?get \(queue|"
    r"(\w+Selector\.)?select \(selectors)"
)

# Per process: (step, patterns that must all occur in the sample's stack), first match wins.
STEPS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "gateway": [
        ("crisis screen: m3e encoder", ("channels/safety/", "encoding/encoder.py")),
        ("crisis screen: lexicon, model, context", ("channels/safety/",)),
        ("conversation store (SQL)", ("channels/store/",)),
        ("Rasa client", ("channels/rasa_client.py",)),
        ("conversation service (rest)", ("channels/conversation.py",)),
        ("HTTP server, routing, JSON", ("",)),
    ],
    "rasa": [
        ("tracker store: read", ("get_tracker ",)),
        ("tracker store: write", ("save_tracker ",)),
        ("NLU: normaliser", ("bot/nlu/normalizer.py",)),
        ("NLU: jieba tokenizer", ("jieba_tokenizer.py",)),
        ("NLU: regex + lexical featurizers", ("_featurizer.py", "parse_message")),
        ("NLU: count vectors", ("count_vectors_featurizer.py",)),
        ("NLU: m3e encoder", ("bot/nlu/featurizer.py",)),
        ("NLU: intent classifier", ("bot/nlu/classifier.py",)),
        ("NLU: graph and other", ("parse_message",)),
        ("policies: memoization", ("memoization.py",)),
        ("policies: rules", ("rule_policy.py",)),
        ("policies: featurising, ensemble", ("_predict_next_with_tracker",)),
        ("action call: response check", ("_validate_action_result",)),
        ("action call: HTTP, events, replies", ("rasa/core/actions/action.py",)),
        # py-spy cuts very deep stacks at the root: jsonschema's recursion only runs in the response check,
        # and Rasa's recursive subclass lookup only when events are read back from JSON.
        ("action call: response check", ("jsonschema/",)),
        ("events read back from JSON (stack cut short)", ("all_subclasses",)),
        ("other (HTTP server, processor)", ("",)),
    ],
    "actions": [
        ("retrieval: m3e encoder", ("retrieval/", "encoding/encoder.py")),
        ("text normalisation (script, dialect)", ("textnorm/",)),
        ("retrieval: search and ranking", ("retrieval/",)),
        ("fact reader", ("bot/eligibility/",)),
        ("answer composing", ("bot/dialogue/",)),
        ("request parsing", ("load_json",)),
        ("other (HTTP server, SDK, actions)", ("",)),
    ],
}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def classify(raw: str, steps: list[tuple[str, tuple[str, ...]]]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in raw.splitlines():
        if not line.strip():
            continue
        stack, _, n = line.rpartition(" ")
        frames = [re.sub(r":\d+\)$", ")", f) for f in stack.split(";")]
        if not frames or IDLE_LEAVES.match(frames[-1]):
            continue
        joined = ";".join(frames)
        name = next(step for step, needles in steps if all(needle in joined for needle in needles))
        counts[name] += int(n)
    return counts


async def _user(
    client: httpx.AsyncClient, sender: str, pool: list[str], done: list[float], stop: asyncio.Event
) -> None:
    token, i = "", 0
    while not stop.is_set():
        headers = {"X-Session-Token": token} if token else {}
        resp = await client.post("/api/chat", json={"sender_id": sender, "text": pool[i % len(pool)]}, headers=headers)
        if resp.status_code == 200:
            token = resp.json().get("session_token") or token
        done.append(time.monotonic())
        i += 1


async def profile(gateway: str, pids: dict[str, int], users: int, seconds: float, rate: int) -> dict[str, Any]:
    pool, stop = questions(), asyncio.Event()
    done: list[float] = []
    out = Path(tempfile.mkdtemp(prefix="tongxin-profile-"))
    async with httpx.AsyncClient(base_url=gateway, timeout=120) as client:
        tag = f"{int(time.time())}"
        tasks = [
            asyncio.create_task(_user(client, f"profile-{tag}-user-{u:04d}", pool[u * 7 :] + pool[: u * 7], done, stop))
            for u in range(users)
        ]
        await asyncio.sleep(5)  # past the first turns of every conversation
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        started = time.monotonic()
        spies = {
            name: await asyncio.create_subprocess_exec(
                str(PY_SPY),
                "record",
                "--nonblocking",
                "--rate",
                str(rate),
                "--duration",
                str(int(seconds)),
                "--format",
                "raw",
                "-o",
                str(out / f"{name}.txt"),
                "--pid",
                str(pid),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for name, pid in pids.items()
        }
        await asyncio.sleep(seconds)
        turns = sum(1 for t in done if t >= started)
        cpu_after = {name: cpu_seconds(pid) for name, pid in pids.items()}
        elapsed = time.monotonic() - started
        stop.set()
        await asyncio.gather(*tasks)
        for spy in spies.values():
            await spy.wait()
    report: dict[str, Any] = {
        "users": users,
        "seconds": round(elapsed, 1),
        "turns": turns,
        "turns_per_s": round(turns / elapsed, 2),
        "processes": {},
    }
    for name, pid in pids.items():
        ms_per_turn = (cpu_after[name] - cpu_before[name]) * 1000 / max(turns, 1)
        counts = classify((out / f"{name}.txt").read_text(), STEPS[name])
        total = sum(counts.values()) or 1
        report["processes"][name] = {
            "cpu_ms_per_turn": round(ms_per_turn, 1),
            "rss_mb": round(rss_mb(pid)),
            "steps": {step: round(ms_per_turn * counts[step] / total, 1) for step, _ in STEPS[name]},
        }
    return report


def markdown(report: dict[str, Any], label: str) -> str:
    procs = report["processes"]
    lines = [
        f"### {label}",
        "",
        f"{report['users']} users sending without pause for {report['seconds']} s: {report['turns']} turns "
        f"({report['turns_per_s']}/s while sampled). CPU per turn: "
        + ", ".join(f"{n} {p['cpu_ms_per_turn']} ms" for n, p in procs.items())
        + f"; in all **{round(sum(p['cpu_ms_per_turn'] for p in procs.values()), 1)} ms**.",
        "",
        "Resident memory after the run: "
        + ", ".join(f"{n} {p['rss_mb']} MB" for n, p in procs.items())
        + f"; together **{sum(p['rss_mb'] for p in procs.values())} MB**.",
        "",
        "| process | step | CPU ms per turn |",
        "|---|---|---|",
    ]
    for name, p in procs.items():
        lines += [f"| {name} | {step} | {ms} |" for step, ms in p["steps"].items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.profile")
    parser.add_argument("--gateway", help="URL of a running gateway (default: start a stack)")
    parser.add_argument("--pids", help="gateway=PID,rasa=PID,actions=PID of the running stack")
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rate", type=int, default=100, help="samples per second per process")
    parser.add_argument("--label", default="per-turn breakdown")
    parser.add_argument("--section", default="turn-profile", help="section of docs/benchmarks.md to write")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    if not PY_SPY.exists():
        parser.error(f"py-spy is not installed in {PY_SPY.parent} (make setup installs it)")
    stack = None
    if args.gateway:
        if not args.pids:
            parser.error("--gateway needs --pids")
        gateway = args.gateway
        pids = {k: int(v) for k, v in (item.split("=") for item in args.pids.split(","))}
    else:
        stack = Stack(
            Path(tempfile.mkdtemp(prefix="tongxin-profile-stack-")),
            extra_env={"TONGXIN_RATE_BURST": "10000", "TONGXIN_RATE_PER_SECOND": "1000"},
        )
        stack.start()
        gateway = stack.gateway
        pids = {
            "gateway": stack.procs["gateway"].pid,
            "rasa": stack.procs["rasa"].pid,
            "actions": stack.procs["actions"].pid,
        }
    try:
        report = asyncio.run(profile(gateway, pids, args.users, args.seconds, args.rate))
    finally:
        if stack:
            stack.stop_all()
    text = markdown(report, args.label)
    print(json.dumps(report, indent=1, ensure_ascii=False) if args.json else text)
    if args.write:
        command = f".venv/bin/python -m tools.profile --users {args.users} --seconds {args.seconds:g} --write"
        replace_section(BENCHMARKS, args.section, text + f"\n\n```\n{command}\n```")
    return 0


if __name__ == "__main__":
    sys.exit(main())
