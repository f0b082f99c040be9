"""The whole crisis screen (channels/safety/screen.py): levels, context, clauses, conversation-level risk, evidence."""

from __future__ import annotations

import pytest

from channels.safety.screen import SafetyScreen
from tools.crisis_bench import evaluate, load_bank


def test_development_bank_in_sample(safety_screen: SafetyScreen) -> None:
    """In-sample (the model was trained on this bank): a floor that catches a broken model or lexicon; the
    honest figures are the cross-validated ones (docs/benchmarks.md) and the held-out bank's first run."""
    danger, benign = load_bank()
    report = evaluate(safety_screen, danger, benign)
    assert report.recall >= 0.99, [i.text for i in report.missed]
    assert report.false_alarm_rate <= 0.02, [i.text for i, _ in report.false_alarms]


@pytest.mark.parametrize(
    "text",
    [
        "他爸前年出车祸死了 他妈联系不上三年了",  # a screening answer about the parents
        "孩子妈妈生病走了 爸爸在外地打工",
        "他爸判了五年刑 还在里面",
        "上个月有个伢溺水了 派出所已经处理完了 现在在搞防溺水教育",
        "新闻里说外地有个孩子被拐了 我们村要怎么防",
        "农药锁在柜子里了 钥匙放高处 这样行不行",
        "笑死我了 这个视频太好笑",
    ],
)
def test_near_misses_raise_no_alarm(safety_screen: SafetyScreen, text: str) -> None:
    assert safety_screen.assess(text).level != "urgent"


@pytest.mark.parametrize(
    "text",
    [
        "他把自己关在房间两天了 饭也不吃 敲门也不开",
        "有个人在网上说给我介绍厂里的活 包吃住 让我别告诉家里人 明天就去",
        "i dont want to live anymore",
        "wo bu xiang huo le",
        "請問事實無人撫養兒童怎麼申請？另外我爸昨晚又拿皮帶抽我 我好怕",
    ],
)
def test_new_wordings_are_caught(safety_screen: SafetyScreen, text: str) -> None:
    assert safety_screen.assess(text).level in ("urgent", "concern")


def test_a_danger_sentence_after_a_policy_question_is_judged_on_its_own(safety_screen: SafetyScreen) -> None:
    alone = safety_screen.assess("孤儿基本生活费怎么申请")
    appended = safety_screen.assess("孤儿基本生活费怎么申请 还有我叔叔晚上老是摸我 我好怕")
    assert alone.level == "none" and appended.level == "urgent"


def test_context_moves_the_score_and_says_why(safety_screen: SafetyScreen) -> None:
    now = safety_screen.assess("我爸又喝醉了在打我妈")
    past = safety_screen.assess("以前我爸喝醉了会打我妈 后来他戒酒了 现在对我们很好")
    assert now.level == "urgent" and past.level != "urgent" and past.score < now.score
    assert any(s.name == "resolved_past" for s in past.signals)


def test_earlier_hopelessness_and_a_plan_now_is_urgent(safety_screen: SafetyScreen) -> None:
    before = safety_screen.assess("每天都不开心 不知道为什么要活着")
    assert before.level == "concern"
    plan = "东西都准备好了 今晚就去"
    assert safety_screen.assess(plan).level != "urgent"
    escalated = safety_screen.assess(plan, recent=[before.score])
    assert escalated.level == "urgent"
    assert any(s.name == "conversation" for s in escalated.signals)


def test_every_decision_keeps_its_evidence_in_chinese(safety_screen: SafetyScreen) -> None:
    assessment = safety_screen.assess("继父晚上摸我 还说不准告诉妈妈")
    names = {s.name for s in assessment.signals}
    assert {"model", "sexual_abuse", "secrecy"} <= names
    labels = {e["label"] for e in assessment.evidence()}
    assert "性侵害" in labels and "要求保密或不让家人知道" in labels
    assert all(not str(e["label"]).isascii() for e in assessment.evidence())


class _FixedModel:
    """A model that gives every piece the same logit (to test how the levels combine)."""

    def __init__(self, logit: float) -> None:
        self.logit = logit

    def logits(self, vectors: object, texts: list[str]) -> list[float]:
        return [self.logit] * len(texts)


class _NoEncoder:
    def embed_texts(self, texts: list[str], *, batch_size: int = 32) -> list[None]:
        return [None] * len(texts)


def _screen_with(logit: float) -> SafetyScreen:
    from channels.safety.context import ContextRules
    from channels.safety.crisis import CrisisScreen

    return SafetyScreen(CrisisScreen.load(), _FixedModel(logit), ContextRules.load(), _NoEncoder())  # type: ignore[arg-type]


def test_an_urgent_alarm_needs_two_signals_that_agree() -> None:
    rules_urgent = _screen_with(0.0).rules.urgent
    model_only = _screen_with(rules_urgent + 0.5).assess("伢这几天怪怪的 不晓得么样搞")
    assert model_only.level == "concern"  # the model alone, not nearly certain: staff review, no alarm
    assert "single_signal" in {s.name for s in model_only.signals}
    with_lexicon = _screen_with(rules_urgent + 0.5).assess("我叔叔晚上老是摸我")
    assert with_lexicon.level == "urgent"
    certain = _screen_with(_screen_with(0.0).rules.model_alone + 0.5).assess("伢这几天怪怪的 不晓得么样搞")
    assert certain.level == "urgent"


def test_context_that_says_it_is_not_happening_now_holds_the_message_at_concern() -> None:
    screen = _screen_with(screen_urgent := _screen_with(0.0).rules.urgent + 2.0)
    assert screen_urgent > 0
    news = screen.assess("刷到一个新闻说国外有小孩玩火把房子烧了 好可怕")
    assert news.level == "concern" and "reported_news" in {s.name for s in news.signals}
    plan = screen.assess("以前他打过我 派出所来过 他说明天还要来 不准我告诉奶奶")
    assert plan.level == "urgent"  # a plan and a secret outweigh the past


def test_sos_is_a_word_not_letters_inside_other_words() -> None:
    from channels.safety.crisis import CrisisScreen

    lexicon = CrisisScreen.load()
    assert lexicon.check("my grandma is so strict, shes so strict lol") is None
    assert lexicon.check("SOS 救救我") is not None
