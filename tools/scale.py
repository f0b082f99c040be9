"""``python -m tools.scale prepare``: what ``make run-scale`` needs before its processes start.

The scale-out profile on one machine: two action servers, two Rasa servers on one PostgreSQL tracker store with
the Redis lock store, and the gateway as several worker processes sharing PostgreSQL (its store) and Redis (live
state). This creates the two databases when missing, writes each Rasa server's endpoints file (each with its
own action server), keeps a session secret for the gateway workers (unless one is given), and writes the
environment file that ``honcho -f Procfile.scale -e`` gives every process.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from pathlib import Path

import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.endpoints import endpoints
from bot.settings import BotSettings

# The ports Procfile.scale starts the two Rasa servers and the two action servers on.
RASA_PORTS, ACTION_PORTS = ("5005", "5006"), ("5055", "5056")


def create_database(admin_url: str, name: str) -> bool:
    """Create database ``name`` unless it exists; True when it was created."""
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
                return False
            conn.execute(text(f'CREATE DATABASE "{name}"'))
            return True
    finally:
        engine.dispose()


def prepare(out: Path, env: dict[str, str]) -> dict[str, object]:
    out.mkdir(parents=True, exist_ok=True)
    pg_host, pg_port, pg_user = env["PG_HOST"], env["PG_PORT"], env["PG_USER"]
    admin = f"postgresql+psycopg://{pg_user}@{pg_host}:{pg_port}/postgres"
    tracker_db, gateway_db = env["TRACKER_DB"], env["GATEWAY_DB"]
    created = [name for name in (tracker_db, gateway_db) if create_database(admin, name)]
    redis_host, redis_port = env["REDIS_HOST"], env["REDIS_PORT"]
    rasa_ports, action_ports = RASA_PORTS, ACTION_PORTS
    shared = {
        "TONGXIN_TRACKER_STORE": "postgresql",
        "TONGXIN_TRACKER_PG_HOST": pg_host,
        "TONGXIN_TRACKER_PG_PORT": pg_port,
        "TONGXIN_TRACKER_PG_USER": pg_user,
        "TONGXIN_TRACKER_PG_DB": tracker_db,
        "TONGXIN_LOCK_STORE": "redis",
        "TONGXIN_REDIS_HOST": redis_host,
        "TONGXIN_REDIS_PORT": redis_port,
    }
    for name, action_port in zip("ab", action_ports, strict=True):
        settings = BotSettings.model_validate(
            {k.removeprefix("TONGXIN_").lower(): v for k, v in shared.items()}
            | {"action_url": f"http://127.0.0.1:{action_port}"}
        )
        (out / f"endpoints-{name}.yml").write_text(yaml.safe_dump(endpoints(settings), sort_keys=False))
    secret = os.environ.get("TONGXIN_SESSION_SECRET") or _kept_secret(out / "session.secret")
    gateway_url = make_url(f"postgresql+psycopg://{pg_user}@{pg_host}:{pg_port}/{gateway_db}")
    values = {
        **shared,
        "TONGXIN_DATABASE_URL": gateway_url.render_as_string(hide_password=False),
        "TONGXIN_REDIS_URL": f"redis://{redis_host}:{redis_port}/{env['REDIS_DB']}",
        "TONGXIN_RASA_URLS": ",".join(f"http://127.0.0.1:{p}" for p in rasa_ports),
        "TONGXIN_ACTION_URLS": ",".join(f"http://127.0.0.1:{p}" for p in action_ports),
        "TONGXIN_GATEWAY_WORKERS": env["WORKERS"],
        "TONGXIN_SESSION_SECRET": secret,
    }
    env_file = out / "env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
    env_file.chmod(0o600)
    return {"databases_created": created, "env_file": str(env_file), "workers": int(env["WORKERS"])}


def _kept_secret(path: Path) -> str:
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    secret = secrets.token_urlsafe(48)
    path.write_text(secret, encoding="utf-8")
    path.chmod(0o600)
    return secret


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.scale")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("prepare", help="databases, endpoints files and the environment file of run-scale")
    run.add_argument("--out", type=Path, default=Path("var/scale"))
    run.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    defaults = {
        "PG_HOST": "127.0.0.1",
        "PG_PORT": "5432",
        "PG_USER": "postgres",
        "TRACKER_DB": "tongxin_tracker",
        "GATEWAY_DB": "tongxin_gateway",
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": "6379",
        "REDIS_DB": "2",
        "WORKERS": "2",
    }
    env = {k: os.environ.get(f"SCALE_{k}", v) for k, v in defaults.items()}  # e.g. SCALE_PG_HOST
    env["WORKERS"] = os.environ.get("TONGXIN_GATEWAY_WORKERS", env["WORKERS"])
    try:
        result = prepare(args.out, env)
    except Exception as exc:  # PostgreSQL not reachable: say so plainly, before anything starts
        print(f"run-scale needs PostgreSQL at {env['PG_HOST']}:{env['PG_PORT']}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result) if args.json else f"scale-out profile prepared: {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
