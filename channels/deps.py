"""FastAPI dependencies as named aliases: routes ask for what they need, tests override it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from channels.pipeline.conversation import ConversationService
from channels.settings import GatewaySettings
from channels.store.store import Store


def get_conversations(request: Request) -> ConversationService:
    service: ConversationService = request.app.state.conversations
    return service


def get_app_settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


def get_store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


ConversationsDep = Annotated[ConversationService, Depends(get_conversations)]
SettingsDep = Annotated[GatewaySettings, Depends(get_app_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
