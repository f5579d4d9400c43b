"""What the BM25 part costs an index update, and a lexical query, at 1k / 10k / 100k chunks.

`qa index` rebuilds the BM25 index (`qa.stores.lexical.Bm25Store`) from every chunk text of the new
generation at each update, because BM25's statistics are corpus-wide. This measures that cost
as the index grows: build (tokenise, stem, score) and save, then load (what each process does
when it opens the new generation), and the p50 / p95 of one lexical search, over real news chunk
texts (BBC News 2004-2005, chunked as qa chunks them; copied to reach the larger sizes) and real
news questions (RealTimeQA).

    python benchmarks/lexical_update.py                      # 1k, 10k, 100k chunks
    python benchmarks/lexical_update.py --sizes 1000 10000 --queries 50
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from common import command_line, data_file, percentile, set_threads, spread, table, write_results


def chunk_texts(n_articles: int | None) -> list[str]:
    """The chunk texts qa makes of the BBC articles (its chunking, the embedder's tokenizer)."""
    from qa.chunking import chunk_article
    from qa.embedding import Embedder
    from qa.indexer import chunk_tokens
    from qa.settings import Settings

    path = data_file("news/bbc-2004-2005.jsonl")
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    s, embedder = Settings(), Embedder()
    size = chunk_tokens(s, embedder)
    return [c.text for r in spread(records, n_articles)
            for c in chunk_article(str(r.get("id")), r["text"], size, s.chunk_overlap_tokens, embedder.token_spans)]


def measure(texts: list[str], n: int, questions: list[str]) -> dict:
    from qa.stores.lexical import Bm25Store

    docs = [texts[i % len(texts)] for i in range(n)]
    folder = Path(tempfile.mkdtemp(prefix="bm25-"))
    try:
        t0 = time.perf_counter()
        store = Bm25Store.build(list(range(1, n + 1)), docs)
        t1 = time.perf_counter()
        store.save(folder)
        t2 = time.perf_counter()
        loaded = Bm25Store.load(folder)
        t3 = time.perf_counter()
        for q in questions[:3]:  # warm up
            loaded.search(q, 50)
        search_ms = []
        for q in questions:
            s0 = time.perf_counter()
            loaded.search(q, 50)
            search_ms.append((time.perf_counter() - s0) * 1000)
        mb = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {"chunks": n, "build_s": round(t1 - t0, 3), "save_s": round(t2 - t1, 3),
            "update_s": round(t2 - t0, 3), "load_s": round(t3 - t2, 3),
            "search_ms": {"p50": round(percentile(search_ms, 50), 2), "p95": round(percentile(search_ms, 95), 2)},
            "mb_on_disk": round(mb, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--articles", type=int, help="BBC articles to chunk (default: all 2,225)")
    parser.add_argument("--queries", type=int, default=200, help="RealTimeQA questions to search")
    parser.add_argument("--threads", type=int, default=0, help="torch threads for the tokenizer's model load")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    texts = chunk_texts(args.articles)
    questions_file = data_file("newsqa/realtimeqa-questions-2020-2022.jsonl")
    questions = [json.loads(line).get("question_sentence", "")
                 for line in questions_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = spread([q for q in questions if q], args.queries)
    results = {}
    for n in args.sizes:
        print(f"BM25 at {n} chunks", file=sys.stderr)
        results[str(n)] = measure(texts, n, questions)
    rows = [[r["chunks"], r["build_s"], r["save_s"], r["update_s"], r["load_s"],
             f"{r['search_ms']['p50']:.1f} / {r['search_ms']['p95']:.1f}", r["mb_on_disk"]]
            for r in results.values()]
    markdown = (
        f"### BM25 part of an index update ({len(texts)} real BBC News chunks, copied to each size; "
        f"{len(questions)} RealTimeQA questions)\n\n"
        "Each `qa index` update rebuilds the BM25 index from all chunk texts (BM25's statistics are "
        "corpus-wide): *update* = build + save, added to every update whatever its size; *load*: "
        "what each process pays when it opens the new generation; *search*: one lexical query "
        "(top 50), p50 / p95.\n\n"
        + table(["chunks", "build s", "save s", "update s", "load s", "search ms", "MB on disk"], rows)
    )
    write_results("lexical_update", {"chunk_texts": len(texts), "results": results}, markdown, command_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
