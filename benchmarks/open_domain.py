"""Open-domain question answering through the whole assistant: retrieval, reader, answer.

- ``squad``: every paragraph of SQuAD dev v1.1 indexed as articles (one article per Wikipedia
  title, its paragraphs in order: 40 articles), and all 9,144 questions asked of the whole
  corpus, not of their paragraph.
- ``realtimeqa``: the 1,123 RealTimeQA news-quiz questions (2020-2022), open-domain over all
  their evidence passages, each passage an article with its source, URL and date.

For each: retrieval recall@1/5/20 (a reference answer, normalised, inside one of the first k
chunks), end-to-end exact match and F1 of `Assistant.ask` with the default settings (a "not
in the articles" answer scores as empty), the miss breakdown, and latency per question.
The questions run through `qa.batch`, so an interrupted run continues with ``--resume``.

    python benchmarks/open_domain.py                          # both datasets, every question
    python benchmarks/open_domain.py --dataset squad --limit 300

Needs ../shared/data/ and a trained reader (models/reader, or --reader PATH).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

from common import (
    CACHE,
    command_line,
    data_file,
    percentile,
    reader_path,
    result_name,
    set_threads,
    spread,
    table,
    write_results,
)

DATASETS = {
    "squad": "squad/dev-v1.1-public.json",
    "realtimeqa": "newsqa/realtimeqa-extractive-2020-2022.json",
}
RECALL_KS = (1, 5, 20)


def squad_articles(examples) -> list[dict]:
    """One article per Wikipedia title: its paragraphs in order, separated by blank lines."""
    paragraphs: dict[str, dict[int, str]] = defaultdict(dict)
    for ex in examples:
        paragraphs[ex.title][ex.paragraph_index] = ex.context
    return [
        {"id": title, "title": title.replace("_", " "),
         "text": "\n\n".join(p[i].strip() for i in sorted(p))}
        for title, p in paragraphs.items()
    ]


def realtimeqa_articles(examples) -> list[dict]:
    """Each evidence passage an article (duplicates kept once), dated by its quiz week."""
    seen: dict[str, dict] = {}
    for ex in examples:
        key = ex.context.strip()
        if key in seen:
            continue
        week = ex.title.replace("RealTimeQA", "").strip()
        source = ex.extra.get("source")
        seen[key] = {
            "id": ex.id, "title": f"{source or 'News'} quiz evidence, week of {week}", "text": key,
            "date": week or None, "source": source, "url": ex.extra.get("url"),
        }
    return list(seen.values())


def write_if_changed(path: Path, text: str) -> None:
    """Rewrite ``path`` only when its content changes (keeps the incremental index valid)."""
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def run_dataset(name: str, args) -> dict:
    from tqdm import tqdm

    from qa.assistant import Assistant
    from qa.batch import answer_file
    from qa.evaluation import first_hit
    from qa.settings import Settings
    from qa.squad import load_squad

    examples = load_squad(data_file(DATASETS[name]))
    articles = squad_articles(examples) if name == "squad" else realtimeqa_articles(examples)
    work = CACHE / "open_domain" / name
    write_if_changed(work / "corpus" / f"{name}.jsonl",
                     "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles))
    settings = Settings(corpus_dir=work / "corpus", index_dir=work / "index", reader_model=args.reader)
    if args.top_k:
        settings = settings.with_(top_k=args.top_k)
    if args.threshold is not None:
        settings = settings.with_(no_answer_threshold=args.threshold)
    assistant = Assistant(settings)
    t0 = time.perf_counter()
    report = assistant.index()
    print(f"{name}: {report.summary()}", file=sys.stderr)
    index_seconds = time.perf_counter() - t0

    asked = spread(examples, args.limit)
    questions_path = work / result_name("questions", args.limit)
    questions_path = questions_path.with_suffix(".jsonl")
    write_if_changed(questions_path, "".join(
        json.dumps({"id": ex.id, "question": ex.question, "answers": list(ex.answers)}, ensure_ascii=False) + "\n"
        for ex in asked
    ))

    # Retrieval recall@1/5/20: its own pass, since the assistant reads only its top_k passages.
    snapshot = assistant.snapshot()
    ranks = []
    for ex in tqdm(asked, desc=f"{name} retrieval", unit="q", file=sys.stderr):
        passages = assistant.retriever.retrieve(snapshot, ex.question, top_k=max(RECALL_KS))
        ranks.append(first_hit([p.text for p in passages], ex.answers))
    recall = {
        f"recall@{k}": round(100 * sum(1 for r in ranks if r is not None and r <= k) / len(ranks), 2)
        for k in RECALL_KS
    }

    suffix = "" if args.threshold is None else f"-threshold{args.threshold:g}"
    answers_path = work / (questions_path.stem.replace("questions", "answers") + suffix + ".jsonl")
    result = answer_file(assistant, questions_path, answers_path, resume=args.resume,
                         overwrite=not args.resume, report_path=answers_path.with_suffix(".report.json"))
    rows = [json.loads(line) for line in answers_path.read_text(encoding="utf-8").splitlines()]
    latencies = [r["timings_ms"]["total"] for r in rows]
    reads = [r["timings_ms"].get("read", 0.0) for r in rows]
    scores = result.scores or {}
    return {
        "articles": len(articles),
        "chunks": report.chunks,
        "index_seconds": round(index_seconds, 1),
        "questions": len(asked),
        "top_k": settings.top_k,
        "threshold": assistant.no_answer_threshold,
        **recall,
        "exact_match": scores.get("exact_match"),
        "f1": scores.get("f1"),
        "found": round(100 * sum(1 for r in rows if r["found"]) / len(rows), 2),
        "misses": scores.get("misses"),
        "hit@top_k": scores.get("hit@all"),
        "latency_ms": {"p50": round(percentile(latencies, 50), 1), "p95": round(percentile(latencies, 95), 1),
                       "read_p50": round(percentile(reads, 50), 1)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=[*DATASETS, "all"], default="all")
    parser.add_argument("--limit", type=int, help="questions per dataset, spread evenly (default: all)")
    parser.add_argument("--reader", help="reader checkpoint (default: models/reader)")
    parser.add_argument("--top-k", type=int, help="passages the assistant reads (default: the settings' 8)")
    parser.add_argument("--threshold", type=float,
                        help="no-answer threshold (default: the reader's calibrated one; 0: always answer)")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run's answers")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads (default: one per core; use 1 on a busy machine)")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    names = list(DATASETS) if args.dataset == "all" else [args.dataset]
    for n in names:
        data_file(DATASETS[n])
    args.reader = reader_path(args.reader)

    results = {name: run_dataset(name, args) for name in names}
    rows, miss_rows = [], []
    for name, r in results.items():
        rows.append([name, r["articles"], r["chunks"], r["questions"], r["recall@1"], r["recall@5"],
                     r["recall@20"], r["exact_match"], r["f1"], r["found"],
                     round(r["latency_ms"]["p50"]), round(r["latency_ms"]["p95"])])
        m = r["misses"] or {}
        miss_rows.append([name, r["questions"], m.get("retrieval"), m.get("reader_wrong"),
                          m.get("reader_no_answer"), r["hit@top_k"]])
    scope = f"{args.limit} questions per dataset, spread evenly" if args.limit else "every question"
    if args.threshold is not None:
        scope += f"; no-answer threshold {args.threshold:g}" + (", always answering" if args.threshold <= 0 else "")
    markdown = (
        f"### Open-domain question answering ({scope})\n\n"
        "Recall@k: a reference answer inside one of the first k retrieved chunks. EM/F1: "
        "`Assistant.ask` end to end (reads the top "
        f"{results[names[0]]['top_k']} chunks; no-answer threshold {results[names[0]]['threshold']:g}; "
        "\"not in the articles\" scores as empty). "
        "Latency: whole `ask`, per question.\n\n"
        + table(["dataset", "articles", "chunks", "questions", "recall@1", "recall@5", "recall@20",
                 "EM", "F1", "answered %", "p50 ms", "p95 ms"], rows)
        + "\n\nWhere the misses come from (questions whose answer is not an exact match):\n\n"
        + table(["dataset", "questions", "retrieval miss", "reader: other span", "reader: not found",
                 "answer in top-k chunks %"], miss_rows)
    )
    name = "open_domain" if args.dataset == "all" else f"open_domain_{args.dataset}"
    name = result_name(name, args.limit) + ("" if args.threshold is None else f"-threshold{args.threshold:g}")
    write_results(name,
                  {"reader": args.reader, "limit": args.limit, "results": results}, markdown, command_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
