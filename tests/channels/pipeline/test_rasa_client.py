from __future__ import annotations

import json

import httpx
import pytest

from channels.pipeline.rasa_client import RasaClient, RasaUnavailableError


async def test_send_posts_rasa_rest_shape() -> None:
    seen: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/webhooks/rest/webhook"
        seen.append(json.loads(request.content))
        return httpx.Response(200, json=[{"recipient_id": "web:u1", "text": "你好"}, "junk"])

    async with httpx.AsyncClient(base_url="http://rasa", transport=httpx.MockTransport(handler)) as http:
        messages = await RasaClient(http).send("web:u1", "你好", {"channel": "web"})
    [body] = seen
    assert body["sender"] == "web:u1" and body["message"] == "你好"
    assert body["metadata"]["channel"] == "web" and len(body["metadata"]["tx_message_id"]) == 32  # type: ignore[index]
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


async def test_a_slow_message_is_recovered_from_the_tracker_not_sent_twice() -> None:
    posts: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(json.loads(request.content))
            raise httpx.ReadTimeout("slow", request=request)
        message_id = posts[0]["metadata"]["tx_message_id"]  # type: ignore[index]
        return httpx.Response(
            200,
            json={
                "events": [
                    {"event": "user", "text": "你好", "metadata": {"tx_message_id": message_id}},
                    {
                        "event": "bot",
                        "text": "您好",
                        "data": {"buttons": [{"title": "转人工", "payload": "/request_human"}]},
                    },
                    {"event": "action", "name": "action_listen"},
                ]
            },
        )

    async with httpx.AsyncClient(base_url="http://rasa", transport=httpx.MockTransport(handler)) as http:
        messages = await RasaClient(http, timeout=0.1, recovery_s=3).send("web:u1", "你好")
    assert len(posts) == 1
    assert messages == [{"text": "您好", "buttons": [{"title": "转人工", "payload": "/request_human"}]}]


async def test_a_message_rasa_never_saw_is_sent_again_once() -> None:
    posts: list[dict[str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            posts.append(json.loads(request.content))
            if len(posts) == 1:
                raise httpx.ConnectTimeout("lost on the way", request=request)
            return httpx.Response(200, json=[{"text": "您好"}])
        return httpx.Response(200, json={"events": []})

    async with httpx.AsyncClient(base_url="http://rasa", transport=httpx.MockTransport(handler)) as http:
        messages = await RasaClient(http, timeout=0.1, recovery_s=2.5).send("web:u1", "你好")
    assert len(posts) == 2 and posts[0] == posts[1]  # the same message id both times
    assert messages == [{"text": "您好"}]


async def test_each_conversation_keeps_its_server_and_fails_over_when_it_is_down() -> None:
    seen: dict[str, list[str]] = {"a": [], "b": []}
    down: set[str] = set()

    def server(name: str) -> httpx.MockTransport:
        def handler(request: httpx.Request) -> httpx.Response:
            if name in down:
                raise httpx.ConnectError("refused", request=request)
            seen[name].append(json.loads(request.content)["sender"])
            return httpx.Response(200, json=[{"text": name}])

        return httpx.MockTransport(handler)

    async with (
        httpx.AsyncClient(base_url="http://a", transport=server("a")) as a,
        httpx.AsyncClient(base_url="http://b", transport=server("b")) as b,
    ):
        rasa = RasaClient([a, b], timeout=1)
        senders = [f"web:user-{i}" for i in range(20)]
        first = [(await rasa.send(s, "你好"))[0]["text"] for s in senders]
        again = [(await rasa.send(s, "还在吗"))[0]["text"] for s in senders]
        assert first == again and set(first) == {"a", "b"}  # spread over both, each conversation stays put
        down.add("a")
        assert {(await rasa.send(s, "再问一句"))[0]["text"] for s in senders} == {"b"}
