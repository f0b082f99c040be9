from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from bot.actions.handoff import ActionRequestHandoff
from tests.bot.conftest import tracker


async def test_handoff_signal_carries_reason_and_case_summary() -> None:
    events = [
        {"event": "user", "text": "孩子爸爸坐牢了"},
        {"event": "bot", "text": "……"},
        {"event": "user", "text": "转人工"},
    ]
    dispatcher = CollectingDispatcher()
    assert (
        await ActionRequestHandoff().run(
            dispatcher, tracker("转人工", slots={"child_age": 9, "county": "秭归县"}, events=events), {}
        )
        == []
    )
    [message] = dispatcher.messages
    assert message["response"] == "utter_handoff_requested"
    handoff = message["custom"]["handoff"]
    assert handoff["reason"] == "user_request" and handoff["priority"] == "normal"
    assert handoff["summary"]["slots"] == {"child_age": 9, "county": "秭归县"}
    assert handoff["summary"]["last_exchanges"][0] == {"from": "user", "text": "孩子爸爸坐牢了"}
