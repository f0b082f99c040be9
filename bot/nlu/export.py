"""``python -m bot.nlu.export --out DIR``: write m3e-small as numpy for the Rasa environment.

Runs in the app environment (PyTorch reads the shipped ``pytorch_model.bin``). Writes
``weights.npz`` (no pickle), ``vocab.txt`` (one word piece per line, by id) and ``config.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from bot.nlu.encoder import CONFIG_FILE, VOCAB_FILE, WEIGHTS_FILE, EncoderConfig
from retrieval.embedder import DEFAULT_MODEL, resolve_model_path


def export(model: str, out: Path) -> dict[str, object]:
    import torch  # app environment only

    source = Path(resolve_model_path(model))
    state = torch.load(source / "pytorch_model.bin", map_location="cpu", weights_only=True)
    # The pooler is not used by mean pooling; some checkpoints prefix names with "bert.".
    arrays = {
        name.removeprefix("bert."): tensor.float().numpy()
        for name, tensor in state.items()
        if not name.removeprefix("bert.").startswith("pooler.") and name.endswith(("weight", "bias"))
    }
    tokenizer = json.loads((source / "tokenizer.json").read_text(encoding="utf-8"))
    vocab = sorted(tokenizer["model"]["vocab"].items(), key=lambda item: item[1])
    if [i for _, i in vocab] != list(range(len(vocab))):
        raise ValueError(f"{source}/tokenizer.json: vocabulary ids are not 0..n-1")
    config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    kept = {name: config[name] for name in EncoderConfig.__dataclass_fields__}

    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / WEIGHTS_FILE, **arrays)
    (out / VOCAB_FILE).write_text("\n".join(piece for piece, _ in vocab), encoding="utf-8")
    (out / CONFIG_FILE).write_text(json.dumps({"model": model, **kept}, indent=2) + "\n", encoding="utf-8")
    return {"model": model, "out": str(out), "tensors": len(arrays), "vocab": len(vocab), **kept}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.nlu.export", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=DEFAULT_MODEL, help="model name or folder (default: m3e-small)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    summary = export(args.model, args.out)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(f"exported {summary['tensors']} tensors to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
