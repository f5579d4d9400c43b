"""Index build speed: chunks per second of ``update_index``, old code against new, in one run.

    python benchmarks/index_speed.py [--before f6cd4aa] [--articles 200] [--runs 2] [--threads 0]

The code at ``--before`` (default f6cd4aa: before issue 12, dense index only, chunks of 180
words, fp32 embeddings) is checked out into a temporary git worktree. Each version builds the
index of the same BBC News articles (../shared/data/news/bbc-2004-2005.jsonl, spread over the
file) from scratch in a fresh process; the model is loaded before the clock starts, so the time
is reading, chunking, embedding and writing (FAISS, SQLite and, in the new code, BM25). Runs
alternate (old, new, fp32, new, old, ...) so other work on the machine weighs on each alike.
``new, fp32`` is this code with ``embedding_precision="fp32"``: what the precision alone gives.
Reported: the median chunks/s of each and the ratios to the old code's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, command_line, data_file, set_threads, spread, table, worktree, write_results  # noqa: E402

# Runs in the version's own tree (PYTHONPATH), so it may only use what both versions have.
CHILD = """
import json, sys, time
from pathlib import Path
from qa.embedding import Embedder
from qa.indexer import update_index
from qa.settings import Settings
settings = Settings(corpus_dir=Path(sys.argv[1]), index_dir=Path(sys.argv[2]), **json.loads(sys.argv[3]))
embedder = Embedder(settings.embedding_model, batch_size=settings.embedding_batch_size,
                    **({"precision": settings.embedding_precision} if hasattr(settings, "embedding_precision") else {}))
embedder.warm_up()
start = time.perf_counter()
_snapshot, report = update_index(settings, embedder, rebuild=True)
print(json.dumps({"chunks": report.chunks, "seconds": time.perf_counter() - start}))
"""


def build(tree: Path, corpus: Path, index: Path, settings: dict, threads: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {
        "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
    }
    if threads:
        env |= {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    proc = subprocess.run([sys.executable, "-c", CHILD, str(corpus), str(index), json.dumps(settings)],
                          cwd=tree, env=env, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        sys.exit(f"the index build failed in {tree}:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["chunks_per_second"] = result["chunks"] / result["seconds"]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default="f6cd4aa", help="the old code's commit (default: f6cd4aa)")
    parser.add_argument("--articles", type=int, default=200, help="BBC articles to index (default: 200)")
    parser.add_argument("--runs", type=int, default=2, help="timed builds of each version (default: 2)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: one per core)")
    args = parser.parse_args()
    set_threads(args.threads)

    path = data_file("news/bbc-2004-2005.jsonl")
    records = spread([json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()],
                     args.articles)
    with tempfile.TemporaryDirectory(prefix="qa-index-speed-") as tmp_name:
        tmp = Path(tmp_name)
        corpus = tmp / "corpus"
        corpus.mkdir()
        (corpus / "bbc.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                                          encoding="utf-8")
        with worktree(args.before, tmp / "before") as old:
            variants = {"old": (old, {}), "new": (ROOT, {}), "new, fp32": (ROOT, {"embedding_precision": "fp32"})}
            results: dict[str, list[dict]] = {name: [] for name in variants}
            for i in range(args.runs):
                for name in (list(variants) if i % 2 == 0 else list(reversed(variants))):
                    tree, settings = variants[name]
                    results[name].append(build(tree, corpus, tmp / f"index-{i}-{len(results[name])}-{name[:3]}",
                                               settings, args.threads))
                    print(name, json.dumps(results[name][-1]), file=sys.stderr, flush=True)

    speed = {name: statistics.median(r["chunks_per_second"] for r in runs) for name, runs in results.items()}
    chunks = {name: runs[0]["chunks"] for name, runs in results.items()}
    seconds = {name: statistics.median(r["seconds"] for r in runs) for name, runs in results.items()}
    rows = [[name, args.before if name == "old" else "this commit", chunks[name], seconds[name], speed[name],
             speed[name] / speed["old"]] for name in variants]
    markdown = "\n".join([
        "# Index build speed",
        "",
        f"{len(records)} BBC News articles indexed from scratch in a fresh process by each version, "
        f"{args.runs} builds each, alternating; the model loaded before the clock starts. The old code "
        "builds a dense index of 180-word chunks; the new one a dense and a BM25 index of chunks cut "
        "in word pieces (so the chunk counts differ).",
        "",
        table(["version", "code", "chunks", "seconds (median)", "chunks/s (median)", "vs old"], rows),
        "",
        f"**new / old: {speed['new'] / speed['old']:.2f}x** chunks/s (same run); fp32 embeddings alone: "
        f"{speed['new, fp32'] / speed['old']:.2f}x.",
    ])
    write_results("index_speed", {"before": args.before, "articles": len(records), "runs": results,
                                  "median_chunks_per_second": speed,
                                  "ratio_new_old": speed["new"] / speed["old"],
                                  "ratio_new_fp32_old": speed["new, fp32"] / speed["old"]},
                  markdown, command_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
