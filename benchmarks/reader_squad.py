"""Reader quality on SQuAD: EM/F1 on dev v1.1, no-answer accuracy on dev v2.0.

Each question is answered from its own paragraph (the closed setting of the SQuAD
leaderboard), through the same code as ``qa eval reader`` (`qa.evaluation.evaluate_reader`).

    python benchmarks/reader_squad.py                 # full dev sets (9,144 + 10,468 questions)
    python benchmarks/reader_squad.py --limit 500     # 500 questions of each, spread evenly

Needs ../shared/data/squad/ and a trained reader (models/reader, or --reader PATH).
"""

from __future__ import annotations

import argparse
import sys

from common import (
    command_line,
    data_file,
    reader_path,
    result_name,
    set_threads,
    spread,
    table,
    write_results,
)

FILES = {
    "dev-v1.1": "squad/dev-v1.1-public.json",
    "dev-v2.0": "squad/dev-v2.0-public.json",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reader", help="reader checkpoint (default: models/reader)")
    parser.add_argument("--limit", type=int, help="questions per file, spread over the file (default: all)")
    parser.add_argument("--precision", choices=("fp32", "bf16", "int8"), default="bf16")
    parser.add_argument("--device", default="cpu", help="cpu, or a CUDA device such as cuda (default: cpu)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: one per core; use 1 on a busy machine)")
    parser.add_argument("--files", nargs="+", choices=sorted(FILES), default=sorted(FILES))
    args = parser.parse_args(argv)

    paths = {name: data_file(FILES[name]) for name in args.files}
    reader_name = reader_path(args.reader)

    from tqdm import tqdm

    from qa.evaluation import evaluate_reader
    from qa.reader import Reader
    from qa.squad import load_squad

    set_threads(args.threads)
    reader = Reader(reader_name, precision=args.precision, device=args.device)
    reader.warm_up()
    results = {}
    for name, path in paths.items():
        examples = spread(load_squad(path), args.limit)
        with tqdm(total=len(examples), desc=name, unit="q", file=sys.stderr) as bar:
            result = evaluate_reader(reader, examples, progress=lambda done, total: bar.update(1))
        result.pop("predictions")
        results[name] = result
        print(name, {k: v for k, v in result.items()}, file=sys.stderr)

    rows = []
    for name, r in results.items():
        best = ""
        if "best_f1" in r:
            at = r["best_f1_thresh"]
            best = f"{r['best_f1']:.2f} ({'abstain on all' if at is None else f'at {at:.3f}'})"
        rows.append([
            name, r["questions"], r["exact_match"], r["f1"], r.get("HasAns_f1"), r.get("NoAns_accuracy"),
            best, r["questions_per_second"],
        ])
    scope = f"{args.limit} questions per file, spread evenly" if args.limit else "full dev files"
    markdown = (
        f"### Reader on SQuAD ({scope})\n\n"
        f"Reader `{reader_name}` ({args.precision} on {args.device}, no-answer threshold "
        f"{reader.calibration.threshold:g} from its calibration); each question read from its own "
        "paragraph. On v1.1 the best span is always taken; on v2.0 the reader may answer \"no "
        "answer\", and *best F1* is the official threshold sweep.\n\n"
        + table(["file", "questions", "EM", "F1", "HasAns F1", "NoAns accuracy", "best F1 (threshold)",
                 "questions/s"], rows)
    )
    write_results(
        result_name("reader_squad", args.limit),
        {"reader": reader_name, "precision": args.precision, "device": args.device, "limit": args.limit,
         "threshold": reader.calibration.threshold, "results": results},
        markdown, command_line(),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
