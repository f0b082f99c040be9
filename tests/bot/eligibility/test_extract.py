import pytest

from bot.eligibility.extract import FactExtractor
from bot.eligibility.facts import UNKNOWN


@pytest.fixture(scope="module")
def extractor() -> FactExtractor:
    return FactExtractor()


def test_one_message_gives_several_facts(extractor: FactExtractor) -> None:
    facts = extractor.extract("孩子爸爸在坐牢，妈妈联系不上快一年了，孩子9岁，农村的")
    assert facts == {"child_age": 9, "father": "imprisoned", "mother": "lost_contact_6m", "hukou": "rural"}


@pytest.mark.parametrize(
    ("text", "requested", "expected"),
    [
        ("没有", "family_low_income", False),
        ("是的", "family_low_income", True),
        ("嗯 是低保户", "family_low_income", True),
        ("我们家没有", "family_low_income", False),
        ("没有 都挺好的", "guardianship_harm", False),
        ("没得", "child_disability", "none"),
        ("不知道", "in_school", UNKNOWN),
    ],
)
def test_short_answers_fill_the_fact_just_asked(
    extractor: FactExtractor, text: str, requested: str, expected: object
) -> None:
    assert extractor.extract(text, requested=requested) == {requested: expected}


@pytest.mark.parametrize(
    ("text", "requested"),
    [
        ("什么是事实无人抚养儿童", "family_low_income"),  # 无 of 无人抚养 is not a "no"
        ("什么是事实无人抚养儿童", "child_disability"),
        ("12355是干什么的", "guardianship_harm"),  # 是 of 是干什么 is not a "yes"
    ],
)
def test_a_question_in_the_middle_is_not_an_answer(extractor: FactExtractor, text: str, requested: str) -> None:
    assert extractor.extract(text, requested=requested) == {}
