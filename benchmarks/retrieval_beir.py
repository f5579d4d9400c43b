"""Retrieval quality on BEIR SciFact and NFCorpus: qa's retriever against BM25, in one run.

Three systems, same queries, same judgements (test split), nDCG@10 and recall@100 computed as
trec_eval does (`qa.evaluation.retrieval_metrics`):

- **qa dense / lexical / hybrid**: the documents indexed as articles by qa's own indexer
  (sentence-aligned chunks in word pieces, all-MiniLM-L6-v2 in FAISS and BM25 beside it), chunks
  retrieved by `qa.retrieval.Retriever` in each mode and each document ranked by its best chunk.
  Titles are stored with the article but, as in the product, only chunk text is embedded. With
  ``--precision bf16 fp32``, a second index is built with fp32 embeddings (dense only).
- **MiniLM, whole document**: the same embedding model on "title + text" of each document
  (truncated at 256 word pieces), exact search: the BEIR paper's setup, for reference.
- **BM25**: bm25s with Pyserini's defaults (k1=0.9, b=0.4, English stemming and stop words) on
  "title + text".

    python benchmarks/retrieval_beir.py                            # both datasets, full
    python benchmarks/retrieval_beir.py --datasets scifact --precision bf16 fp32 --no-whole
    python benchmarks/retrieval_beir.py --limit 50 --docs 1000     # smoke run on a subset

Needs ../shared/data/beir/{scifact,nfcorpus}.zip.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import zipfile

import numpy as np
from common import CACHE, command_line, data_file, result_name, set_threads, spread, table, write_results

DATASETS = ("scifact", "nfcorpus")
PUBLISHED = {  # nDCG@10 reported by BEIR / Pyserini (see ../shared/data/README.md)
    "scifact": {"BM25": 0.679, "all-MiniLM-L6-v2": 0.645},
    "nfcorpus": {"BM25": 0.322, "all-MiniLM-L6-v2": 0.316},
}


def load_beir(name: str) -> tuple[dict[str, dict], dict[str, str], dict[str, dict[str, int]]]:
    """(corpus id -> {title, text}, test query id -> text, qrels) from the BEIR zip."""
    path = data_file(f"beir/{name}.zip")
    with zipfile.ZipFile(path) as z:
        def lines(member: str):
            with z.open(f"{name}/{member}") as f:
                for line in f:
                    if line.strip():
                        yield line.decode("utf-8")

        corpus = {}
        for line in lines("corpus.jsonl"):
            d = json.loads(line)
            corpus[str(d["_id"])] = {"title": d.get("title") or "", "text": d.get("text") or ""}
        queries = {str(q["_id"]): q["text"] for q in map(json.loads, lines("queries.jsonl"))}
        qrels: dict[str, dict[str, int]] = {}
        for i, line in enumerate(lines("qrels/test.tsv")):
            parts = line.rstrip("\n").split("\t")
            if i == 0 and not parts[-1].lstrip("-").isdigit():
                continue  # header
            qid, did, grade = parts[0], parts[1], int(parts[2])
            qrels.setdefault(qid, {})[did] = grade
    queries = {q: t for q, t in queries.items() if q in qrels}
    return corpus, queries, qrels


def subset(corpus, queries, qrels, limit: int | None, docs: int | None):
    """A smaller problem for smoke runs: ``limit`` queries, their judged documents, and other
    documents up to ``docs`` in all (metrics on a subset are only for checking the plumbing)."""
    if limit:
        keep = spread(sorted(queries), limit)
        queries = {q: queries[q] for q in keep}
        qrels = {q: qrels[q] for q in keep}
    if docs and docs < len(corpus):
        judged = {d for rel in qrels.values() for d in rel if d in corpus}
        others = spread(sorted(set(corpus) - judged), max(0, docs - len(judged)))
        corpus = {d: corpus[d] for d in sorted(judged | set(others))}
    return corpus, queries, qrels


def doc_text(doc: dict) -> str:
    return f"{doc['title']} {doc['text']}".strip()


def run_qa(name: str, corpus: dict, queries: dict, depth: int, precision: str,
           modes: list[str]) -> dict[str, tuple[dict, dict]]:
    """Rankings from qa's indexer and retriever (documents ranked by their best chunk), one per
    retrieval mode, all from one index built with embeddings of ``precision``."""
    from tqdm import tqdm

    from qa.embedding import Embedder
    from qa.indexer import update_index
    from qa.retrieval import Retriever
    from qa.settings import Settings

    key = hashlib.sha1(json.dumps(sorted(corpus)).encode()).hexdigest()[:10]
    work = CACHE / "beir" / f"{name}-{key}"
    corpus_file = work / "corpus" / "docs.jsonl"
    if not corpus_file.exists():
        corpus_file.parent.mkdir(parents=True, exist_ok=True)
        with corpus_file.open("w", encoding="utf-8") as f:
            for did, doc in corpus.items():
                f.write(json.dumps({"id": did, "title": doc["title"], "text": doc["text"]}) + "\n")
    settings = Settings(corpus_dir=work / "corpus", index_dir=work / f"index-{precision}",
                        embedding_precision=precision)
    embedder = Embedder.from_settings(settings)
    embedder.warm_up()
    t0 = time.perf_counter()
    snapshot, report = update_index(settings, embedder, rebuild=True)
    index_seconds = time.perf_counter() - t0
    print(f"{name}: {report.summary()}", file=sys.stderr)
    prefix = "docs.jsonl#"
    # Enough chunks for `depth` distinct documents in nearly every case (documents have ~1-3 chunks).
    k_chunks = min(len(snapshot), depth * 4)
    out = {}
    for mode in modes:
        retriever = Retriever(embedder, mode=mode, depth=settings.retrieval_depth, rrf_k=settings.rrf_k,
                              lexical_weight=settings.lexical_weight)
        run: dict[str, list[str]] = {}
        latencies = []
        for qid, text in tqdm(queries.items(), desc=f"{name} qa {mode}", unit="q", file=sys.stderr):
            t = time.perf_counter()
            passages = retriever.retrieve(snapshot, text, top_k=k_chunks)
            latencies.append((time.perf_counter() - t) * 1000)
            ranked: list[str] = []
            seen = set()
            for p in passages:
                did = p.record.chunk.article_id.removeprefix(prefix)
                if did not in seen:
                    seen.add(did)
                    ranked.append(did)
            run[qid] = ranked[:depth]
        out[mode] = run, {"chunks": len(snapshot), "index_seconds": round(index_seconds, 1),
                          "chunks_per_second": round(len(snapshot) / index_seconds, 2),
                          "query_ms_p50": round(float(np.percentile(latencies, 50)), 1),
                          "chunks_retrieved_per_query": k_chunks, "embedding_precision": precision}
    return out


def run_minilm_whole(name: str, corpus: dict, queries: dict, depth: int) -> tuple[dict, dict]:
    """Rankings from the same model on whole documents (title + text), exact search."""
    from qa.embedding import Embedder

    embedder = Embedder()
    ids = list(corpus)
    key = hashlib.sha1(json.dumps(ids).encode()).hexdigest()[:10]
    cache = CACHE / "beir" / f"{name}-{key}-minilm-whole.npy"
    t0 = time.perf_counter()
    if cache.exists():
        vectors = np.load(cache)
    else:
        from tqdm import tqdm

        bar = tqdm(total=len(ids), desc=f"{name} MiniLM whole docs", unit="doc", file=sys.stderr)
        vectors = embedder.encode([doc_text(corpus[d]) for d in ids],
                                  progress=lambda done, total: setattr(bar, "n", done) or bar.refresh())
        bar.close()
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, vectors)
    encode_seconds = time.perf_counter() - t0
    qids = list(queries)
    qvecs = embedder.encode([queries[q] for q in qids])
    scores = qvecs @ vectors.T
    run = {}
    for row, qid in enumerate(qids):
        top = np.argsort(-scores[row])[:depth]
        run[qid] = [ids[i] for i in top]
    return run, {"encode_seconds": round(encode_seconds, 1)}


def run_bm25(corpus: dict, queries: dict, depth: int) -> tuple[dict, dict]:
    """Rankings from bm25s (Pyserini's k1=0.9, b=0.4; English stemmer and stop words)."""
    try:
        import bm25s
        import Stemmer
    except ImportError:
        sys.exit("the BM25 baseline needs bm25s and PyStemmer: pip install bm25s PyStemmer")
    stemmer = Stemmer.Stemmer("english")
    ids = list(corpus)
    t0 = time.perf_counter()
    tokens = bm25s.tokenize([doc_text(corpus[d]) for d in ids], stopwords="en", stemmer=stemmer,
                            show_progress=False)
    model = bm25s.BM25(k1=0.9, b=0.4)
    model.index(tokens, show_progress=False)
    index_seconds = time.perf_counter() - t0
    qids = list(queries)
    qtokens = bm25s.tokenize([queries[q] for q in qids], stopwords="en", stemmer=stemmer, show_progress=False)
    k = min(depth, len(ids))
    results, _scores = model.retrieve(qtokens, k=k, show_progress=False)
    run = {qid: [ids[int(i)] for i in results[row]] for row, qid in enumerate(qids)}
    return run, {"index_seconds": round(index_seconds, 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--limit", type=int, help="test queries per dataset, spread evenly (default: all)")
    parser.add_argument("--docs", type=int, help="documents per dataset: the judged ones plus others "
                        "up to this number (default: all; smaller numbers only check the plumbing)")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads (default: one per core; use 1 on a busy machine)")
    parser.add_argument("--modes", nargs="+", choices=("dense", "lexical", "hybrid"),
                        default=["dense", "lexical", "hybrid"], help="qa retrieval modes (default: all)")
    parser.add_argument("--precision", nargs="+", choices=("bf16", "fp32"), default=["bf16"],
                        help="embedding precisions, one index each; every mode runs on the first, "
                        "dense only on the others (default: bf16)")
    parser.add_argument("--no-whole", action="store_true", help="skip the MiniLM whole-document reference")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    for name in args.datasets:
        data_file(f"beir/{name}.zip")

    from qa.evaluation import retrieval_metrics

    depth = 100
    results = {}
    for name in args.datasets:
        corpus, queries, qrels = subset(*load_beir(name), args.limit, args.docs)
        print(f"{name}: {len(corpus)} documents, {len(queries)} test queries", file=sys.stderr)
        runs = {"BM25 (bm25s)": run_bm25(corpus, queries, depth)}
        for i, precision in enumerate(args.precision):
            # Every mode from the first precision's index; only dense from the others (BM25 does
            # not depend on the embeddings).
            for mode, result in run_qa(name, corpus, queries, depth, precision,
                                       args.modes if i == 0 else ["dense"]).items():
                runs[f"qa {mode}" + (f", {precision} embeddings" if i else "")] = result
        if not args.no_whole:
            runs["MiniLM, whole document"] = run_minilm_whole(name, corpus, queries, depth)
        systems = {}
        for system, (run, stats) in runs.items():
            systems[system] = retrieval_metrics(run, qrels, ndcg_ks=(10,), recall_ks=(100,)) | stats
            print(f"  {system}: {systems[system]}", file=sys.stderr)
        results[name] = {"documents": len(corpus), "queries": len(queries), "systems": systems}

    rows = []
    for name, r in results.items():
        bm25 = r["systems"]["BM25 (bm25s)"]["ndcg@10"]
        for system, m in r["systems"].items():
            published = PUBLISHED[name].get("BM25" if system.startswith("BM25") else
                                            "all-MiniLM-L6-v2" if system.startswith("MiniLM") else "", "")
            ratio = f"{m['ndcg@10'] / bm25:.2f}" if bm25 else ""
            rows.append([name, system, m["ndcg@10"], m["recall@100"], ratio,
                         published if not (args.limit or args.docs) else ""])
    scope = "full test sets" if not (args.limit or args.docs) else (
        f"subset: {args.limit or 'all'} queries, {args.docs or 'all'} documents — checks the plumbing, "
        "not comparable with published figures")
    markdown = (
        f"### Retrieval on BEIR ({scope})\n\n"
        "nDCG@10 and recall@100 (trec_eval definitions) on the test queries; all systems in the same "
        "run. *vs BM25*: nDCG@10 as a ratio of BM25's. *published*: nDCG@10 reported by BEIR/Pyserini "
        "for the same kind of system.\n\n"
        + "\n".join(
            table(["dataset", "system", "nDCG@10", "recall@100", "vs BM25", "published"], rows, decimals=3).splitlines()
        )
    )
    for name, r in results.items():
        qa = {k: v for k, v in r["systems"].items() if k.startswith("qa ")}
        first = next(iter(qa.values()))
        markdown += (f"\n\n{name}: {r['documents']} documents -> {first['chunks']} qa chunks, "
                     f"{r['queries']} queries, {first['chunks_retrieved_per_query']} chunks fetched to rank "
                     "100 documents. qa retrieval p50 per query: "
                     + ", ".join(f"{k} {v['query_ms_p50']} ms" for k, v in qa.items())
                     + ". Index build (chunks/s, embeddings + BM25): "
                     + ", ".join(f"{v['embedding_precision']} {v['chunks_per_second']}"
                                 for k, v in qa.items() if k.startswith("qa dense")) + ".")
    name = result_name("retrieval_beir", args.limit) + (f"-docs{args.docs}" if args.docs else "")
    write_results(name,
                  {"limit": args.limit, "docs": args.docs, "results": results}, markdown, command_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
