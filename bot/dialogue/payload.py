"""The custom JSON payloads actions send to the gateway (no user-facing text: that is in domain.yml).

Rasa's REST channel delivers a ``custom`` payload as its own message right after the text of the
same utterance; the gateway attaches ``citations`` to that text and acts on ``handoff``.
"""

from __future__ import annotations

from typing import Any

from bot.eligibility.engine import ProgramResult
from retrieval.answer import AnswerCard

PAYLOAD_VERSION = 1


def answer_payload(card: AnswerCard) -> dict[str, Any]:
    return {
        "tongxin": PAYLOAD_VERSION,
        "kind": "policy_answer",
        "doc_id": card.doc_id,
        "confidence": round(card.confidence, 4),
        "citations": [c.to_json() for c in card.sources],
    }


def handoff_payload(reason: str, priority: str, summary: dict[str, Any]) -> dict[str, Any]:
    return {
        "tongxin": PAYLOAD_VERSION,
        "kind": "handoff",
        "handoff": {"reason": reason, "priority": priority, "summary": summary},
    }


def screening_payload(result: ProgramResult) -> dict[str, Any]:
    citations = [{"doc_id": c["doc_id"], "doc_no": c["doc_no"], "title": c["title"]} for c in result.citations]
    return {
        "tongxin": PAYLOAD_VERSION,
        "kind": "screening",
        "program": result.id,
        "verdict": result.verdict,
        "citations": citations,
    }


def delete_request_payload() -> dict[str, Any]:
    return {"tongxin": PAYLOAD_VERSION, "kind": "delete_request"}
