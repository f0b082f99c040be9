from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import ROOT
from textnorm import clean_display, normalize, strip_scrape_noise, to_simplified

SEED = ROOT.parent / "shared" / "seed" / "yichang_minors_protection_article.txt"


def seed_text() -> str:
    if SEED.exists():
        return SEED.read_text(encoding="utf-8")
    # The seed lives outside the repository; keep a faithful excerpt for clones without it.
    return (
        "今年以來,湖北省宜昌市認真貫徹落實黨中央,、國務院關(guān)于未成年人關(guān)愛保護的決策部署,"
        "在全市建立涵蓋112名兒童督導員,、1654名兒童主任的“愛心大使”團隊,,"
        "開展專題業(yè)務培訓,,確保政策精神直達末端,。在各縣(市,、區(qū))建立9個未成年人保護中心"
    )


def test_pinyin_ruby_noise_is_removed_from_the_seed() -> None:
    text = normalize(seed_text())
    assert not re.search(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)", text)
    assert "关于未成年人关爱保护" in text
    assert "业务培训" in text


def test_seed_becomes_simplified_with_clean_punctuation() -> None:
    text = normalize(seed_text())
    assert "儿童督导员" in text and "兒童" not in text
    assert ",," not in text and ",、" not in text and ",。" not in text
    assert "各县(市、区)" in text  # an ordinary bracket stays; only pinyin goes


def test_full_width_and_spacing_fold() -> None:
    assert normalize("ＡＢＣ１２３　娃 他 爸") == "abc123 娃他爸"
    assert normalize("  事實無人撫養兒童\t怎麼申請？ ") == "事实无人抚养儿童怎么申请?"


def test_queries_and_documents_normalise_the_same_way() -> None:
    assert normalize("事實無人撫養兒童") == normalize("事实无人抚养儿童")


def test_keep_newlines_keeps_paragraphs() -> None:
    assert normalize("第一段。\n\n\n第二段。", keep_newlines=True) == "第一段。\n第二段。"


def test_latin_brackets_are_not_pinyin() -> None:
    assert strip_scrape_noise("附件(PDF)") == "附件(PDF)"
    assert strip_scrape_noise("關(guān)于") == "關于"


def test_clean_display_keeps_width_and_case() -> None:
    assert clean_display("關(guān)於（試行）ABC") == "关于（试行）ABC"


def test_skipping_the_converter_never_changes_its_result() -> None:
    """A text is only passed over when the converter would return it unchanged: every word and
    character the t2s dictionaries rewrite, set in a simplified sentence, comes out as OpenCC makes it."""
    import opencc

    from textnorm.script import _t2s

    folder = Path(opencc.__file__).parent / "dictionary"
    keys = [
        line.split("\t")[0]
        for name in ("TSPhrases.txt", "TSCharacters.txt")
        for line in (folder / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    sentences = [f"我们{key}的孩子" for key in keys] + ["孩子的爸爸在外地打工，妈妈失联了。"]
    assert [to_simplified(s) for s in sentences] == [_t2s().convert(s) for s in sentences]
    assert to_simplified("孩子的爸爸在外地打工") == "孩子的爸爸在外地打工"
