"""The facts schema of the screening (names and values are a public contract: keep them)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from knowledge_base.eligibility import ParentStatus

FACT_NAMES = (
    "child_age",
    "hukou",
    "father",
    "mother",
    "child_disability",
    "family_low_income",
    "in_school",
    "guardianship_harm",
)
# The order questions are asked in: who the child is, then the parents, then the rest.
ASK_ORDER = (
    "child_age",
    "father",
    "mother",
    "hukou",
    "in_school",
    "family_low_income",
    "child_disability",
    "guardianship_harm",
)
UNKNOWN = "unknown"  # the user answered "不知道": asked, but still missing for the rules


class Facts(BaseModel):
    """What is known about the child. Every field may be missing; missing facts never count against anyone."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    child_age: int | None = Field(None, ge=0, le=30)
    hukou: Literal["rural", "urban"] | None = None
    father: ParentStatus | None = None
    mother: ParentStatus | None = None
    child_disability: Literal["none", "certified"] | None = None
    family_low_income: bool | None = None
    in_school: bool | None = None
    guardianship_harm: bool | None = None

    @classmethod
    def from_slots(cls, slots: dict[str, Any]) -> Facts:
        """Build from dialogue slots, where "unknown" (不知道) and absent both mean missing."""
        values = {name: slots.get(name) for name in FACT_NAMES}
        return cls.model_validate({k: v for k, v in values.items() if v is not None and v != UNKNOWN})

    def known(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump().items() if v is not None}
