"""Play evaluation conversations through a running gateway's ``POST /api/chat`` and score every check."""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.evaluation.checks import check_count, failures
from bot.evaluation.sets import Conversation


@dataclass(frozen=True)
class TurnResult:
    user: str
    checks: int
    failed: tuple[str, ...]
    reply: str


@dataclass(frozen=True)
class ConversationResult:
    conversation: Conversation
    turns: tuple[TurnResult, ...]

    @property
    def checks(self) -> int:
        return sum(t.checks for t in self.turns)

    @property
    def failed(self) -> int:
        return sum(len(t.failed) for t in self.turns)

    @property
    def passed(self) -> bool:
        return self.failed == 0


@dataclass
class Score:
    results: list[ConversationResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def checks(self) -> int:
        return sum(r.checks for r in self.results)

    @property
    def checks_passed(self) -> int:
        return self.checks - sum(r.failed for r in self.results)

    @property
    def check_rate(self) -> float:
        return self.checks_passed / self.checks if self.checks else 0.0

    @property
    def conversations_passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def conversation_rate(self) -> float:
        return self.conversations_passed / len(self.results) if self.results else 0.0

    def by(self, key: Callable[[Conversation], str]) -> dict[str, tuple[int, int]]:
        """(passed, total) conversations per group."""
        groups: dict[str, list[bool]] = defaultdict(list)
        for r in self.results:
            groups[key(r.conversation)].append(r.passed)
        return {k: (sum(v), len(v)) for k, v in sorted(groups.items())}


def play(
    conversations: Iterable[Conversation],
    base_url: str,
    *,
    client: httpx.Client | None = None,
    timeout: float = 60.0,
    progress: Callable[[ConversationResult], None] | None = None,
) -> Score:
    """Each conversation gets a new sender id, so none inherits another's state."""
    run = uuid.uuid4().hex[:8]
    score = Score()
    started = time.monotonic()
    with client or httpx.Client(base_url=base_url, timeout=timeout) as http:
        for conversation in conversations:
            sender = f"eval-{run}-{conversation.id}"
            turns = []
            token: str | None = None
            for turn in conversation.turns:
                body = _chat(http, sender, turn.user, token)
                token = body.get("session_token") or token
                text = "\n".join(str(r.get("text", "")) for r in body.get("replies") or [])
                turns.append(TurnResult(turn.user, check_count(turn.expect), tuple(failures(turn.expect, body)), text))
            result = ConversationResult(conversation, tuple(turns))
            score.results.append(result)
            if progress:
                progress(result)
    score.seconds = time.monotonic() - started
    return score


def _chat(http: httpx.Client, sender: str, text: str, token: str | None) -> dict[str, Any]:
    """As the web client that owns the conversation: its session token goes back with each message."""
    headers = {"X-Session-Token": token} if token else {}
    resp = http.post("/api/chat", json={"sender_id": sender, "text": text}, headers=headers)
    if resp.status_code != 200:
        # A failed request is a failed turn, visible in the report, never a crash of the whole run.
        return {"replies": [{"text": f"<HTTP {resp.status_code}: {resp.text[:200]}>", "author": "system"}]}
    body: dict[str, Any] = resp.json()
    return body
