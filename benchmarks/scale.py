"""Scale-out: vector search at 10k / 100k / 1M chunks on each store, and index builds on Ray.

1. **Search** (``--part search``): for each size, one fresh process per store builds the index
   and times one query at a time (as qa asks them): p50 / p95 latency, the memory the index
   added to the process (resident set, Milvus Lite's in-process server included), build
   seconds, and recall@10 against exact search. Memory: the FAISS index's serialised size (what
   it holds), and for Milvus Lite the resident memory its rows add to the process (its server
   runs in it; the server's own start-up memory is reported apart). Stores:
   - ``faiss-flat``: qa's default (`qa.stores.faiss_store`, exact inner product);
   - ``faiss-ivf``: FAISS IVF-Flat (nlist = 4 sqrt(N), trained on up to 100k vectors), at
     nprobe 8 and 32;
   - ``milvus-lite``: qa's Milvus store (`qa.stores.milvus_store`) on a Milvus Lite file,
     with its generation filter, as ``--vector-store milvus:PATH.db`` searches.
   The vectors are synthetic but clustered like real ones: unit vectors around the real
   embeddings of BBC News chunks (noise 0.045 per dimension: cosine ~0.75 to their centre), as
   real chunks cluster around topics; queries are drawn the same way and held out. (Uniform
   random unit vectors have no neighbours to speak of, which makes any approximate index look
   worse than it is on text.) 1 thread everywhere (``--threads``).
2. **Build** (``--part build``): the same BBC articles indexed from scratch by ``qa index``
   in this process (1 torch thread), then with ``--engine ray`` on 1 and 2 local workers (1
   thread each), in one run: chunks/s and the ratio to the single process, Ray's start-up
   included.

    python benchmarks/scale.py                                   # both parts, 10k/100k/1M, 200 articles
    python benchmarks/scale.py --part search --sizes 10000 100000 --queries 100
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from common import (
    CACHE,
    RESULTS,
    ROOT,
    command_line,
    data_file,
    percentile,
    set_threads,
    spread,
    table,
    write_results,
)

STORES = ("faiss-flat", "faiss-ivf", "milvus-lite")
K = 10
NOISE = 0.045
WORK = CACHE / "scale"
SEEDS = WORK / "seeds.npy"


def rss_mb() -> float:
    """This process's resident memory now, in MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def clustered(seeds: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` unit vectors, each a seed (in turn) plus Gaussian noise; float32, built in blocks."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, seeds.shape[1]), np.float32)
    for s in range(0, n, 100_000):
        e = min(n, s + 100_000)
        block = seeds[rng.integers(0, len(seeds), e - s)] + rng.normal(0, NOISE, (e - s, seeds.shape[1]))
        out[s:e] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    scores = queries @ vectors.T
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return np.take_along_axis(top, np.argsort(-np.take_along_axis(scores, top, 1), axis=1), 1)


def timed(fn, queries: np.ndarray) -> list[float]:
    for q in queries[:3]:  # warm caches
        fn(q[None])
    out = []
    for q in queries:
        t0 = time.perf_counter()
        fn(q[None])
        out.append((time.perf_counter() - t0) * 1000)
    return out


