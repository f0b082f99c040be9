"""The Rasa entry point checks action responses with one validator built once, with Rasa's verdicts."""

from __future__ import annotations

import json
import subprocess
import textwrap

import pytest

from tests.conftest import ROOT

RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction
    from bot.rasa_server import install

    install()
    action = RemoteAction("action_answer", None)
    out = {}
    good = {"events": [{"event": "slot", "name": "role", "value": "guardian"}],
            "responses": [{"response": "utter_greet"}]}
    out["good"] = action._validate_action_result(good)
    for name, bad in {"events_not_a_list": {"events": {"event": "slot"}},
                      "unknown_event": {"events": [{"event": "no_such_event"}]}}.items():
        try:
            action._validate_action_result(bad)
            out[name] = "accepted"
        except ValidationError as e:
            out[name] = "Failed to validate Action server response" in e.message
    print(json.dumps(out))
    """
)


@pytest.mark.slow
def test_action_responses_are_validated_as_rasa_does() -> None:
    if not RASA_PY.exists():
        pytest.fail("the Rasa environment is missing: run `make build`")
    done = subprocess.run(
        [str(RASA_PY), "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "good": True,
        "events_not_a_list": True,
        "unknown_event": True,
    }
