"""The Telegram channel: ``POST /telegram/webhook`` (or long polling) → the shared turn handler → Bot API.

The python-telegram-bot ``Application`` is built in :meth:`TelegramAdapter.start`, never at import or
construction. Only private chats are served: a group chat would merge its members into one conversation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import yaml
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update, User
from telegram.error import InvalidToken
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    JobQueue,
    MessageHandler,
    filters,
)

from channels.adapters.base import ChannelAdapter, TurnHandler, choose, citation_label
from channels.errors import error_body
from channels.pipeline.messages import Button, InboundMessage, Reply
from channels.pipeline.messages import split_text as split_by_cost

logger = logging.getLogger(__name__)

DEFAULT_TEXTS = Path(__file__).resolve().parents[1] / "data" / "telegram.zh.yml"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HUMAN_PAYLOAD = "/request_human"
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]
MAX_CALLBACK_BYTES = 64  # Bot API limit of InlineKeyboardButton.callback_data
MAX_MESSAGE_UNITS = 4096  # Bot API limit of a message text, counted in UTF-16 code units
KEY_PREFIX = "#"  # callback_data starting with this is a key into the adapter's payload map

TelegramApp = Application[
    ExtBot[None],
    ContextTypes.DEFAULT_TYPE,
    dict[Any, Any],
    dict[Any, Any],
    dict[Any, Any],
    JobQueue[ContextTypes.DEFAULT_TYPE],
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


_PRIVATE_MESSAGE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


class TelegramSettings(BaseSettings):
    """Environment variables ``TONGXIN_TELEGRAM_*``; the channel is enabled when a token is set."""

    model_config = SettingsConfigDict(env_prefix="TONGXIN_TELEGRAM_", extra="ignore")

    token: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    mode: Literal["webhook", "polling"] = "webhook"
    base_url: str = "https://api.telegram.org/bot"
    webhook_url: str | None = None

    @property
    def enabled(self) -> bool:
        return self.token is not None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.token is not None and not _looks_like_token(self.token.get_secret_value()):
            raise ValueError("TONGXIN_TELEGRAM_TOKEN is not a bot token from @BotFather (<digits>:<secret>)")
        if self.enabled and self.mode == "webhook":
            secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
            if len(secret) < 16 or len(secret) > 256 or not _is_secret_charset(secret):
                raise ValueError(
                    "TONGXIN_TELEGRAM_WEBHOOK_SECRET is required in webhook mode: 16 to 256 "
                    "characters of A-Z, a-z, 0-9, _ and -"
                )
        if self.webhook_url is not None and not self.webhook_url.startswith("https://"):
            raise ValueError("TONGXIN_TELEGRAM_WEBHOOK_URL must be an https:// URL (Telegram requires it)")
        return self


def _looks_like_token(token: str) -> bool:
    bot_id, _, secret = token.partition(":")
    return bot_id.isdigit() and bool(secret) and _is_secret_charset(secret)


def _is_secret_charset(value: str) -> bool:
    return value.isascii() and all(c.isalnum() or c in "_-" for c in value)


class TelegramTexts(BaseModel):
    """The channel's own texts (``data/telegram.zh.yml``); a missing or unknown key fails on load."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    welcome: Text
    help: Text
    unsupported_media: Text
    button_expired: Text
    human_button: Text
    menu: list[Button] = Field(min_length=1)

    @classmethod
    def load(cls, path: Path = DEFAULT_TEXTS) -> TelegramTexts:
        return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))

    def human(self) -> Button:
        return Button(title=self.human_button, payload=HUMAN_PAYLOAD)


class TelegramNotRunningError(RuntimeError):
    """``push`` was called while the channel is disabled or not started."""


def parse_update(body: bytes, bot: Bot) -> Update | None:
    """The webhook body as an :class:`Update`, or ``None`` when it is not JSON or not an update."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or type(data.get("update_id")) is not int:
        return None
    try:
        return Update.de_json(data, bot)
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError):
        return None


def reply_text(reply: Reply) -> str:
    """The reply's text with one 📄 line per citation (the same lines as the numbered rendering)."""
    lines = [reply.text, *(f"📄 {citation_label(c.title, c.doc_no)}" for c in reply.citations)]
    return "\n".join(lines)


