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


@pytest.mark.parametrize(
    ("text", "parent", "ask"),
    [
        ("孩子他妈跑了好几年", "mother", "reachable"),  # gone is not 失联 unless she cannot be reached
        ("他爸不管孩子", "father", "reachable"),
        ("他妈好几年不回来了", "mother", "reachable"),
        ("娃他爸是精神病", "father", "grade"),  # 重残 is a grade on a disability certificate
        ("他妈瘫痪在床", "mother", "grade"),
        ("他爸有点痴呆", "father", "grade"),
        ("他爸被抓了", "father", "term:detained"),  # the term decides, and it was not said
        ("他爸关在看守所", "father", "term:detained"),
        ("他爸坐牢两个月了", "father", "term:imprisoned"),  # two months served says nothing of the term
        ("他妈走了几年了", "mother", "died_or_left"),
        ("他妈联系不上", "mother", "how_long"),
    ],
)
def test_words_that_do_not_settle_a_status_lead_to_a_question(
    extractor: FactExtractor, text: str, parent: str, ask: str
) -> None:
    reading = extractor.read(text)
    assert parent not in reading.facts
    assert reading.clarify == {parent: ask}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("他爸判了两年", {"father": "imprisoned"}),  # the term, counted at once
        ("爸爸判了4个月", {"father": "detained_short"}),  # a short term never counts
        ("他爸坐牢三年了", {"father": "imprisoned"}),  # served three years: the term is longer than 6 months
        ("他爸关在看守所 判了8个月", {"father": "imprisoned"}),
        ("他妈跑了好几年没音信", {"mother": "lost_contact_6m"}),
        ("他妈联系不上三个月", {"mother": "lost_contact_short"}),
        ("他爸不管孩子 电话打得通", {"father": "absent_reachable"}),
        ("他妈是精神病 有二级残疾证", {"mother": "severe_disability"}),
        ("他爸三级肢体残疾", {"father": "other_disability"}),
        ("他妈有三级智力残疾证", {"mother": "severe_disability"}),
        ("孩子妈妈生病走了", {"mother": "deceased"}),
        ("不对不对 他爸不是坐牢 是在外面打工", {"father": "migrant_worker"}),
        ("娃他爸他妈都在广东打工", {"father": "migrant_worker", "mother": "migrant_worker"}),
        ("伢他爸服行三年", {"father": "imprisoned"}),  # voice typing: 服行 → 服刑
    ],
)
def test_settled_statuses(extractor: FactExtractor, text: str, expected: dict[str, str]) -> None:
    reading = extractor.read(text)
    assert {k: v for k, v in reading.facts.items() if k in ("father", "mother")} == expected
    assert reading.clarify == {}


@pytest.mark.parametrize(
    ("text", "pending", "expected"),
    [
        ("能联系上", "reachable", "absent_reachable"),
        ("联系不上半年以上", "reachable", "lost_contact_6m"),
        ("联系不上不到半年", "reachable", "lost_contact_short"),
        ("判了两年", "term:detained", "detained"),
        ("不到6个月", "term:imprisoned", "detained_short"),
        ("还没判", "term:detained", UNKNOWN),
        ("二级", "grade", "severe_disability"),
        ("三级或四级的其他残疾", "grade", "other_disability"),
        ("没有残疾证", "grade", UNKNOWN),
        ("去世了", "died_or_left", "deceased"),
    ],
)
def test_answers_to_the_clarifying_question(extractor: FactExtractor, text: str, pending: str, expected: str) -> None:
    assert extractor.read(text, requested="father", pending=pending).facts.get("father") == expected


@pytest.mark.parametrize(
    ("text", "requested", "expected"),
    [
        # An answer to one question that also settles the others, in dialect.
        (
            "伢在读四年级 冇得残疾 屋里不是低保 也冇人打他",
            "family_low_income",
            {"family_low_income": False, "child_disability": "none", "in_school": True, "guardianship_harm": False},
        ),
        ("屋里冇吃低保", "family_low_income", {"family_low_income": False}),
        ("伢在城里读六年级", "in_school", {"in_school": True, "hukou": "urban"}),
    ],
)
def test_an_answer_is_read_for_every_fact_it_states(
    extractor: FactExtractor, text: str, requested: str, expected: dict[str, object]
) -> None:
    assert extractor.read(text, requested=requested).facts == expected


@pytest.mark.parametrize(
    "text",
    ["康复救助是不是只管6岁以下的", "不满16周岁的孩子能一个人在家吗", "未满十八周岁的才算吗", "18岁以后还能领吗"],
)
def test_an_age_bound_of_a_rule_is_not_the_childs_age(extractor: FactExtractor, text: str) -> None:
    assert "child_age" not in extractor.read(text).facts


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("伢上个月满了十六", 16),
        ("孩子今年16岁半", 16),
        ("孩子十二岁了", 12),
        # As the action server receives it: normalised, the spaces between clauses gone.
        ("孩子十五了户口在农村他爸他妈都在浙江打工", 15),
    ],
)
def test_the_childs_age(extractor: FactExtractor, text: str, age: int) -> None:
    assert extractor.read(text).facts["child_age"] == age


@pytest.mark.parametrize("text", ["孩子三年级了", "孩子两个了都在读书", "孩子一个人在家"])
def test_a_number_after_the_child_that_is_not_an_age(extractor: FactExtractor, text: str) -> None:
    assert "child_age" not in extractor.read(text).facts
