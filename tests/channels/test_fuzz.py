"""Schemathesis fuzzes every operation of the gateway's OpenAPI schema: no input may cause a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from channels.app import create_app
from tests.channels.conftest import actions_ready, disabled_channels, gateway_settings, rasa_reply

_tmp = Path(__import__("tempfile").mkdtemp(prefix="tongxin-fuzz-"))
APP: FastAPI = create_app(
    gateway_settings(_tmp, rate_burst=100_000, rate_per_second=100_000.0),
    rasa_transport=httpx.MockTransport(rasa_reply({"text": "好的"})),
    actions_transport=httpx.MockTransport(actions_ready),
    tracker_url=f"sqlite:///{_tmp / 'tracker.db'}",
    **disabled_channels(),
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module", autouse=True)
def running_app() -> Iterator[None]:
    # The lifespan (store, conversation service) runs once; every fuzzed request then uses the same state.
    with TestClient(APP):
        yield


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_causes_a_server_error(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=[not_a_server_error])
