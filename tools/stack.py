"""Start the real processes (action server, Rasa, gateway) on free ports: for end-to-end tests and benchmarks.

The default is one of each; the scale-out tests start more of each (``start_actions``/``start_rasa``/
``start_gateway`` with a name and a port) on PostgreSQL and Redis, given in ``extra_env``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import httpx
import yaml

from bot.endpoints import endpoints
from bot.settings import BotSettings

ROOT = Path(__file__).resolve().parents[1]
APP_PY = ROOT / ".venv" / "bin" / "python"
RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    """Resident memory of a running process, in MB (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def latest_model() -> Path:
    models = sorted((ROOT / "models").glob("tongxin-*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise RuntimeError("no trained Rasa model in models/: run `make build` (make test does it)")
    return models[-1]


@dataclass
class Stack:
    workdir: Path
    extra_env: Mapping[str, str] = field(default_factory=dict)
    action_port: int = field(default_factory=free_port)
    rasa_port: int = field(default_factory=free_port)
    gateway_port: int = field(default_factory=free_port)
    tokens: dict[str, str] = field(default_factory=dict)  # web session tokens by sender, as a client keeps them
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _logs: dict[str, BinaryIO] = field(default_factory=dict)

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "TONGXIN_ACTION_PORT": str(self.action_port),
                "TONGXIN_ACTION_URL": self.action_url,
                "TONGXIN_RASA_URL": self.rasa_url,
                "TONGXIN_GATEWAY_PORT": str(self.gateway_port),
                "TONGXIN_GATEWAY_HOST": "127.0.0.1",
                "TONGXIN_TRACKER_SQLITE_PATH": str(self.workdir / "tracker.db"),
                "TONGXIN_DATABASE_URL": f"sqlite:///{self.workdir / 'gateway.db'}",
                # Tests run at any hour: the hotline is "on duty" all week.
                "TONGXIN_DUTY_DAYS": "1-7",
                "TONGXIN_DUTY_HOURS": "00:00-23:59",
                "TONGXIN_SESSION_SECRET": "e2e-" + "x" * 40,
                "HF_HUB_OFFLINE": "1",
                "RASA_TELEMETRY_ENABLED": "false",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env

    def _spawn(self, name: str, argv: list[str], env: Mapping[str, str] | None = None) -> None:
        self._logs[name] = log = (self.workdir / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            argv, cwd=ROOT, env={**self.env(), **(env or {})}, stdout=log, stderr=subprocess.STDOUT
        )

    def start_actions(self, name: str = "actions", port: int | None = None) -> None:
        env = {"TONGXIN_ACTION_PORT": str(port or self.action_port)}
        self._spawn(name, [str(APP_PY), "-m", "bot.action_server"], env)

    def start_rasa(self, name: str = "rasa", port: int | None = None, action_port: int | None = None) -> None:
        overrides: dict[str, Any] = {
            k.removeprefix("TONGXIN_").lower(): v
            for k, v in self.extra_env.items()
            if k.startswith(("TONGXIN_TRACKER", "TONGXIN_LOCK", "TONGXIN_REDIS"))
        }
        action_url = f"http://127.0.0.1:{action_port}" if action_port else self.action_url
        settings = BotSettings.model_validate(
            {"action_url": action_url, "tracker_sqlite_path": self.workdir / "tracker.db", **overrides}
        )
        path = self.workdir / f"endpoints-{name}.yml"
        path.write_text(yaml.safe_dump(endpoints(settings)))
        self._spawn(
            name,
            [
                str(RASA_PY),
                "-m",
                "bot.rasa_server",
                "run",
                "--model",
                str(latest_model()),
                "--enable-api",
                "-i",
                "127.0.0.1",
                "-p",
                str(port or self.rasa_port),
                "--endpoints",
                str(path),
                "--credentials",
                str(ROOT / "bot" / "credentials.yml"),
            ],
        )

    def start_gateway(self, name: str = "gateway", port: int | None = None) -> None:
        self._spawn(name, [str(APP_PY), "-m", "channels"], {"TONGXIN_GATEWAY_PORT": str(port or self.gateway_port)})

    def start(self, timeout: float = 240.0) -> None:
        self.start_actions()
        self.start_rasa()
        self.start_gateway()
        self.wait_healthy(timeout)

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        self._close_log(name)

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait(10)
        self._close_log(name)

    def _close_log(self, name: str) -> None:
        log = self._logs.pop(name, None)
        if log:
            log.close()

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)

    def wait_healthy(self, timeout: float = 240.0, gateway: str | None = None) -> None:
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited ({proc.returncode}):\n{self.log_tail(name)}")
            try:
                resp = httpx.get(f"{gateway or self.gateway}/healthz", timeout=3)
                if resp.status_code == 200:
                    return
                last = resp.text
            except httpx.HTTPError as exc:
                last = repr(exc)
            time.sleep(1)
        raise RuntimeError(
            f"stack not healthy after {timeout}s: {last}\n" + "\n".join(self.log_tail(n) for n in self.procs)
        )

    def memory_mb(self) -> dict[str, int]:
        """Resident memory of each running process of the stack, in MB."""
        return {name: round(rss_mb(proc.pid)) for name, proc in self.procs.items() if proc.poll() is None}

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.workdir / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return f"--- {name} ---\n" + "\n".join(text.splitlines()[-lines:])

    def create_staff(self, username: str, password: str, role: str = "staff", database_url: str | None = None) -> None:
        subprocess.run(
            [
                str(APP_PY),
                "-m",
                "channels.console",
                "create-user",
                "--username",
                username,
                "--role",
                role,
                "--password-stdin",
                "--database-url",
                database_url or f"sqlite:///{self.workdir / 'gateway.db'}",
            ],
            input=password + "\n",
            text=True,
            check=True,
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
        )

    def chat(self, sender: str, text: str, timeout: float = 60.0) -> dict[str, object]:
        """One message as the web client that owns the conversation (its session token sent back)."""
        token = self.tokens.get(sender)
        headers = {"X-Session-Token": token} if token else {}
        resp = httpx.post(
            f"{self.gateway}/api/chat", json={"sender_id": sender, "text": text}, headers=headers, timeout=timeout
        )
        assert resp.status_code == 200, resp.text
        body: dict[str, object] = resp.json()
        if isinstance(body.get("session_token"), str):
            self.tokens[sender] = str(body["session_token"])
        return body

    def history(self, sender: str, timeout: float = 10.0) -> dict[str, Any]:
        """The conversation's history as its web client reads it (with the token from its first reply)."""
        resp = httpx.get(
            f"{self.gateway}/api/history", headers={"X-Session-Token": self.tokens[sender]}, timeout=timeout
        )
        assert resp.status_code == 200, resp.text
        history: dict[str, Any] = resp.json()
        return history
