"""Load profile for ``python -m tools.loadtest``: families asking policy questions, answering the
screening, and (rarely) writing a crisis message. A reply must never be a 5xx or empty."""

from __future__ import annotations

import itertools
import os
import random
import uuid
from pathlib import Path

import yaml
from locust import HttpUser, between, constant, task

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = [
    q["question"] for q in yaml.safe_load((ROOT / "knowledge_base/eval/questions.yml").read_text())["questions"]
]
DANGER = [d["text"] for d in yaml.safe_load((ROOT / "tests/safety/danger_bank.yml").read_text())["danger"]][:40]
SCREENING = [
    "帮我看看孩子能享受什么保障",
    "孩子9岁",
    "他爸在坐牢",
    "他妈联系不上一年多了",
    "农村户口",
    "不是",
    "没有",
    "没有",
]
_counter = itertools.count()


# Families pause 2-4 s between messages; the ceiling phase of the load test sets 0 to find the saturation point.
_THINK = os.environ.get("TONGXIN_LOAD_THINK", "2,4")


class Family(HttpUser):
    wait_time = constant(0) if _THINK == "0" else between(*(float(x) for x in _THINK.split(",")))

    def on_start(self) -> None:
        self.sender = f"load-{next(_counter)}-{uuid.uuid4().hex[:12]}"
        self.token = ""
        self.step = 0

    def say(self, text: str, name: str) -> None:
        with self.client.post(
            "/api/chat",
            json={"sender_id": self.sender, "text": text, "client_id": uuid.uuid4().hex},
            headers={"X-Session-Token": self.token} if self.token else {},
            name=name,
            catch_response=True,
        ) as resp:
            if resp.status_code != 200:
                resp.failure(f"status {resp.status_code}")
            elif not resp.json().get("replies"):
                resp.failure("empty reply list")
            else:
                self.token = resp.json().get("session_token") or self.token
                resp.success()

    @task(6)
    def policy_question(self) -> None:
        self.say(random.choice(QUESTIONS), "policy question")

    @task(3)
    def screening(self) -> None:
        self.say(SCREENING[self.step % len(SCREENING)], "screening answer")
        self.step += 1

    @task(1)
    def crisis(self) -> None:
        self.say(random.choice(DANGER), "crisis message")
