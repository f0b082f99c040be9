"""encoding/: the exported m3e-small (ONNX) must tokenize and embed exactly as the reference stack."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from encoding.encoder import SentenceEncoder
from encoding.export import main as export_main
from encoding.tokenizer import WordPieceTokenizer
from retrieval.embedder import SentenceTransformerEmbedder, resolve_model_path

TEXTS = [
    "孩子爸爸在坐牢，妈妈联系不上快一年了，孩子9岁，农村的",
    "你好",
    "hello 在吗？",
    "孫子今年8歲 他媽聯繫不上了",
    "伢喝了半瓶敌敌畏!!!",
    "ＡＢＣ１２３ 全角字符",
    "café naïve Ünïcode",
    "😀 表情 ①②③",
    "tab\tand\nnewline\x00控制\u200b符",
    "Supercalifragilisticexpialidocious" * 4,
    "",
]


class TestWordPieceTokenizer:
    vocab = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "孩", "子", "un", "##aff", "##able", "a", "，", "!")

    def test_splits_every_cjk_character_and_punctuation(self) -> None:
        assert WordPieceTokenizer(self.vocab).tokenize("孩子，孩!") == ["孩", "子", "，", "孩", "!"]

    def test_longest_match_first_with_continuation_pieces(self) -> None:
        assert WordPieceTokenizer(self.vocab).tokenize("unaffable") == ["un", "##aff", "##able"]

    def test_a_word_with_an_unknown_part_is_one_unknown(self) -> None:
        assert WordPieceTokenizer(self.vocab).tokenize("unaffx a") == ["[UNK]", "a"]

    def test_overlong_words_and_control_characters(self) -> None:
        tokenizer = WordPieceTokenizer(self.vocab, max_chars_per_word=5)
        assert tokenizer.tokenize("aaaaaa\x00孩\u200b子") == ["[UNK]", "孩", "子"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("encoder")
    assert export_main(["--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def encoder(exported: Path) -> SentenceEncoder:
    return SentenceEncoder.load(exported)


@pytest.mark.slow
class TestAgainstReference:
    def test_export_writes_the_three_files(self, exported: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert sorted(p.name for p in exported.iterdir()) == ["config.json", "model.onnx", "vocab.txt"]
        assert json.loads((exported / "config.json").read_text())["hidden_size"] == 512

    def test_export_json_summary(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert export_main(["--out", str(tmp_path), "--json"]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert summary["vocab"] == 21128 and summary["hidden_size"] == 512

    def test_tokenizer_matches_huggingface(self, encoder: SentenceEncoder) -> None:
        from tokenizers import Tokenizer

        reference = Tokenizer.from_file(str(Path(resolve_model_path("m3e-small")) / "tokenizer.json"))
        for text in TEXTS:
            assert encoder.tokenizer.tokenize(text) == reference.encode(text, add_special_tokens=False).tokens, text

    def test_vectors_match_sentence_transformers(self, encoder: SentenceEncoder) -> None:
        reference = SentenceTransformerEmbedder()
        reference.warm_up()
        ours, theirs = encoder.embed_texts(TEXTS), reference.encode(TEXTS)
        assert ours.dtype == np.float32 and ours.shape == (len(TEXTS), 512)
        np.testing.assert_allclose((ours * theirs).sum(1), 1.0, atol=1e-4)

    def test_token_vectors_align_with_the_given_tokens(self, encoder: SentenceEncoder) -> None:
        tokens = ["孩子", "爸爸", "\u200b", "在", "坐牢"]
        per_token, sentence = encoder.embed_token_batches([tokens])[0]
        assert per_token.shape == (5, 512) and sentence.shape == (1, 512)
        assert not per_token[2].any()  # a token with no word pieces
        assert all(per_token[i].any() for i in (0, 1, 3, 4))
        assert float(sentence[0] @ encoder.embed_texts(["孩子爸爸在坐牢"])[0]) == pytest.approx(1.0, abs=1e-5)
        # Batching must not change a result (padding is masked out).
        batched = encoder.embed_token_batches([["你好"], tokens, ["一", "个", "更", "长", "的", "句", "子"]])
        np.testing.assert_allclose(batched[1][0], per_token, atol=1e-4)

    def test_input_longer_than_the_model_is_cut_not_an_error(self, encoder: SentenceEncoder) -> None:
        per_token, sentence = encoder.embed_token_batches([["字"] * 600])[0]
        assert per_token[:510].any(axis=1).all() and not per_token[510:].any()
        assert np.isfinite(sentence).all()


def test_loading_without_the_export_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"encoding\.export"):
        SentenceEncoder.load(tmp_path)
