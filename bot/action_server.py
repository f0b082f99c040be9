"""``python -m bot.action_server``: the rasa-sdk action server with our warm-up, readiness and reload.

Besides rasa-sdk's ``/webhook``, ``/health`` and ``/actions``:

- ``GET /ready`` → 200 once the knowledge base and retrieval index are loaded, else 503;
- ``POST /admin/reload-index`` (``Authorization: Bearer $TONGXIN_ADMIN_TOKEN``) and ``SIGHUP``
  load the index that ``var/index/current`` points at, without a restart.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import signal
import sys
from typing import Any

from rasa_sdk import endpoint
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request

from bot import services
from bot.settings import BotSettings, get_settings

logger = logging.getLogger(__name__)


def _index_status() -> dict[str, Any]:
    try:
        retriever = services.get_services().retriever
    except RuntimeError:
        return {"ready": False}
    index = getattr(retriever, "index", None)
    meta = getattr(index, "meta", {}) if index is not None else {}
    return {"ready": bool(retriever.ready), "chunks": meta.get("chunks"), "fingerprint": meta.get("fingerprint")}


async def _reload() -> dict[str, Any]:
    retriever = services.get_services().retriever
    reload = getattr(retriever, "reload", None)
    if reload is None:
        raise RuntimeError("this retriever cannot reload")
    await asyncio.to_thread(reload)
    return _index_status()


def create_app(settings: BotSettings | None = None) -> Sanic:
    settings = settings or get_settings()
    executor = ActionExecutor()
    executor.register_package("bot.actions")
    app = endpoint.create_app(executor, cors_origins=[])

    async def warm_up(app: Sanic, _: Any) -> None:
        if services._services is None:
            services.set_services(await asyncio.to_thread(services.build_services))
        logger.info("action server ready: %s", _index_status())

    async def on_hangup(app: Sanic, _: Any) -> None:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(_reload()))

    app.register_listener(warm_up, "before_server_start")
    app.register_listener(on_hangup, "after_server_start")

    @app.get("/ready")
    async def ready(_: Request) -> response.HTTPResponse:
        status = _index_status()
        return response.json(
            {"status": "ok" if status["ready"] else "loading", "index": status}, status=200 if status["ready"] else 503
        )

    @app.post("/admin/reload-index")
    async def reload_index(request: Request) -> response.HTTPResponse:
        token = settings.admin_token.get_secret_value() if settings.admin_token else None
        if token is None:
            return response.json({"error": "reload endpoint disabled: set TONGXIN_ADMIN_TOKEN"}, status=404)
        given = (request.headers.get("authorization") or "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            return response.json({"error": "unauthorized"}, status=401)
        try:
            return response.json({"status": "reloaded", "index": await _reload()})
        except Exception as exc:  # a broken new index must not take the old one down
            logger.exception("index reload failed")
            return response.json({"error": f"reload failed, the previous index still serves: {exc}"}, status=503)

    return app


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = get_settings()
    app = create_app(settings)
    app.prepare(host=settings.action_host, port=settings.action_port, single_process=True, access_log=False, motd=False)
    Sanic.serve_single(app)
    return 0


if __name__ == "__main__":
    sys.exit(main())
