"""The case summary a hotline worker sees first: who, where, the child, answers so far, last exchanges."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from bot.eligibility.facts import FACT_NAMES

SUMMARY_SLOTS = ("role", "county", *FACT_NAMES, "last_doc_id")


def last_exchanges(events: list[dict[str, Any]], limit: int = 6) -> list[dict[str, str]]:
    out = [
        {"from": "user" if e["event"] == "user" else "bot", "text": e.get("text") or ""}
        for e in events
        if e.get("event") in ("user", "bot") and e.get("text")
    ]
    return out[-limit:]


def case_summary(tracker: Tracker, **extra: Any) -> dict[str, Any]:
    slots = {name: tracker.get_slot(name) for name in SUMMARY_SLOTS if tracker.get_slot(name) is not None}
    return {"slots": slots, "last_exchanges": last_exchanges(list(tracker.events)), **extra}
