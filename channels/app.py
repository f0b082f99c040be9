"""The gateway app factory: settings and transports are injected, nothing connects at import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from channels import errors, health, web
from channels.conversation import ConversationService
from channels.messages import ChatResponse
from channels.rasa_client import RasaClient
from channels.replies import GatewayTexts
from channels.settings import GatewaySettings, get_settings
from knowledge_base.loader import load_knowledge_base

logger = logging.getLogger(__name__)


def create_app(
    settings: GatewaySettings | None = None,
    *,
    rasa_transport: httpx.AsyncBaseTransport | None = None,
    actions_transport: httpx.AsyncBaseTransport | None = None,
) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        kb = load_knowledge_base(settings.kb_dir)
        texts = GatewayTexts.load(kb.referrals)
        async with (
            httpx.AsyncClient(base_url=settings.rasa_url, transport=rasa_transport) as rasa_http,
            httpx.AsyncClient(base_url=settings.action_url, transport=actions_transport) as actions_http,
        ):
            app.state.settings = settings
            app.state.texts = texts
            app.state.rasa = RasaClient(rasa_http, timeout=settings.rasa_timeout_s,
                                        health_timeout=settings.health_timeout_s)
            app.state.actions_http = actions_http
            app.state.conversations = ConversationService(app.state.rasa, texts)
            logger.info("gateway ready on http://%s:%s/", settings.gateway_host, settings.gateway_port)
            yield

    app = FastAPI(title="童心守护 gateway", version="0.1.0", lifespan=lifespan)
    errors.install(app)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A chat user still gets a polite reply; everything else gets a JSON error, never an HTML page.
        logger.error("unhandled error on %s", request.url.path, exc_info=exc)
        if request.url.path == "/api/chat":
            turn = request.app.state.conversations.unavailable_turn()
            return JSONResponse(ChatResponse(replies=turn.replies).model_dump(), status_code=200)
        return JSONResponse(errors.error_body("internal_error", "internal error"), status_code=500)

    app.include_router(health.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=web.STATIC), name="static")
    return app
