#!/usr/bin/env python
"""Fit the reader's confidence calibration and its two thresholds on SQuAD v2.0 dev and store
them in the model folder (calibration.json); see `qa.calibration` for why two.

1. Every question read from its own paragraph: the logistic calibration, and the no-answer
   threshold (the lowest that rejects 70% of the unanswerable questions).
2. --off-topic N questions read against the 8 closest paragraphs of other articles: the
   tentative threshold (the lowest that rejects --off-topic-rejection of them).

Needs ../shared/data/squad/dev-v2.0-public.json (about 10 minutes on 2 CPU cores)."""

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> int:
    from dataclasses import replace

    from tqdm import tqdm

    from qa.calibration import fit_calibration, off_topic_questions, rejecting
    from qa.embedding import Embedder
    from qa.evaluation import evaluate_reader, read_passages, spread
    from qa.reader import Calibration, Reader
    from qa.settings import DEFAULT_READER
    from qa.squad import load_squad

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reader", default=str(DEFAULT_READER), help="model folder (default: models/reader)")
    p.add_argument("--file", default="../shared/data/squad/dev-v2.0-public.json")
    p.add_argument("--limit", type=int, default=0, help="N questions spread evenly over the file (default: all)")
    p.add_argument("--precision", choices=("fp32", "bf16", "int8"), default="bf16")
    p.add_argument("--off-topic", type=int, default=1000, metavar="N",
                   help="questions for the tentative threshold (0: none; default: 1000)")
    p.add_argument("--off-topic-rejection", type=float, default=0.95, metavar="SHARE",
                   help="share of off-topic questions the tentative threshold rejects (default: 0.95)")
    args = p.parse_args()
    if not Path(args.file).exists():
        sys.exit(f"{args.file} is missing: calibration needs SQuAD v2.0 dev (../shared/data/squad/).")

    all_examples = load_squad(args.file)
    examples = spread(all_examples, args.limit or None)  # every k-th question: all articles
    reader = Reader(args.reader, precision=args.precision)
    reader.warm_up()
    reader.calibration = Calibration()  # fit from raw scores, whatever is stored now
    bar = tqdm(total=len(examples), desc="own paragraph", unit="q", mininterval=5)
    result = evaluate_reader(reader, examples, threshold=0.5,
                             progress=lambda d, t: bar.update(1))
    bar.close()
    cal, report = fit_calibration(result["predictions"], fitted_on=Path(args.file).name)

    if args.off_topic:
        reader.calibration = cal
        pairs = off_topic_questions([ex for ex in all_examples if not ex.is_impossible],
                                    Embedder(), limit=args.off_topic)
        confidences = [read_passages(reader, q, contexts).score
                       for q, contexts in tqdm(pairs, desc="off-topic", unit="q", mininterval=5)]
        tentative = rejecting(confidences, args.off_topic_rejection)
        cal = replace(cal, tentative_threshold=round(min(tentative, cal.threshold), 6))
        report["off_topic"] = {
            "questions": len(pairs), "passages_each": 8, "rejection": args.off_topic_rejection,
            "tentative_threshold": cal.tentative_threshold,
            "rejected_at_threshold": round(100.0 * sum(c < cal.threshold for c in confidences) / len(pairs), 2),
            "rejected_at_tentative": round(100.0 * sum(c < cal.tentative_threshold for c in confidences) / len(pairs), 2),
        }
        # What the tentative band costs on SQuAD v2.0 itself: answerable questions it answers,
        # unanswerable ones it answers (tentatively) that the first threshold would have refused.
        preds = result["predictions"]
        conf = [cal.confidence_of(p["margin"], p["raw_score"]) for p in preds]
        has = [c for c, p in zip(conf, preds) if p["answers"]]
        no = [c for c, p in zip(conf, preds) if not p["answers"]]
        report["off_topic"]["v2_NoAns_rejected_at_tentative"] = round(100.0 * sum(c < cal.tentative_threshold for c in no) / max(1, len(no)), 2)
        report["off_topic"]["v2_HasAns_answered_at_tentative"] = round(100.0 * sum(c >= cal.tentative_threshold for c in has) / max(1, len(has)), 2)
    report["command"] = " ".join(["python", *sys.argv])
    cal.save(Path(args.reader), extra={"report": report})
    print(json.dumps({"calibration": json.loads((Path(args.reader) / "calibration.json").read_text())}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