def child_search(store: str, size: int, n_queries: int) -> list[dict]:
    """Build ``store`` over ``size`` clustered vectors here, and measure it (see the docstring)."""
    seeds = np.load(SEEDS)
    vectors = clustered(seeds, size, seed=size)
    queries = clustered(seeds, n_queries, seed=1)
    truth = exact_top(vectors, queries, K)
    ids = np.arange(1, size + 1, dtype=np.int64)  # qa's chunk ids start at 1
    import faiss

    t0 = time.perf_counter()
    rows = []
    server_mb = nlist = None
    if store == "faiss-flat":
        from qa.stores.faiss_store import FaissVectorStore

        index = FaissVectorStore(vectors.shape[1])
        index.add(ids, vectors)
        memory = len(faiss.serialize_index(index._index)) / 2**20  # what it holds in memory
        variants = {"": lambda q: index.search(q, K)}
    elif store == "faiss-ivf":
        nlist = int(4 * np.sqrt(size))
        ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(vectors.shape[1]), vectors.shape[1], nlist,
                                 faiss.METRIC_INNER_PRODUCT)
        ivf.train(vectors[np.random.default_rng(0).permutation(size)[:100_000]])
        index = faiss.IndexIDMap2(ivf)
        index.add_with_ids(vectors, ids)
        memory = len(faiss.serialize_index(index)) / 2**20

        def at(nprobe):
            def search(q):
                ivf.nprobe = nprobe
                return index.search(q, K)
            return search

        variants = {f"nprobe {p}": at(p) for p in (8, 32)}
    else:
        from qa.stores import milvus_store

        folder = WORK / f"milvus-{size}"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        # The resident memory the rows add to the process (the Lite server runs in it), over
        # that of the server with an empty collection (reported apart: a fixed cost).
        started = rss_mb()
        index = milvus_store.MilvusVectorStore.create(str(folder / "vectors.db"), vectors.shape[1], generation=1)
        empty = rss_mb()
        server_mb = round(empty - started)
        t0 = time.perf_counter()
        index.add(ids, vectors)
        index.save(folder)
        index = milvus_store.MilvusVectorStore.load(folder)
        index.search(queries[:1], K)  # loaded and indexed
        memory = rss_mb() - empty
        variants = {"": lambda q: index.search(q, K)}
    build_s = time.perf_counter() - t0
    for name, search in variants.items():
        found = np.stack([search(q[None])[1][0, :K] for q in queries]) - 1
        recall = float(np.mean([len(set(f) & set(t)) / K for f, t in zip(found, truth)]))
        lat = timed(search, queries)
        rows.append({"store": store + (f" ({name})" if name else ""), "size": size,
                     "p50_ms": round(percentile(lat, 50), 3), "p95_ms": round(percentile(lat, 95), 3),
                     f"recall@{K}": round(recall, 4), "build_s": round(build_s, 1),
                     "memory_mb": round(memory, 1), "vectors_mb": round(vectors.nbytes / 2**20, 1),
                     "server_mb": server_mb, "nlist": nlist if store == "faiss-ivf" else None})
    if store == "milvus-lite":
        milvus_store.close_clients()
        shutil.rmtree(WORK / f"milvus-{size}", ignore_errors=True)
    return rows


def make_seeds(records: list[dict]) -> None:
    """Real embeddings of BBC chunks: the centres the synthetic vectors cluster around."""
    from qa.chunking import chunk_article
    from qa.corpus import make_article
    from qa.embedding import Embedder
    from qa.indexer import chunk_tokens
    from qa.settings import Settings

    s, embedder = Settings(), Embedder()
    size = chunk_tokens(s, embedder)
    texts = [c.text for r in records
             for c in chunk_article(r["id"], make_article(r["id"], r.get("title") or "", r["text"]).text, size,
                                    s.chunk_overlap_tokens, embedder.token_spans)]
    WORK.mkdir(parents=True, exist_ok=True)
    np.save(SEEDS, embedder.encode(texts), allow_pickle=False)


def search_part(sizes: list[int], n_queries: int, threads: int) -> list[dict]:
    rows = []
    for size in sizes:
        for store in STORES:
            out = subprocess.run([sys.executable, __file__, "--child", store, "--size", str(size),
                                  "--queries", str(n_queries), "--threads", str(threads)],
                                 capture_output=True, text=True, cwd=ROOT)
            if out.returncode != 0:
                sys.exit(f"{store} at {size} failed:\n{out.stderr[-3000:]}")
            found = json.loads(out.stdout.strip().splitlines()[-1])
            print(found, file=sys.stderr)
            rows += found
    return rows


def build_part(records: list[dict]) -> dict:
    """qa index of the same corpus: this process, then Ray with 1 and 2 workers."""
    from qa.embedding import Embedder
    from qa.indexer import update_index
    from qa.settings import Settings

    work = WORK / f"build-{len(records)}"
    corpus = work / "corpus" / "bbc.jsonl"
    corpus.parent.mkdir(parents=True, exist_ok=True)
    corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    embedder = Embedder()
    runs = {}
    for name, engine, workers in (("single process", "local", 0), ("ray, 1 worker", "ray", 1),
                                  ("ray, 2 workers", "ray", 2)):
        index_dir = work / f"index-{engine}-{workers}"
        shutil.rmtree(index_dir, ignore_errors=True)
        settings = Settings(corpus_dir=corpus.parent, index_dir=index_dir, engine=engine, workers=workers,
                            threads=1)
        t0 = time.perf_counter()
        _, report = update_index(settings, embedder)
        seconds = time.perf_counter() - t0
        runs[name] = {"chunks": report.embedded_chunks, "seconds": round(seconds, 1),
                      "chunks_per_second": round(report.embedded_chunks / seconds, 2)}
        print(name, runs[name], file=sys.stderr)
    base = runs["single process"]["chunks_per_second"]
    for r in runs.values():
        r["ratio"] = round(r["chunks_per_second"] / base, 2)
    return {"articles": len(records), "runs": runs}


