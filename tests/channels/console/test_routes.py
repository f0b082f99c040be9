from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount

from channels.console import auth
from channels.console.__main__ import main as console_cli
from channels.console.routes import router as console_router
from tests.channels.pipeline.test_conversation import FakeRasa, chat

Make = Callable[..., TestClient]
PUBLIC = {("GET", "/console/login"), ("POST", "/console/login")}


@pytest.fixture
def client(make_client: Make) -> TestClient:
    return make_client(FakeRasa())


def add_staff(client: TestClient, username: str, role: str = "staff") -> None:
    client.app.state.store.create_staff(username, username.title(), auth.hash_password("correct horse battery"), role)  # type: ignore[attr-defined]


def login(client: TestClient, username: str, password: str = "correct horse battery") -> str:
    page = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    resp = client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert resp.status_code == 303
    if resp.headers["location"] != "/console":
        return ""
    queue = client.get("/console")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', queue.text)
    assert csrf
    return csrf.group(1)


def test_every_console_route_refuses_anonymous_requests(client: TestClient) -> None:
    routes = [(m, r.path) for r in console_router.routes if isinstance(r, APIRoute) for m in r.methods]
    assert len(routes) >= 15 and all(path.startswith("/console") for _, path in routes)
    anonymous = TestClient(client.app)
    for method, path in routes:
        if (method, path) in PUBLIC:
            continue
        url = re.sub(r"\{[^}]+\}", "1", path)
        resp = anonymous.request(method, url, follow_redirects=False, json={})
        assert resp.status_code in (401, 303), (method, path, resp.status_code)
        if resp.status_code == 303:
            assert resp.headers["location"] == "/console/login"
    assert any(isinstance(r, Mount) and r.path == "/console-static" for r in client.app.routes)


def test_a_forged_or_expired_session_is_refused(client: TestClient) -> None:
    add_staff(client, "li")
    forged, _ = auth.issue_session("another secret", 1)
    client.cookies.set(auth.SESSION_COOKIE, forged, path="/console")
    assert client.get("/console/api/queue").status_code == 401
    expired, _ = auth.issue_session(client.app.state.session_secret, 1, now=0)  # type: ignore[attr-defined]
    client.cookies.set(auth.SESSION_COOKIE, expired, path="/console")
    assert client.get("/console/api/queue").status_code == 401


