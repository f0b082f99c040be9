from __future__ import annotations

import json

import httpx
import pytest

from channels.rasa_client import RasaClient, RasaUnavailableError


async def test_send_posts_rasa_rest_shape() -> None:
    seen: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/webhooks/rest/webhook"
        seen.append(json.loads(request.content))
        return httpx.Response(200, json=[{"recipient_id": "web:u1", "text": "你好"}, "junk"])

    async with httpx.AsyncClient(base_url="http://rasa", transport=httpx.MockTransport(handler)) as http:
        messages = await RasaClient(http).send("web:u1", "你好", {"channel": "web"})
    assert seen == [{"sender": "web:u1", "message": "你好", "metadata": {"channel": "web"}}]
    assert messages == [{"recipient_id": "web:u1", "text": "你好"}]


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(500, text="boom"),
        httpx.Response(200, text="<html>not json</html>"),
        httpx.Response(200, json={"not": "a list"}),
    ],
)
async def test_bad_rasa_answers_raise_unavailable(response: httpx.Response) -> None:
    async with httpx.AsyncClient(base_url="http://rasa", transport=httpx.MockTransport(lambda r: response)) as http:
        with pytest.raises(RasaUnavailableError):
            await RasaClient(http).send("web:u1", "你好")


async def test_connection_errors_and_timeouts_raise_unavailable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    for handler in (refuse, slow):
        async with httpx.AsyncClient(base_url="http://rasa", transport=httpx.MockTransport(handler)) as http:
            with pytest.raises(RasaUnavailableError):
                await RasaClient(http, timeout=0.1).send("web:u1", "你好")


async def test_status_requires_a_loaded_model() -> None:
    def no_model(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"model_file": None})

    async with httpx.AsyncClient(base_url="http://rasa", transport=httpx.MockTransport(no_model)) as http:
        with pytest.raises(RasaUnavailableError, match="no model"):
            await RasaClient(http).status()
