"""Gateway-side reply texts from ``data/replies.zh.yml``, with phone numbers from verified referrals only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge_base.schema import Referral

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "replies.zh.yml"


def verified_lines(referrals: tuple[Referral, ...], kinds: tuple[str, ...]) -> str:
    """"110（报警电话）、120（…）": only entries whose contact may be shown."""
    parts = []
    for ref in referrals:
        contact = ref.public_contact()
        if contact and ref.kind in kinds:
            parts.append(f"{contact}（{ref.name}）")
    return "、".join(parts)


@dataclass(frozen=True)
class GatewayTexts:
    bot_unavailable: str
    empty_reply: str
    handoff_button: str

    @classmethod
    def load(cls, referrals: tuple[Referral, ...], path: Path = DEFAULT_PATH) -> GatewayTexts:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        values = {
            "emergency": verified_lines(referrals, ("emergency",)),
            "hotlines": verified_lines(referrals, ("hotline", "counselling")),
        }
        if not values["emergency"]:
            raise ValueError("the referral directory has no verified emergency number")
        return cls(
            bot_unavailable=raw["bot_unavailable"].format(**values),
            empty_reply=raw["empty_reply"].format(**values),
            handoff_button=raw["handoff_button"],
        )
