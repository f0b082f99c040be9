from __future__ import annotations

from channels.pipeline.messages import from_rasa, split_text


def test_custom_citations_attach_to_the_preceding_text() -> None:
    replies, signal = from_rasa(
        [
            {"text": "第一段"},
            {"text": "答案", "buttons": [{"title": "转人工", "payload": "/request_human"}]},
            {"custom": {"citations": [{"doc_id": "d", "doc_no": "民发〔2019〕62号", "title": "意见"}]}},
        ]
    )
    assert [r.text for r in replies] == ["第一段", "答案"]
    assert replies[0].citations == []
    assert replies[1].citations[0].doc_no == "民发〔2019〕62号"
    assert replies[1].buttons[0].payload == "/request_human"
    assert signal is None


def test_handoff_payload_becomes_a_signal() -> None:
    replies, signal = from_rasa(
        [
            {"text": "好的，帮您转人工"},
            {"custom": {"handoff": {"reason": "user_request", "priority": "weird", "summary": {"slots": {}}}}},
        ]
    )
    assert signal is not None and signal.reason == "user_request" and signal.priority == "normal"
    assert len(replies) == 1


def test_empty_and_malformed_messages_are_skipped() -> None:
    replies, signal = from_rasa(
        [
            {"text": "  "},
            {"image": "x.png"},
            {"custom": "nope"},
            {"custom": {"citations": [{"doc_id": "x", "doc_no": None, "title": "t"}]}},
        ]
    )
    assert replies == [] and signal is None


def test_split_text_cuts_after_line_breaks_within_the_cost_limit() -> None:
    utf8 = lambda char: len(char.encode("utf-8"))  # noqa: E731
    text = "第一行政策\n第二行政策\n第三行"
    pieces = split_text(text, 33, cost=utf8)  # 11 characters of 3 bytes
    assert pieces == ["第一行政策\n第二行政策", "第三行"]
    assert all(len(p.encode("utf-8")) <= 33 for p in pieces)


def test_split_text_without_line_breaks_cuts_hard_and_loses_nothing() -> None:
    text = "孩" * 10
    assert split_text(text, 4) == ["孩孩孩孩", "孩孩孩孩", "孩孩"]
    assert split_text("", 4) == [] and split_text("短", 4) == ["短"]
