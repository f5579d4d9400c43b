"""Cold start of ``qa ask``: a new process, from launch to the printed answer, old code against new.

    python benchmarks/cold_start.py [--before 0f2e595] [--runs 5] [--threads 1]

The code at ``--before`` is checked out into a temporary git worktree; each version answers the
card question over the sample article (corpus/) from its own, already built index (the index
build is not timed). Runs alternate between the two versions (old, new, new, old, ...) so that
other work on the machine weighs on both alike; the first run of each is untimed (it fills the
disk cache). Reported: the median wall time of each, the ratio new/old from the same run, and the
new code's own account of where the time went (``timings_ms``: ``load`` is the models and the
index, the rest answering). Needs no shared data.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, command_line, table, worktree, write_results  # noqa: E402

QUESTION = "How many containers of munitions has North Korea shipped to Russia?"
SAMPLE = ROOT / "corpus" / "north-korean-troops-russia.txt"


def ask(tree: Path, corpus: Path, index: Path, threads: int, json_out: bool = False) -> tuple[float, dict | None]:
    """Seconds from launching ``python -m qa.cli ask`` in ``tree`` to its exit; its JSON answer."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {
        "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
    }
    if threads:
        env |= {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    cmd = [sys.executable, "-m", "qa.cli", "ask", *(["--json"] if json_out else []), QUESTION,
           "--corpus", str(corpus), "--index", str(index), "--reader", str(tree / "models" / "reader")]
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=corpus.parent, env=env, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"qa ask failed in {tree} ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return seconds, json.loads(proc.stdout) if json_out else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default="0f2e595", help="the old code's commit (default: 0f2e595)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each version (default: 5)")
    parser.add_argument("--threads", type=int, default=1, help="torch/OpenMP threads (default: 1)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="qa-cold-") as tmp_name:
        tmp = Path(tmp_name)
        with worktree(args.before, tmp / "before") as old:
            corpus = tmp / "corpus"
            corpus.mkdir()
            shutil.copy(SAMPLE, corpus)
            trees = {"before": old, "after": ROOT}
            index = {name: tmp / f"index-{name}" for name in trees}
            for name, tree in trees.items():
                ask(tree, corpus, index[name], args.threads)  # builds the index; fills the disk cache
            times: dict[str, list[float]] = {name: [] for name in trees}
            for i in range(args.runs):
                for name in (("before", "after") if i % 2 == 0 else ("after", "before")):
                    times[name].append(ask(trees[name], corpus, index[name], args.threads)[0])
            _, answer = ask(ROOT, corpus, index["after"], args.threads, json_out=True)

    median = {name: statistics.median(t) for name, t in times.items()}
    ratio = median["after"] / median["before"]
    timings = answer["timings_ms"]
    rows = [[name, args.before if name == "before" else "this commit", median[name], min(times[name]),
             max(times[name])] for name in ("before", "after")]
    markdown = "\n".join([
        "# Cold start of `qa ask`",
        "",
        f"A new `python -m qa.cli ask` process, from launch to exit, answering the card question over "
        f"the sample article from an existing index; {args.runs} timed runs of each version, "
        f"alternating, {args.threads} thread(s).",
        "",
        table(["code", "commit", "median s", "min s", "max s"], rows),
        "",
        f"**after / before: {ratio:.2f}** (median against median, same run)",
        "",
        "Where the new code's time goes, by its own `timings_ms` (one run): "
        + ", ".join(f"{k} {v:.0f} ms" for k, v in timings.items())
        + f" (load: importing the model libraries, loading both models, opening the index); the rest of "
        f"the {median['after']:.1f} s is starting Python, importing qa and its other libraries, and printing.",
    ])
    write_results("cold_start", {"before": args.before, "runs": args.runs, "threads": args.threads,
                                 "seconds": times, "median_s": median, "ratio_after_before": ratio,
                                 "timings_ms_after": timings}, markdown, command_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
