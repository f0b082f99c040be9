"""The windowed tracker store (bot/tracker_store.py), run in Rasa's environment on a real SQLite file.

Turns are written as Rasa writes them (listen, the user's message, slots, an action, its reply, or a
form's steps); the checks compare what the window gives back with what Rasa's full replay gives.
"""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT

RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"

SCENARIO = textwrap.dedent(
    """
    import asyncio, json, sys
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import (ActionExecuted, ActiveLoop, BotUttered, SlotSet, UserUttered)
    from bot.tracker_store import WindowedSQLTrackerStore
    from channels.store.tracker_eraser import TrackerEraser

    db = sys.argv[1]
    domain = Domain.load("bot/domain")
    store = WindowedSQLTrackerStore(domain, keep_events=20, dialect="sqlite", db=db)
    out = {}

    async def turn(sid, text, events):
        tracker = await store.get_or_create_tracker(sid)
        for event in [UserUttered(text, {"name": "ask_policy", "confidence": 1.0}), *events,
                      ActionExecuted("action_listen")]:
            tracker.update(event)
        await store.save(tracker)
        return tracker

    async def main():
        sid = "web:window-check-0001"
        await turn(sid, "孩子九岁", [SlotSet("child_age", 9.0), ActionExecuted("action_answer_policy"),
                                     BotUttered("好的")])
        written = 1 + 4 + 1  # listen at creation, then the turn's events
        for i in range(40):
            extra = [SlotSet("father", "imprisoned")] if i == 20 else []
            await turn(sid, f"问题{i}", [*extra, SlotSet("last_doc_id", f"doc{i}"),
                                         ActionExecuted("action_answer_policy"), BotUttered(f"回答{i}")])
            written += 5 + len(extra)
        window = await store.retrieve(sid)
        full = await store.retrieve_full_tracker(sid)
        out["all_written"] = len(full.events) == written
        out["same_slots"] = window.current_slot_values() == full.current_slot_values()
        out["child_age"] = window.get_slot("child_age")
        out["bounded"] = len(window.events) <= 2 * 20 + 10
        out["recent_events_real"] = [e.as_dict()["event"] for e in list(window.events)[-5:]] == [
            e.as_dict()["event"] for e in list(full.events)[-5:]]

        # A form keeps the window where it is until the form has ended.
        fid = "web:window-check-form"
        await turn(fid, "开始", [ActionExecuted("eligibility_form"), ActiveLoop("eligibility_form"),
                                 SlotSet("requested_slot", "child_age")])
        for i in range(30):
            await turn(fid, f"回答{i}", [ActionExecuted("eligibility_form"), SlotSet("requested_slot", "hukou")])
        inside = await store.retrieve(fid)
        out["form_kept_whole"] = any(isinstance(e, ActiveLoop) and e.name for e in inside.events)
        out["form_active"] = inside.active_loop_name

        # Erased, then the same id again: nothing of the old conversation comes back.
        TrackerEraser(f"sqlite:///{db}").erase(sid)
        again = await turn(sid, "你好", [ActionExecuted("action_answer_policy")])
        fresh = await store.retrieve(sid)
        out["erased_forgets"] = fresh.get_slot("child_age") is None and fresh.get_slot("father") is None
        print(json.dumps(out))

    asyncio.run(main())
    """
)


@pytest.mark.slow
def test_window_gives_rasa_state_with_bounded_events(tmp_path: Path) -> None:
    if not RASA_PY.exists():
        pytest.fail("the Rasa environment is missing: run `make build`")
    done = subprocess.run(
        [str(RASA_PY), "-c", SCENARIO, str(tmp_path / "tracker.db")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "all_written": True,
        "same_slots": True,
        "child_age": 9.0,
        "bounded": True,
        "recent_events_real": True,
        "form_kept_whole": True,
        "form_active": "eligibility_form",
        "erased_forgets": True,
    }
