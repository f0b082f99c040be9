from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from knowledge_base.schema import PolicyMeta, Referral


def meta(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "sample_doc",
        "title": "示例",
        "doc_no": "民发〔2019〕62号",
        "issuer": "民政部",
        "issued": "2019-06",
        "status": "current",
        "scope": "national",
        "audience": ["parent"],
        "topics": ["de_facto_unsupported"],
        "questions": [f"问题{i}" for i in range(6)],
        "summary": "这是给家长看的两句话摘要。第二句。",
    }
    base.update(overrides)
    return base


def test_valid_front_matter_parses() -> None:
    m = PolicyMeta.model_validate(meta())
    assert m.doc_no == "民发〔2019〕62号" and m.answerable


@pytest.mark.parametrize("doc_no", ["民发[2019]62号", "民发〔2019〕62", "民发(2019)62号", "〔2019〕62号"])
def test_doc_no_must_be_written_as_issued(doc_no: str) -> None:
    with pytest.raises(ValidationError, match="as issued"):
        PolicyMeta.model_validate(meta(doc_no=doc_no))


@pytest.mark.parametrize("issued", ["2019", "2019-06", "2019-06-30"])
def test_partial_dates_are_kept_as_precise_as_the_source(issued: str) -> None:
    assert PolicyMeta.model_validate(meta(issued=issued)).issued == issued


@pytest.mark.parametrize("issued", ["2019-13", "2019-02-30", "June 2019"])
def test_bad_dates_are_rejected(issued: str) -> None:
    with pytest.raises(ValidationError):
        PolicyMeta.model_validate(meta(issued=issued))


def test_a_law_has_articles_and_no_doc_no() -> None:
    with pytest.raises(ValidationError, match="not both"):
        PolicyMeta.model_validate(meta(law="中华人民共和国未成年人保护法", articles=[22]))
    with pytest.raises(ValidationError, match="articles"):
        PolicyMeta.model_validate(meta(doc_no=None, law="中华人民共和国未成年人保护法"))
    ok = PolicyMeta.model_validate(meta(doc_no=None, law="中华人民共和国未成年人保护法", articles=[22]))
    assert ok.articles == (22,)


def test_status_fields_go_together() -> None:
    with pytest.raises(ValidationError, match="amended_by"):
        PolicyMeta.model_validate(meta(status="amended"))
    with pytest.raises(ValidationError, match="superseded"):
        PolicyMeta.model_validate(meta(status="superseded"))
    old = PolicyMeta.model_validate(meta(status="superseded", superseded_by="newer_doc"))
    assert not old.answerable


def test_questions_count_is_bounded() -> None:
    with pytest.raises(ValidationError):
        PolicyMeta.model_validate(meta(questions=["就一个问题"]))


def test_unknown_fields_are_rejected() -> None:
    with pytest.raises(ValidationError, match="Extra inputs"):
        PolicyMeta.model_validate(meta(amount="600元"))


def referral(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "x",
        "name": "某机构",
        "kind": "protection_centre",
        "scope": "yichang",
        "county": "西陵区",
        "purpose": "保护",
        "who_should_call": "家长",
        "verified": False,
        "source": "seed",
    }
    base.update(overrides)
    return base


def test_unverified_referral_cannot_carry_contact_details() -> None:
    with pytest.raises(ValidationError, match="unverified"):
        Referral.model_validate(referral(phone="0717-1234567"))
    with pytest.raises(ValidationError, match="unverified"):
        Referral.model_validate(referral(address="某路1号"))


def test_verified_only_for_fact_sheet_numbers() -> None:
    with pytest.raises(ValidationError, match="not a verified number"):
        Referral.model_validate(referral(verified=True, phone="12349", scope="national", county=None))
    ok = Referral.model_validate(referral(verified=True, phone="12355", scope="national", county=None))
    assert ok.public_contact() == "12355"


def test_public_contact_is_none_for_unverified_entries() -> None:
    # Even an entry constructed around validation (e.g. by future code) never shows its number.
    entry = Referral.model_construct(**referral(phone="0717-0000000"))
    assert entry.public_contact() is None


def test_county_must_be_a_yichang_county() -> None:
    with pytest.raises(ValidationError):
        Referral.model_validate(referral(county="武昌区"))


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("note", "值班电话 0717-6223456"),
        ("note", "可以打6223456咨询"),
        ("hours", "工作日8:30-17:30，电话8888"),
        ("purpose", "心理咨询，拨打 13912345678"),
        ("who_should_call", "家长（热线 96333）"),
    ],
)
def test_unverified_free_text_cannot_hide_a_phone_number(field: str, text: str) -> None:
    with pytest.raises(ValidationError, match="reads like a phone number"):
        Referral.model_validate(referral(**{field: text}))


@pytest.mark.parametrize(
    "note", ["全市有112名儿童督导员、1654名儿童主任", "2016年起运行，遇到危险请打110或12355", "共建有9个中心"]
)
def test_counts_years_and_verified_lines_are_not_phone_numbers(note: str) -> None:
    assert Referral.model_validate(referral(note=note)).note == note