def split_text(text: str, limit: int = MAX_MESSAGE_UNITS) -> list[str]:
    """Pieces of at most ``limit`` UTF-16 code units (the Bot API's measure), cut at a line break where possible."""
    return split_by_cost(text, limit, cost=lambda char: 2 if ord(char) > 0xFFFF else 1)


def _user_metadata(user: User | None) -> dict[str, Any]:
    # Only what the conversation needs; names and usernames stay with Telegram.
    return {"telegram_user": {"id": user.id, "language_code": user.language_code} if user else None}


class TelegramAdapter(ChannelAdapter):
    """Telegram through python-telegram-bot: webhook mode (``POST /telegram/webhook``) or long polling.

    Usage example::

        adapter = TelegramAdapter(conversations, texts.numbered_prompt, TelegramSettings())
        app.include_router(adapter.router())
        await adapter.start()   # in the lifespan; nothing happens when no token is set
        ...
        await adapter.stop()
    """

    name = "telegram"
    supports_buttons = True

    def __init__(
        self,
        handler: TurnHandler,
        numbered_prompt: str,
        settings: TelegramSettings,
        *,
        texts_path: Path = DEFAULT_TEXTS,
    ) -> None:
        super().__init__(handler, numbered_prompt)
        self.settings = settings
        self._texts_path = texts_path
        self._texts: TelegramTexts | None = None
        self._application: TelegramApp | None = None

    @property
    def running(self) -> bool:
        return self._application is not None

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        if not self.settings.enabled:
            logger.info("telegram channel disabled (no TONGXIN_TELEGRAM_TOKEN)")
            return
        if self._application is not None:
            return
        self._texts = TelegramTexts.load(self._texts_path)
        application = self._build()
        try:
            await application.initialize()
            if self.settings.mode == "webhook" and self.settings.webhook_url:
                await application.bot.set_webhook(
                    self.settings.webhook_url, allowed_updates=ALLOWED_UPDATES, secret_token=self._secret()
                )
            await application.start()
            if application.updater is not None:
                await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        except InvalidToken:
            await self._shut_down(application)
            # PTB's message quotes the token; keep the secret out of tracebacks and logs.
            raise InvalidToken("TONGXIN_TELEGRAM_TOKEN was rejected by the Telegram server") from None
        except BaseException:
            await self._shut_down(application)
            raise
        self._application = application
        logger.info("telegram channel running as @%s (%s)", application.bot.username, self.settings.mode)

    async def stop(self) -> None:
        application, self._application = self._application, None
        if application is not None:
            await self._shut_down(application)

    def _build(self) -> TelegramApp:
        assert self.settings.token is not None  # start() checked enabled
        builder = ApplicationBuilder().token(self.settings.token.get_secret_value()).base_url(self.settings.base_url)
        if self.settings.mode == "webhook":
            builder = builder.updater(None)
        application = builder.build()
        application.add_handler(CommandHandler(["start", "help"], self._on_start, filters=_PRIVATE_MESSAGE))
        application.add_handler(CommandHandler("human", self._on_human, filters=_PRIVATE_MESSAGE))
        application.add_handler(MessageHandler(_PRIVATE_MESSAGE & filters.TEXT, self._on_text))
        application.add_handler(CallbackQueryHandler(self._on_button))
        application.add_handler(MessageHandler(_PRIVATE_MESSAGE & ~filters.StatusUpdate.ALL, self._on_unsupported))
        application.add_error_handler(self._on_error)
        return application

    @staticmethod
    async def _shut_down(application: TelegramApp) -> None:
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        await application.bot.shutdown()  # also closes the HTTP clients when initialize() failed half-way

    # --- webhook --------------------------------------------------------------------------

    def router(self) -> APIRouter:
        router = APIRouter()

        @router.post("/telegram/webhook", include_in_schema=False)
        async def webhook(request: Request) -> JSONResponse:
            if not self._verified(request.headers.get(SECRET_HEADER)):
                return JSONResponse(error_body("forbidden", "missing or wrong secret token"), 403)
            application = self._application
            if application is None:
                return JSONResponse(error_body("channel_not_running", "the Telegram channel is not running"), 503)
            update = parse_update(await request.body(), application.bot)
            if update is None:
                return JSONResponse(error_body("invalid_update", "the body is not a Telegram update"), 400)
            await application.process_update(update)
            return JSONResponse({"ok": True})

        return router

    def _secret(self) -> str | None:
        return self.settings.webhook_secret.get_secret_value() if self.settings.webhook_secret else None

    def _verified(self, header: str | None) -> bool:
        secret = self._secret()
        return bool(secret and header) and hmac.compare_digest(str(header).encode(), str(secret).encode())

    # --- sending --------------------------------------------------------------------------

    async def push(self, user_id: str, replies: list[Reply]) -> None:
        """Send ``replies`` to chat ``user_id``; Bot API errors (a user who blocked the bot) propagate."""
        if self._application is None:
            raise TelegramNotRunningError("the Telegram channel is not running")
        await self._send(self._application.bot, user_id, replies)

    async def _send(self, bot: Bot, chat_id: int | str, replies: Sequence[Reply]) -> None:
        for reply in replies:
            pieces = split_text(reply_text(reply))
            for index, piece in enumerate(pieces):
                last = index == len(pieces) - 1
                keyboard = await self._keyboard(reply.buttons) if last else None
                await bot.send_message(chat_id, piece, reply_markup=keyboard)
        await self.remember_menu(str(chat_id), replies)

    async def _keyboard(self, buttons: list[Button]) -> InlineKeyboardMarkup | None:
        if not buttons:
            return None
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(b.title, callback_data=await self._callback_data(b))] for b in buttons]
        )

    async def _callback_data(self, button: Button) -> str:
        """The payload itself when it fits Telegram's 64 bytes, else a key kept in the shared channel keys, so
        that the button works whichever gateway process receives the press."""
        payload = button.payload or button.title
        if len(payload.encode()) <= MAX_CALLBACK_BYTES and not payload.startswith(KEY_PREFIX):
            return payload
        digest = base64.urlsafe_b64encode(hashlib.sha256(payload.encode()).digest()).decode()
        key = KEY_PREFIX + digest[:22]
        await self.keys.put("telegram-button", key, payload)
        return key

    async def _payload_of(self, callback_data: str) -> str | None:
        """The payload behind ``callback_data``; ``None`` for a key no longer kept (after two days)."""
        if not callback_data.startswith(KEY_PREFIX):
            return callback_data
        return await self.keys.get("telegram-button", callback_data)

    # --- handlers -------------------------------------------------------------------------

    @property
    def texts(self) -> TelegramTexts:
        if self._texts is None:
            raise TelegramNotRunningError("the Telegram channel is not running")
        return self._texts

    async def _turn(self, bot: Bot, chat_id: int, text: str, user: User | None) -> None:
        turn = await self.handler.handle(InboundMessage(self.name, str(chat_id), text, _user_metadata(user)))
        await self._send(bot, chat_id, turn.replies)

    async def _on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None and update.effective_message is not None
        texts = self.texts
        command = (update.effective_message.text or "").split()[0].split("@")[0]
        await self._send(
            context.bot,
            update.effective_chat.id,
            [Reply(text=texts.help if command == "/help" else texts.welcome, buttons=[*texts.menu, texts.human()])],
        )

    async def _on_human(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await self._turn(context.bot, update.effective_chat.id, HUMAN_PAYLOAD, update.effective_user)

    async def _on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None and update.effective_message is not None
        chat_id = update.effective_chat.id
        text = choose(update.effective_message.text or "", await self.menu(str(chat_id)))
        await self._turn(context.bot, chat_id, text, update.effective_user)

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        chat = update.effective_chat
        if chat is None or chat.type != chat.PRIVATE or not query.data:
            return
        payload = await self._payload_of(query.data)
        if payload is None:
            await self._send(context.bot, chat.id, [Reply(text=self.texts.button_expired)])
            return
        await self._turn(context.bot, chat.id, payload, query.from_user)

    async def _on_unsupported(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        texts = self.texts
        await self._send(
            context.bot, update.effective_chat.id, [Reply(text=texts.unsupported_media, buttons=[texts.human()])]
        )

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        logger.error("telegram update %s failed", getattr(update, "update_id", None), exc_info=context.error)
