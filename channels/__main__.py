"""``python -m channels``: serve the gateway on TONGXIN_GATEWAY_HOST:TONGXIN_GATEWAY_PORT."""

from __future__ import annotations

import logging
import sys

import uvicorn

from channels.app import create_app
from channels.settings import get_settings


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = get_settings()
    print(f"童心守护 gateway: open http://{settings.gateway_host}:{settings.gateway_port}/", flush=True)
    uvicorn.run(
        create_app(settings),
        host=settings.gateway_host,
        port=settings.gateway_port,
        log_level="info",
        proxy_headers=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
