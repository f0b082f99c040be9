"""``python -m encoding.export --out DIR``: export m3e-small once to ONNX (app environment, needs PyTorch).

Writes ``model.onnx`` (the BERT encoder: input ids, attention mask, token types → hidden states),
``vocab.txt`` (one word piece per line, by id) and ``config.json``. Every process then runs it with
onnxruntime; PyTorch is needed for nothing else at run time.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

from encoding.encoder import CONFIG_FILE, MODEL_FILE, VOCAB_FILE

DEFAULT_MODEL = "m3e-small"
OPSET = 17


def export(model: str, model_path: str, out: Path) -> dict[str, object]:
    import torch  # app environment only
    from transformers import AutoModel

    source = Path(model_path)
    bert = AutoModel.from_pretrained(str(source)).eval()

    class Hidden(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    example = torch.tensor([[101, 2111, 102]])
    axes = {0: "batch", 1: "length"}
    out.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        # The TorchScript exporter, on purpose: the newer one needs onnxscript, and this graph is plain BERT.
        warnings.simplefilter("ignore")
        _export(torch, Hidden(bert), example, axes, out)
    tokenizer_data = json.loads((source / "tokenizer.json").read_text(encoding="utf-8"))
    vocab = sorted(tokenizer_data["model"]["vocab"].items(), key=lambda item: item[1])
    if [i for _, i in vocab] != list(range(len(vocab))):
        raise ValueError(f"{source}/tokenizer.json: vocabulary ids are not 0..n-1")
    config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    kept = {"hidden_size": config["hidden_size"], "max_position_embeddings": config["max_position_embeddings"]}
    (out / VOCAB_FILE).write_text("\n".join(piece for piece, _ in vocab), encoding="utf-8")
    (out / CONFIG_FILE).write_text(json.dumps({"model": model, **kept}, indent=2) + "\n", encoding="utf-8")
    return {"model": model, "out": str(out), "vocab": len(vocab), "bytes": (out / MODEL_FILE).stat().st_size, **kept}


def _export(torch: Any, module: Any, example: Any, axes: dict[int, str], out: Path) -> None:
    torch.onnx.export(
        module,
        (example, torch.ones_like(example), torch.zeros_like(example)),
        str(out / MODEL_FILE),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["hidden"],
        dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "hidden": axes},
        opset_version=OPSET,
        dynamo=False,
    )


def main(argv: list[str] | None = None) -> int:
    from retrieval.embedder import resolve_model_path

    parser = argparse.ArgumentParser(prog="python -m encoding.export", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL, help="model name or folder (default: m3e-small)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    summary = export(args.model, resolve_model_path(args.model), args.out)
    print(json.dumps(summary, ensure_ascii=False) if args.json else f"exported {args.model} to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
