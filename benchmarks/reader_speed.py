#!/usr/bin/env python
"""Reader speed and accuracy by precision: plain fp32 eager torch (the baseline) against bf16
autocast and int8 dynamic quantisation, measured in the same run.

Speed: questions/second on 384-token passages (full windows, batches of 8), as the Assistant
reads them. Accuracy: EM/F1 on the first --limit questions of SQuAD v1.1 dev, so a faster
precision is adopted only if it keeps F1 within 0.5 points.

    python benchmarks/reader_speed.py [--reader models/reader] [--limit 1000]

Needs ../shared/data/squad/dev-v1.1-public.json. Writes results/reader_speed.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
DEV = ROOT.parent / "shared" / "data" / "squad" / "dev-v1.1-public.json"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reader", default=str(ROOT / "models" / "reader"))
    p.add_argument("--limit", type=int, default=1000, help="dev questions for the accuracy check")
    p.add_argument("--passages", type=int, default=64, help="384-token passages timed per precision")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    if not DEV.exists():
        print(f"Missing {DEV}: this benchmark needs ../shared/data (see its README).", file=sys.stderr)
        return 1

    import torch

    from qa.evaluation import evaluate_reader
    from qa.reader import PRECISIONS, Reader
    from qa.squad import load_squad

    examples = load_squad(DEV)
    # Passages of exactly 384 tokens: dev contexts concatenated and cut by the tokenizer.
    long_text = " ".join(dict.fromkeys(ex.context for ex in examples[:400]))
    question = examples[0].question
    rows = []
    for precision in PRECISIONS:
        reader = Reader(args.reader, precision=precision, batch_size=8)
        reader.warm_up()
        tok = reader._tokenizer  # a tokenizers.Tokenizer
        ids = tok.encode(long_text, add_special_tokens=False).ids
        q_len = len(tok.encode(question).ids)
        per = 384 - q_len - 1
        passages = [tok.decode(ids[i * per : (i + 1) * per]) for i in range(args.passages)]
        reader.read(question, passages[:8])  # warm-up
        times = []
        for _ in range(args.repeats):
            t = time.perf_counter()
            for lo in range(0, len(passages), 8):
                reader.read(question, passages[lo : lo + 8])
            times.append(time.perf_counter() - t)
        sec = statistics.median(times)
        acc = evaluate_reader(reader, examples, limit=args.limit, threshold=0.0)
        rows.append({"precision": precision, "passages_per_s": round(len(passages) / sec, 2),
                     "ms_per_passage": round(1000 * sec / len(passages), 1),
                     "exact_match": acc["exact_match"], "f1": acc["f1"],
                     "questions_per_s_squad": acc["questions_per_second"]})
        print(json.dumps(rows[-1]), flush=True)
    base = rows[0]
    for r in rows:
        r["speedup_vs_fp32"] = round(r["passages_per_s"] / base["passages_per_s"], 2)
        r["f1_delta_vs_fp32"] = round(r["f1"] - base["f1"], 2)
        r["keeps_f1_within_0.5"] = abs(r["f1_delta_vs_fp32"]) <= 0.5
    meta = {"reader": str(args.reader), "dev_questions": args.limit, "timed_passages": args.passages,
            "torch": torch.__version__, "threads": torch.get_num_threads(), "cpu": platform.processor() or platform.machine(),
            "date": time.strftime("%Y-%m-%d")}
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "reader_speed.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    lines = ["# Reader speed by precision", "",
             f"{meta['date']}, torch {meta['torch']}, {meta['threads']} threads; speed on 384-token passages "
             f"in batches of 8; EM/F1 on the first {args.limit} SQuAD v1.1 dev questions.", "",
             "| precision | passages/s | ms/passage | speed-up vs fp32 | EM | F1 | F1 vs fp32 |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['precision']} | {r['passages_per_s']} | {r['ms_per_passage']} | {r['speedup_vs_fp32']}x | "
                     f"{r['exact_match']} | {r['f1']} | {r['f1_delta_vs_fp32']:+} |")
    (out / "reader_speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
