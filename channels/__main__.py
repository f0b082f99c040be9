"""``python -m channels``: serve the gateway on TONGXIN_GATEWAY_HOST:TONGXIN_GATEWAY_PORT, as
TONGXIN_GATEWAY_WORKERS processes (they share state through TONGXIN_REDIS_URL)."""

from __future__ import annotations

import logging
import sys
from typing import Any

import uvicorn

from channels.app import create_app
from channels.settings import get_settings


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")
    settings = get_settings()  # invalid settings stop here, before any worker starts
    print(
        f"童心守护 gateway: open http://{settings.gateway_host}:{settings.gateway_port}/ "
        f"({settings.gateway_workers} worker process{'es' if settings.gateway_workers > 1 else ''})",
        flush=True,
    )
    options: dict[str, Any] = {"host": settings.gateway_host, "port": settings.gateway_port, "log_level": "info"}
    # Behind a reverse proxy, the client address (login limits) comes from its X-Forwarded-For, trusted only
    # from the proxy's own address.
    options["proxy_headers"] = bool(settings.trusted_proxies)
    if settings.trusted_proxies:
        options["forwarded_allow_ips"] = settings.trusted_proxies
    if settings.gateway_workers > 1:
        # Each worker imports the app factory and builds its own app; uvicorn restarts a worker that dies.
        uvicorn.run("channels.app:create_app", factory=True, workers=settings.gateway_workers, **options)
    else:
        uvicorn.run(create_app(settings), **options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
