"""Outbound text: WeChat takes at most 2048 UTF-8 bytes per text message."""

from __future__ import annotations

from channels.pipeline.messages import split_text

# WeChat drops a longer text reply and shows "该公众号暂时无法提供服务" instead.
MAX_TEXT_BYTES = 2048


def _utf8_bytes(char: str) -> int:
    return len(char.encode("utf-8"))


def pieces(texts: list[str], limit: int = MAX_TEXT_BYTES) -> list[str]:
    """The texts, each longer than ``limit`` bytes cut at line breaks, as messages WeChat accepts."""
    return [piece for text in texts for piece in split_text(text, limit, cost=_utf8_bytes)]


def pack(texts: list[str], limit: int = MAX_TEXT_BYTES) -> tuple[str, list[str]]:
    """The passive reply (the replies joined by blank lines, as many whole pieces as fit) and the pieces left.

    The first piece always goes passively.
    """
    cut = pieces(texts, limit)
    passive = cut[0] if cut else ""
    taken = 1 if cut else 0
    for piece in cut[1:]:
        joined = f"{passive}\n\n{piece}"
        if len(joined.encode("utf-8")) > limit:
            break
        passive, taken = joined, taken + 1
    return passive, cut[taken:]
