"""Questions the articles cannot answer, through the whole assistant.

RealTimeQA's news-quiz questions (2020-2022) are asked of the BBC News corpus of 2004-2005
(2,225 articles): the corpus does not cover their events, so the right reply is "not in the
articles". Retrieval still returns the nearest passages, and the reader must not find an answer
in them. Reported: the share of questions answered confidently, answered tentatively, and not
found, with the confidence percentiles and the highest-scoring answers (to read: a few quiz
questions are timeless and may really be answered by a 2005 article).

This is the case that `qa.calibration`'s tentative threshold is fitted for (on SQuAD v2.0,
not on these data); `open_domain.py` measures the other side, questions the articles answer.

    python benchmarks/off_topic.py                 # every question (1,123)
    python benchmarks/off_topic.py --limit 300

Needs ../shared/data/news/bbc-2004-2005.jsonl, ../shared/data/newsqa/ and a trained reader.
Indexing the BBC corpus takes ~10 minutes on 2 cores the first time (kept in benchmarks/.cache;
the index built by speed_scale.py is reused when it is there).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time

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

SHOWN = 10  # highest-scoring answers listed in the results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reader", help="reader checkpoint (default: models/reader)")
    parser.add_argument("--limit", type=int, help="questions, spread over the quiz weeks (default: all)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: one per core)")
    args = parser.parse_args(argv)

    bbc = data_file("news/bbc-2004-2005.jsonl")
    quiz = data_file("newsqa/realtimeqa-extractive-2020-2022.json")
    reader_name = reader_path(args.reader)

    from tqdm import tqdm

    from qa.assistant import Assistant
    from qa.settings import Settings
    from qa.squad import load_squad

    set_threads(args.threads)
    work = CACHE / "off_topic"
    corpus = work / "corpus" / "bbc.jsonl"
    records = [json.loads(line) for line in bbc.read_text(encoding="utf-8").splitlines() if line.strip()]
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    if not corpus.exists() or corpus.read_text(encoding="utf-8") != text:
        corpus.parent.mkdir(parents=True, exist_ok=True)
        corpus.write_text(text, encoding="utf-8")
    built = CACHE / "speed_scale" / f"build-{len(records)}" / "index"
    if not (work / "index").exists() and built.exists():
        shutil.copytree(built, work / "index")  # the same corpus file, so the index is current
    assistant = Assistant(Settings(corpus_dir=corpus.parent, index_dir=work / "index", reader_model=reader_name))
    report = assistant.index()
    print(f"BBC corpus: {report.summary()}", file=sys.stderr)

    seen: set[str] = set()
    questions = []
    for ex in load_squad(quiz):
        if ex.question not in seen:
            seen.add(ex.question)
            questions.append(ex)
    asked = spread(questions, args.limit)
    rows = []
    t0 = time.perf_counter()
    for ex in tqdm(asked, desc="off-topic", unit="q", file=sys.stderr):
        answer = assistant.ask(ex.question)
        guess = answer.best_guess
        rows.append({
            "id": ex.id, "question": ex.question, "found": answer.found, "tentative": answer.tentative,
            "score": round(answer.score, 4), "answer": guess.answer if guess else None,
            "title": guess.citations[0].title if guess and guess.citations else None,
        })
    seconds = time.perf_counter() - t0

    n = len(rows)
    confident = sum(1 for r in rows if r["found"] and not r["tentative"])
    tentative = sum(1 for r in rows if r["found"] and r["tentative"])
    scores = [r["score"] for r in rows]
    summary = {
        "questions": n,
        "not_found_pct": round(100 * (n - confident - tentative) / n, 2),
        "tentative_pct": round(100 * tentative / n, 2),
        "confident_pct": round(100 * confident / n, 2),
        "score_p50": round(percentile(scores, 50), 4),
        "score_p90": round(percentile(scores, 90), 4),
        "score_p95": round(percentile(scores, 95), 4),
        "no_answer_threshold": assistant.no_answer_threshold,
        "confident_threshold": assistant.confident_threshold,
        "questions_per_second": round(n / seconds, 2),
    }
    top = sorted(rows, key=lambda r: -r["score"])[:SHOWN]
    scope = f"{args.limit} questions spread over the quiz weeks" if args.limit else "every question"
    markdown = (
        f"### Off-topic questions: RealTimeQA (2020-2022) asked of BBC News 2004-2005 ({scope})\n\n"
        f"Reader `{reader_name}`; \"not in the articles\" below confidence "
        f"{summary['no_answer_threshold']:.3f}, tentative below {summary['confident_threshold']:.3f}. "
        "The right reply to every question is \"not in the articles\".\n\n"
        + table(["questions", "not found %", "tentative %", "confident %", "confidence p50", "p90", "p95",
                 "questions/s"],
                [[n, summary["not_found_pct"], summary["tentative_pct"], summary["confident_pct"],
                  summary["score_p50"], summary["score_p90"], summary["score_p95"], summary["questions_per_second"]]],
                decimals=3)
        + "\n\nThe highest-scoring answers (some quiz questions are timeless, and may be answered "
        "by a 2005 article):\n\n"
        + table(["question", "answer", "confidence", "shown as", "article"],
                [[r["question"][:90], (r["answer"] or "")[:40], r["score"],
                  "not found" if not r["found"] else ("tentative" if r["tentative"] else "answer"),
                  (r["title"] or "")[:50]] for r in top], decimals=3)
    )
    write_results(result_name("off_topic", args.limit),
                  {"reader": reader_name, "limit": args.limit, "summary": summary, "top": top, "rows": rows},
                  markdown, command_line())
    print(json.dumps(summary), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
