from __future__ import annotations

import logging

import pytest

from channels.safety.privacy import PiiFilter, mask_phone, mask_pii


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("我的电话13812345678", "13812345678"),
        ("电话 138 1234 5678", "1234"),
        ("+86 13912345678", "13912345678"),
        ("身份证420502201001011234", "420502201001011234"),
        ("身份证号 42050220100101123X", "42050220100101123X"),
        ("银行卡 6222 0212 3456 7890 123", "3456 7890"),
        ("座机0717-6543210", "6543210"),
        ("住在夷陵区小溪塔街道发展大道88号3栋2单元501室", "501"),
        ("茅坪镇某某村3组", "3组"),
    ],
)
def test_personal_data_is_masked(text: str, hidden: str) -> None:
    masked = mask_pii(text)
    assert hidden not in masked and "*" in masked


@pytest.mark.parametrize("text", ["民发〔2019〕62号", "未成年人保护法第二十二条", "15个工作日", "孩子9岁", "拨打12355"])
def test_policy_text_is_left_alone(text: str) -> None:
    assert mask_pii(text) == text


def test_phone_for_list_views() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone(None) is None


def test_log_records_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tongxin.test.pii")
    logger.addFilter(PiiFilter())
    with caplog.at_level(logging.INFO, logger="tongxin.test.pii"):
        logger.info("user said %s", "我的电话13812345678")
    assert "13812345678" not in caplog.text and "138****5678" in caplog.text
