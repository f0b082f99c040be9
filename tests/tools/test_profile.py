"""The per-turn profile sorts py-spy's samples into named steps and leaves idle waits out."""

from __future__ import annotations

from tools.profile import STEPS, classify

RAW = "\n".join(
    [
        "main (channels/__main__.py:3);assess (channels/safety/screen.py:40);_forward (encoding/encoder.py:80) 7",
        "main (channels/__main__.py:3);assess (channels/safety/screen.py:40);check (channels/safety/crisis.py:9) 2",
        "main (channels/__main__.py:3);handle (channels/conversation.py:9);add (channels/store/store.py:50) 3",
        "main (channels/__main__.py:3);Runner.run (asyncio/runners.py:118) 40",
        "_bootstrap (threading.py:1);_worker (concurrent/futures/thread.py:81) 30",
        "main (channels/__main__.py:3);dispatch (starlette/routing.py:1) 1",
        "",
    ]
)


def test_samples_go_to_their_step_and_waits_are_left_out() -> None:
    counts = classify(RAW, STEPS["gateway"])
    assert counts == {
        "crisis screen: m3e encoder": 7,
        "crisis screen: lexicon, model, context": 2,
        "conversation store (SQL)": 3,
        "HTTP server, routing, JSON": 1,
    }


def test_every_process_has_a_step_that_takes_the_rest() -> None:
    for steps in STEPS.values():
        assert steps[-1][1] == ("",)
