"""The gateway app factory: settings and transports are injected, nothing connects at import."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from bot.settings import BotSettings
from channels import errors, health
from channels.adapters import web
from channels.adapters.base import ChannelAdapter
from channels.adapters.web_session import SessionTokens
from channels.console import routes as console
from channels.handoff.delivery import Delivery
from channels.handoff.service import HandoffService
from channels.middleware import BodySizeLimit
from channels.pipeline.conversation import ConversationService
from channels.pipeline.messages import BotTurn, ChatResponse, InboundMessage
from channels.pipeline.rasa_client import RasaClient
from channels.pipeline.texts import Texts
from channels.safety.screen import SafetyScreen, load_screen
from channels.settings import GatewaySettings, get_settings
from channels.shared.state import open_shared
from channels.store import retention
from channels.store.keys import StoreKeys
from channels.store.store import Store
from channels.store.tracker_eraser import TrackerEraser
from knowledge_base.loader import load_knowledge_base

logger = logging.getLogger(__name__)


class LazyHandler:
    """Adapters are built with the app; the conversation service exists once the lifespan has started."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app

    async def handle(self, message: InboundMessage) -> BotTurn:
        service: ConversationService = self._app.state.conversations
        return await service.handle(message)


def _adapters(app: FastAPI, texts_prompt: str, telegram: Any, wechat: Any) -> list[ChannelAdapter]:
    adapters: list[ChannelAdapter] = []
    handler = LazyHandler(app)
    if telegram is not None and telegram.enabled:
        from channels.adapters.telegram import TelegramAdapter

        adapters.append(TelegramAdapter(handler, texts_prompt, telegram))
    if wechat is not None and wechat.enabled:
        from channels.adapters.wechat.adapter import WeChatAdapter

        adapters.append(WeChatAdapter(handler, texts_prompt, wechat))
    return adapters


def _stored_secret(path: Path) -> str:
    """The secret generated on first start and kept (owner-only) beside the database."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another gateway process made it first
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(secret)
    return secret


def create_app(
    settings: GatewaySettings | None = None,
    *,
    rasa_transport: httpx.AsyncBaseTransport | None = None,
    actions_transport: httpx.AsyncBaseTransport | None = None,
    telegram: Any = None,
    wechat: Any = None,
    tracker_url: str | None = None,
    screen: SafetyScreen | None = None,
) -> FastAPI:
    """Build the gateway. ``telegram``/``wechat`` are the channels' settings (None: read from the environment)."""
    settings = settings or get_settings()
    if telegram is None:
        from channels.adapters.telegram import TelegramSettings

        telegram = TelegramSettings()
    if wechat is None:
        from channels.adapters.wechat.settings import WeChatSettings

        wechat = WeChatSettings()
    tracker_url = tracker_url if tracker_url is not None else BotSettings().tracker_url()
    kb = load_knowledge_base(settings.kb_dir)
    texts = Texts.load(kb.referrals, retention_days=settings.retention_days)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store(settings.database_url)
        await asyncio.to_thread(store.migrate)
        eraser = TrackerEraser(tracker_url)
        async with contextlib.AsyncExitStack() as stack:
            shared = await stack.enter_async_context(open_shared(settings.redis_url))
            rasa_http = [
                await stack.enter_async_context(httpx.AsyncClient(base_url=url, transport=rasa_transport))
                for url in settings.rasa_servers
            ]
            actions_http = [
                await stack.enter_async_context(httpx.AsyncClient(base_url=url, transport=actions_transport))
                for url in settings.action_servers
            ]
            rasa = RasaClient(rasa_http, timeout=settings.rasa_timeout_s, health_timeout=settings.health_timeout_s)
            delivery = Delivery(shared.bus)
            for adapter in adapters:
                delivery.register(adapter)
                adapter.attach(StoreKeys(store), shared.cache)
            handoff = HandoffService(store, texts, settings, shared.bus, shared.presence, delivery)
            app.state.store, app.state.rasa, app.state.actions_http = store, rasa, actions_http
            app.state.shared, app.state.bus, app.state.presence = shared, shared.bus, shared.presence
            app.state.delivery, app.state.handoff = delivery, handoff
            app.state.login_limiter = shared.limiter("login", *console.LOGIN_LIMIT)
            app.state.conversations = ConversationService(
                rasa,
                texts,
                store,
                handoff,
                shared.bus,
                screen or load_screen(settings.encoder_dir, settings.screen_threads),
                shared.limiter("chat", settings.rate_burst, settings.rate_per_second),
                eraser,
                max_chars=settings.max_text_chars,
            )
            for adapter in adapters:
                try:
                    await adapter.start()
                except Exception:  # one platform being unreachable must not take the web chat down
                    logger.exception("channel %s failed to start; the other channels keep running", adapter.name)
            purge = asyncio.create_task(retention.run_hourly(store, eraser, settings.retention_days, shared.cache))
            logger.info(
                "gateway ready on http://%s:%s/ (channels: %s; shared state: %s; Rasa servers: %d)",
                settings.gateway_host,
                settings.gateway_port,
                ", ".join(["web", *(a.name for a in adapters)]),
                shared.backend,
                len(rasa_http),
            )
            try:
                yield
            finally:
                purge.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await purge
                for adapter in adapters:
                    await adapter.stop()
                eraser.close()
                store.close()

    app = FastAPI(title="童心守护 gateway", version="0.1.0", lifespan=lifespan)
    app.add_middleware(BodySizeLimit, max_bytes=64 * 1024)
    # The widget may be embedded on the bureau's other sites. The console is not opened up by this: its
    # cookies are SameSite=Strict, never sent cross-site, and its writes need the CSRF token.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.widget_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "Authorization", "X-Session-Token"],
        allow_credentials=False,
    )
    app.state.settings, app.state.texts = settings, texts
    app.state.session_secret = (
        settings.session_secret.get_secret_value() if settings.session_secret else _stored_secret(settings.secret_file)
    )
    app.state.session_tokens = SessionTokens(app.state.session_secret)
    errors.install(app)

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A chat user still gets a polite reply; everything else gets a JSON error, never an HTML page.
        logger.error("unhandled error on %s", request.url.path, exc_info=exc)
        if request.url.path == "/api/chat":
            return JSONResponse(ChatResponse(replies=[texts_reply(texts)]).model_dump(), status_code=200)
        return JSONResponse(errors.error_body("internal_error", "internal error"), status_code=500)

    adapters = _adapters(app, texts.numbered_prompt, telegram, wechat)
    for adapter in adapters:
        app.include_router(adapter.router())
    app.include_router(health.router)
    app.include_router(web.router)
    console.install(app)
    app.include_router(console.router)
    app.mount("/console-static", StaticFiles(directory=console.HERE / "static"), name="console-static")
    app.mount("/static", StaticFiles(directory=web.STATIC), name="static")
    return app


def texts_reply(texts: Texts) -> Any:
    from channels.pipeline.messages import Reply

    return Reply(text=texts.bot_unavailable, author="system")
