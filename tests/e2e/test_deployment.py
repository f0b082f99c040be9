"""The deployment files of docs/deploy.md: the nginx site, run by Debian's nginx in front of a real gateway
(TLS, the widget's WebSocket, the console's unbuffered event stream), and the systemd units of each role."""

from __future__ import annotations

import configparser
import json
import re
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from tools.stack import ROOT, Stack, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
DEPLOY = ROOT / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _self_signed(workdir: Path) -> tuple[Path, Path]:
    cert, key = workdir / "cert.pem", workdir / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def site_for_test(workdir: Path, gateway_port: int, https_port: int, http_port: int) -> Path:
    """The shipped site with only what belongs to one machine changed: addresses, ports and certificate."""
    cert, key = _self_signed(workdir)
    site = (DEPLOY / "nginx" / "tongxin.conf").read_text(encoding="utf-8")
    site = re.sub(r"server 10\.0\.0\.\d+:8000 ", f"server 127.0.0.1:{gateway_port} ", site)
    site = site.replace("listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl").replace(
        "listen 80;", f"listen 127.0.0.1:{http_port};"
    )
    site = site.replace("/etc/ssl/tongxin/fullchain.pem", str(cert)).replace("/etc/ssl/tongxin/privkey.pem", str(key))
    conf = workdir / "nginx.conf"
    conf.write_text(
        "worker_processes 1;\nevents {}\nhttp {\n"
        f"  access_log off;\n  client_body_temp_path {workdir}/body;\n  proxy_temp_path {workdir}/proxy;\n"
        f"{site}\n}}\n",
        encoding="utf-8",
    )
    return conf


@pytest.fixture(scope="module")
def http_port() -> int:
    return free_port()  # the proxy's plain-HTTP port (it only redirects)


@pytest.fixture(scope="module")
def proxied(stack: Stack, http_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("nginx")
    https_port = free_port()
    conf = site_for_test(workdir, stack.gateway_port, https_port, http_port)
    argv = [NGINX, "-p", str(workdir), "-c", str(conf)]
    checked = subprocess.run([*argv, "-t", "-g", f"pid {workdir}/nginx.pid;"], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr  # the shipped site passes nginx's own check
    proc = subprocess.Popen([*argv, "-g", f"pid {workdir}/nginx.pid; daemon off;"])
    url = f"https://127.0.0.1:{https_port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{url}/healthz", verify=False, timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def test_http_is_sent_to_https_and_health_is_answered_through_the_proxy(proxied: str, http_port: int) -> None:
    plain = httpx.get(f"http://127.0.0.1:{http_port}/healthz", timeout=10)
    assert plain.status_code == 301 and plain.headers["location"].startswith("https://")
    health = httpx.get(f"{proxied}/healthz", verify=False, timeout=10)
    assert health.status_code == 200 and health.json()["status"] == "ok"


def test_a_chat_and_its_socket_work_through_the_proxy(proxied: str) -> None:
    sender = "deploy-proxy-sender-0001"
    body = httpx.post(
        f"{proxied}/api/chat", json={"sender_id": sender, "text": "什么是留守儿童"}, verify=False, timeout=60
    ).json()
    assert body["replies"] and body["session_token"]
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with connect(proxied.replace("https", "wss") + "/ws", ssl=context, open_timeout=10) as ws:
        ws.send(json.dumps({"type": "hello", "sender_id": sender, "session_token": body["session_token"]}))
        assert json.loads(ws.recv(timeout=10))["type"] == "session"
        ws.send(json.dumps({"type": "message", "text": "谢谢", "client_id": "deploy-proxy-1"}))
        assert json.loads(ws.recv(timeout=60))["type"] == "turn"


def test_the_console_event_stream_is_not_buffered_by_the_proxy(proxied: str, stack: Stack) -> None:
    stack.create_staff("deploy_proxy_staff", "deploy proxy staff password")
    with httpx.Client(base_url=proxied, verify=False, timeout=10) as client:
        page = client.get("/console/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        client.post(
            "/console/login",
            data={
                "username": "deploy_proxy_staff",
                "password": "deploy proxy staff password",
                "csrf_token": token.group(1),
            },
        )
        started = time.monotonic()
        with client.stream("GET", "/console/events") as resp:
            assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/event-stream")
            first = next(resp.iter_lines())
        assert first == "retry: 3000" and time.monotonic() - started < 5  # arrives at once, not when a buffer fills


@pytest.mark.parametrize("unit", sorted(p.name for p in (DEPLOY / "systemd").glob("*.service")))
def test_each_role_has_a_unit_that_restarts_it(unit: str) -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read(DEPLOY / "systemd" / unit, encoding="utf-8")
    service = parser["Service"]
    assert service["Restart"] == "on-failure" and service["EnvironmentFile"] == "/etc/tongxin/tongxin.env"
    assert service["User"] == "tongxin" and parser["Install"]["WantedBy"] == "multi-user.target"
    module = re.search(r"-m (\S+)", service["ExecStart"])
    assert module is not None
    assert (ROOT / module.group(1).replace(".", "/")).with_suffix(".py").exists() or (
        ROOT / module.group(1).replace(".", "/") / "__main__.py"
    ).exists()
    if shutil.which("systemd-analyze"):
        argv = ["systemd-analyze", "verify", str(DEPLOY / "systemd" / unit)]
        done = subprocess.run(argv, capture_output=True, text=True)
        # Paths under /opt/tongxin and the user do not exist on a build machine; anything else is an error.
        problems = [
            line
            for line in done.stderr.splitlines()
            if line.strip() and "/opt/tongxin" not in line and "tongxin" not in line.split(":")[-1]
        ]
        assert not problems, done.stderr