def plot(rows: list[dict], png: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot", file=sys.stderr)
        return
    fig, (lat, mem) = plt.subplots(1, 2, figsize=(11, 4))
    for store in dict.fromkeys(r["store"] for r in rows):
        mine = sorted((r for r in rows if r["store"] == store), key=lambda r: r["size"])
        sizes = [r["size"] for r in mine]
        lat.plot(sizes, [r["p50_ms"] for r in mine], marker="o", label=store)
        mem.plot(sizes, [max(r["memory_mb"], 1) for r in mine], marker="o", label=store)
    lat.set(xscale="log", yscale="log", xlabel="chunks", ylabel="search latency p50 (ms, 1 thread)",
            title="One query, top 10")
    mem.set(xscale="log", yscale="log", xlabel="chunks", ylabel="memory the index adds (MB)",
            title="Memory (384-d float32)")
    lat.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def _ms(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:.1f}" if x >= 10 else f"{x:.3g}"


def markdown(data: dict) -> str:
    parts = ["# Scale-out: vector stores at 10k-1M chunks, index builds on Ray\n"]
    if data.get("search"):
        parts.append(f"## Search (1 thread, one query at a time, top {K}; clustered synthetic 384-d unit vectors)\n")
        parts.append(table(["store", "chunks", "p50 ms", "p95 ms", f"recall@{K} vs exact", "build s",
                            "memory MB", "raw vectors MB"],
                           [[r["store"].replace(")", f", nlist {r['nlist']})") if r.get("nlist") else r["store"],
                             f"{r['size']:,}", _ms(r["p50_ms"]), _ms(r["p95_ms"]), f"{r[f'recall@{K}']:.3f}",
                             f"{r['build_s']:.1f}", f"{r['memory_mb']:,.0f}", f"{r['vectors_mb']:,.0f}"]
                            for r in data["search"]]))
        parts.append("\nMemory: FAISS, the index's serialised size; Milvus Lite, the resident memory its rows "
                     "add to the process its server runs in (the empty server itself: "
                     + ", ".join(f"{r['server_mb']} MB" for r in data["search"] if r.get("server_mb")) + ").")
        parts.append("\n![latency and memory against size](scale.png)\n")
    if data.get("build"):
        b = data["build"]
        parts.append(f"\n## Index build of {b['articles']} BBC News articles (1 thread per worker)\n")
        parts.append(table(["engine", "chunks", "seconds", "chunks/s", "ratio to single process"],
                           [[name, r["chunks"], r["seconds"], r["chunks_per_second"], r["ratio"]]
                            for name, r in b["runs"].items()]))
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("search", "build", "both"), default="both")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200, help="queries timed per store and size")
    parser.add_argument("--articles", type=int, default=200, help="BBC articles for the build part")
    parser.add_argument("--threads", type=int, default=1, help="torch / BLAS / FAISS threads (default 1)")
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite scale.md and scale.png from scale.json (no measuring)")
    parser.add_argument("--child", choices=STORES, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    set_threads(args.threads)
    import faiss

    faiss.omp_set_num_threads(args.threads or os.cpu_count())
    if args.child:
        print(json.dumps(child_search(args.child, args.size, args.queries)))
        return 0
    if args.report_only:
        data = json.loads((RESULTS / "scale.json").read_text())
        plot(data["search"], RESULTS / "scale.png")
        m = data["machine"]
        (RESULTS / "scale.md").write_text(markdown(data) + "\n\n" + " · ".join(
            f"`{r['command']}` ({r['date']}, commit {r['commit']})" for r in data.get("runs", []))
            + f" · {m['cpu']}, {m['cores']} cores, load average {m.get('load_average_1min', '?')}\n")
        return 0
    path = data_file("news/bbc-2004-2005.jsonl")
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = spread(records, args.articles)
    previous = RESULTS / "scale.json"
    data = json.loads(previous.read_text()) if previous.exists() else {}
    runs = [r for r in data.get("runs", []) if r.get("part") != args.part]
    data = {k: data[k] for k in ("search", "build", "seeds") if k in data}
    if args.part in ("build", "both"):
        data["build"] = build_part(records)
    if args.part in ("search", "both"):
        if not SEEDS.exists():
            make_seeds(records)
        data["search"] = search_part(sorted(args.sizes), args.queries, args.threads)
        data["seeds"] = int(np.load(SEEDS).shape[0])
        RESULTS.mkdir(parents=True, exist_ok=True)
        plot(data["search"], RESULTS / "scale.png")
    from common import git_commit

    data["runs"] = runs + [{"part": args.part, "command": command_line(), "date": time.strftime("%Y-%m-%d %H:%M"),
                            "commit": git_commit()}]
    write_results("scale", data, markdown(data), command_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
