"""Gateway-side texts from ``data/replies.zh.yml``; phone numbers come from verified referrals only."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from knowledge_base.schema import Referral

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "data" / "replies.zh.yml"
REQUIRED = (
    "bot_unavailable",
    "empty_reply",
    "handoff_button",
    "numbered_prompt",
    "privacy_notice",
    "emergency_reply",
    "safety_check",
    "too_long",
    "rate_limited",
    "staff_ack",
    "handoff_queued",
    "handoff_off_duty",
    "handoff_nobody",
    "callback_button",
    "back_to_bot_button",
    "callback_ask",
    "callback_saved",
    "callback_invalid",
    "staff_joined",
    "ticket_closed",
    "rate_good",
    "rate_ok",
    "rate_bad",
    "rating_thanks",
    "back_to_bot",
    "delete_confirm",
    "delete_confirm_button",
    "delete_cancel_button",
    "deleted",
    "delete_failed",
    "delete_cancelled",
    "cancelled",
)


def verified_lines(referrals: tuple[Referral, ...], kinds: tuple[str, ...]) -> str:
    """ "110（公安报警电话）、120（急救电话）": only entries whose contact may be shown."""
    return "、".join(f"{r.public_contact()}（{r.name}）" for r in referrals if r.kind in kinds and r.public_contact())


class Texts:
    """Usage example::

    texts = Texts.load(kb.referrals, retention_days=180)
    texts.get("too_long", max_chars=2000)
    """

    def __init__(self, raw: Mapping[str, str], defaults: Mapping[str, Any]) -> None:
        missing = [k for k in REQUIRED if k not in raw]
        if missing:
            raise ValueError(f"replies file lacks {missing}")
        self._raw = dict(raw)
        self._defaults = dict(defaults)

    @classmethod
    def load(cls, referrals: tuple[Referral, ...], path: Path = DEFAULT_PATH, **defaults: Any) -> Texts:
        values = {
            "emergency": verified_lines(referrals, ("emergency",)),
            "hotlines": verified_lines(referrals, ("hotline",)),
            "counselling": verified_lines(referrals, ("counselling",)),
            **defaults,
        }
        if not values["emergency"]:
            raise ValueError("the referral directory has no verified emergency number")
        return cls(yaml.safe_load(path.read_text(encoding="utf-8")), values)

    def get(self, key: str, **values: Any) -> str:
        return self._raw[key].format(**{**self._defaults, **values})

    @property
    def bot_unavailable(self) -> str:
        return self.get("bot_unavailable")

    @property
    def empty_reply(self) -> str:
        return self.get("empty_reply")

    @property
    def handoff_button(self) -> str:
        return self.get("handoff_button")

    @property
    def numbered_prompt(self) -> str:
        return self.get("numbered_prompt")
