#!/usr/bin/env python
"""Fit the reader's confidence calibration and no-answer threshold on SQuAD v2.0 dev and store
them in the model folder (calibration.json). Needs ../shared/data/squad/dev-v2.0-public.json."""

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> int:
    from tqdm import tqdm

    from qa.calibration import fit_calibration
    from qa.evaluation import evaluate_reader
    from qa.reader import Calibration, Reader
    from qa.settings import DEFAULT_READER
    from qa.squad import load_squad

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--reader", default=str(DEFAULT_READER), help="model folder (default: models/reader)")
    p.add_argument("--file", default="../shared/data/squad/dev-v2.0-public.json")
    p.add_argument("--limit", type=int, default=0, help="N questions spread evenly over the file (default: all)")
    p.add_argument("--precision", choices=("fp32", "bf16", "int8"), default="bf16")
    args = p.parse_args()

    examples = load_squad(args.file)
    if args.limit and args.limit < len(examples):
        step = len(examples) / args.limit  # every k-th question: all articles, not the first few
        examples = [examples[int(i * step)] for i in range(args.limit)]
    reader = Reader(args.reader, precision=args.precision)
    reader.warm_up()
    reader.calibration = Calibration()  # fit from raw scores, whatever is stored now
    bar = tqdm(total=len(examples), desc="read", unit="q", mininterval=5)
    result = evaluate_reader(reader, examples, threshold=0.5,
                             progress=lambda d, t: bar.update(1))
    bar.close()
    cal, report = fit_calibration(result["predictions"], fitted_on=Path(args.file).name)
    report["command"] = " ".join(["python", *sys.argv])
    cal.save(Path(args.reader), extra={"report": report})
    print(json.dumps({"calibration": json.loads((Path(args.reader) / "calibration.json").read_text())}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