def test_login_logout_and_wrong_password(client: TestClient) -> None:
    add_staff(client, "li")
    assert login(client, "li", "wrong password!") == ""
    csrf = login(client, "li")
    assert csrf and client.get("/console/api/queue").status_code == 200
    cookie = client.cookies.get(auth.SESSION_COOKIE)
    assert cookie
    resp = client.post("/console/logout", headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 200 and "Max-Age=0" in resp.headers["set-cookie"]
    set_cookie = client.post("/console/login", data={"username": "li", "password": "x", "csrf_token": "x"})
    assert set_cookie.status_code == 403  # no login CSRF cookie: refused


def test_session_cookie_is_httponly_and_samesite(client: TestClient) -> None:
    add_staff(client, "li")
    page = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    resp = client.post(
        "/console/login",
        data={"username": "li", "password": "correct horse battery", "csrf_token": token},
        follow_redirects=False,
    )
    cookie = resp.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_login_is_rate_limited(client: TestClient) -> None:
    add_staff(client, "zhao")
    for _ in range(5):
        login(client, "zhao", "wrong password!")
    page = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    resp = client.post(
        "/console/login",
        data={"username": "zhao", "password": "correct horse battery", "csrf_token": token},
        follow_redirects=False,
    )
    assert resp.headers["location"] == "/console/login?error=too_many"


def test_state_changes_need_the_csrf_token(client: TestClient) -> None:
    add_staff(client, "li")
    login(client, "li")
    ticket = chat(client, "/request_human", sender="test-web-sender-family")["handoff"]["ticket_id"]
    assert client.post(f"/console/api/tickets/{ticket}/take").status_code == 403
    assert client.post(f"/console/api/tickets/{ticket}/take", headers={"X-CSRF-Token": "forged"}).status_code == 403


def test_take_reply_close_flow_with_masked_list_and_audit(client: TestClient) -> None:
    add_staff(client, "li")
    csrf = login(client, "li")
    headers = {"X-CSRF-Token": csrf}
    chat(client, "我的电话是13812345678 身份证420502201001011234", sender="test-web-sender-family")
    ticket = chat(client, "/request_human", sender="test-web-sender-family")["handoff"]["ticket_id"]
    queue = client.get("/console/api/queue").json()["tickets"]
    assert [t["id"] for t in queue] == [ticket]
    assert "13812345678" not in str(queue) and "420502201001011234" not in str(queue)
    assert client.post(f"/console/api/tickets/{ticket}/take", headers=headers).json()["state"] == "active"
    assert (
        client.post(
            f"/console/api/tickets/{ticket}/reply", headers=headers, json={"text": "您好，我是小李"}
        ).status_code
        == 200
    )
    assert client.post(f"/console/api/tickets/{ticket}/reply", headers=headers, json={"text": ""}).status_code == 422
    detail = client.get(f"/console/api/tickets/{ticket}").json()
    assert [m["from"] for m in detail["transcript"]][-1] == "staff"
    assert (
        client.post(f"/console/api/tickets/{ticket}/close", headers=headers, json={"outcome_code": "bogus"}).status_code
        == 422
    )
    assert (
        client.post(
            f"/console/api/tickets/{ticket}/close", headers=headers, json={"outcome_code": "resolved", "note": "已解答"}
        ).status_code
        == 200
    )
    assert client.post(
        f"/console/api/tickets/{ticket}/close", headers=headers, json={"outcome_code": "resolved"}
    ).status_code in (404, 409)
    rating = chat(client, "满意", sender="test-web-sender-family")
    assert "谢谢" in rating["replies"][0]["text"]
    store = client.app.state.store  # type: ignore[attr-defined]
    assert store.get_ticket(ticket).satisfaction == 3
    actions = [e.action for e in store.audit_log()]
    assert {"login", "take", "reply", "read", "close"} <= set(actions)


def test_supervisor_only_actions(client: TestClient) -> None:
    add_staff(client, "li")
    add_staff(client, "boss", "supervisor")
    csrf = login(client, "li")
    ticket = chat(client, "/request_human", sender="test-web-sender-family")["handoff"]["ticket_id"]
    headers = {"X-CSRF-Token": csrf}
    assert (
        client.post("/console/api/canned", headers=headers, json={"title": "问候", "text": "您好"}).status_code == 403
    )
    assert (
        client.post(f"/console/api/tickets/{ticket}/reassign", headers=headers, json={"staff_id": 1}).status_code == 403
    )
    assert client.get("/console/audit").status_code == 403
    boss = TestClient(client.app)
    boss_csrf = login(boss, "boss")
    h = {"X-CSRF-Token": boss_csrf}
    assert boss.post("/console/api/canned", headers=h, json={"title": "问候", "text": "您好"}).status_code == 200
    assert boss.post(f"/console/api/tickets/{ticket}/reassign", headers=h, json={"staff_id": 1}).status_code == 200
    assert boss.get("/console/audit").status_code == 200
    # Ids past the database's 64-bit range are refused as bad input, not a driver error.
    huge = 2**63
    assert boss.post(f"/console/api/canned/{huge}/delete", headers=h).status_code == 422
    assert boss.post(f"/console/api/conversations/{huge}/pickup", headers=h).status_code == 422


def test_create_user_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("a long enough password\n"))
    assert (
        console_cli(
            [
                "create-user",
                "--username",
                "wang",
                "--role",
                "supervisor",
                "--password-stdin",
                "--database-url",
                url,
                "--json",
            ]
        )
        == 0
    )
    assert '"role": "supervisor"' in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("short\n"))
    assert console_cli(["create-user", "--username", "li", "--password-stdin", "--database-url", url]) == 2
