"""``make run-scale``'s preparation: databases created once, one endpoints file per Rasa server, one env file."""

from __future__ import annotations

import secrets
import stat
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from channels.settings import GatewaySettings
from tools.scale import prepare

pytestmark = pytest.mark.postgres


def test_prepare_makes_what_the_processes_need_and_is_idempotent(tmp_path: Path) -> None:
    suffix = secrets.token_hex(3)
    env = {
        "PG_HOST": "127.0.0.1",
        "PG_PORT": "5432",
        "PG_USER": "postgres",
        "TRACKER_DB": f"tongxin_tracker_{suffix}",
        "GATEWAY_DB": f"tongxin_gateway_{suffix}",
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": "6379",
        "REDIS_DB": "2",
        "WORKERS": "3",
    }
    try:
        first = prepare(tmp_path, env)
        again = prepare(tmp_path, env)
        assert first["databases_created"] == [env["TRACKER_DB"], env["GATEWAY_DB"]] and again["databases_created"] == []
        a, b = (yaml.safe_load((tmp_path / f"endpoints-{n}.yml").read_text()) for n in "ab")
        assert a["action_endpoint"]["url"] == "http://127.0.0.1:5055/webhook"
        assert b["action_endpoint"]["url"] == "http://127.0.0.1:5056/webhook"
        assert a["tracker_store"]["db"] == env["TRACKER_DB"] and a["lock_store"]["type"] == "redis"
        values = dict(line.split("=", 1) for line in (tmp_path / "env").read_text().splitlines())
        assert stat.S_IMODE((tmp_path / "env").stat().st_mode) == 0o600
        settings = GatewaySettings(**{k.removeprefix("TONGXIN_").lower(): v for k, v in values.items()})
        assert settings.gateway_workers == 3 and settings.redis_url and settings.session_secret
        assert settings.rasa_servers == ["http://127.0.0.1:5005", "http://127.0.0.1:5006"]
        assert settings.database_url.endswith(f"/{env['GATEWAY_DB']}")
    finally:
        admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in (env["TRACKER_DB"], env["GATEWAY_DB"]):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
