#!/usr/bin/env python
"""Write the training file for fine-tuning qa's reader on news (SQuAD v2.0 layout).

The reader was trained on SQuAD (Wikipedia, one paragraph per question). On news, asked across
many articles, it most often fails by reading a span from a passage that does not answer the
question (a nearby figure, another week's event of the same kind). This set teaches both sides:

  positives       RealTimeQA questions of --years with their own evidence passage
  hard negatives  for each of those questions, up to --negatives passages that qa's retriever
                  ranks highest for it in the corpus of all quiz evidence, which do not hold the
                  answer (target: no answer), taken only from the weeks of --years
  replay          --squad SQuAD v1.1 train questions, spread over the file, so that the reader
                  keeps what it learnt there

Only --years (default 2020) are used: 2021 is what the answerability model is then fitted on
(scripts/fit_answerability.py), so that its features come from questions the reader has not
seen, and 2022 is held out for the benchmarks. Then:

    python scripts/make_news_training_set.py                 # -> runs/news-reader/train.json
    python scripts/train_reader.py --base-model models/reader \\
        --train-file runs/news-reader/train.json --epochs 2 --learning-rate 3e-5 \\
        --run-dir runs/news-reader/run --output-dir runs/news-reader/model

Needs ../shared/data/ (newsqa, squad) and the RealTimeQA index the benchmarks build (made here
when missing).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import data_file, set_threads, spread  # noqa: E402
from news_sets import news_questions, realtimeqa_assistant  # noqa: E402

HELD_OUT = "2022"


def hard_negatives(assistant, question: str, answers, own: str, years: tuple[str, ...], limit: int) -> list[str]:
    """The retriever's best passages for ``question`` that hold none of ``answers`` (normalised
    as in SQuAD scoring), from the weeks of ``years`` only, its own evidence excluded."""
    from qa.evaluation import normalize_answer

    golds = [normalize_answer(a) for a in answers if normalize_answer(a)]
    out: list[str] = []
    for p in assistant.retriever.retrieve(assistant.snapshot(), question, top_k=12):
        text = p.text.strip()
        if text == own or (p.record.date or "")[:4] not in years:
            continue
        if any(g in normalize_answer(text) for g in golds):
            continue
        out.append(text)
        if len(out) == limit:
            break
    return out


def main(argv: list[str] | None = None) -> int:
    from qa.settings import DEFAULT_READER
    from qa.squad import load_squad

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--years", default="2020", help="comma-separated quiz years to train on (default: 2020)")
    p.add_argument("--negatives", type=int, default=2, help="hard negatives per question (default: 2)")
    p.add_argument("--squad", type=int, default=1500, help="SQuAD v1.1 train questions replayed (default: 1500)")
    p.add_argument("--output", default=str(ROOT / "runs" / "news-reader" / "train.json"))
    p.add_argument("--threads", type=int, default=0, help="torch threads (default: one per core)")
    args = p.parse_args(argv)
    set_threads(args.threads)
    years = tuple(y.strip() for y in args.years.split(",") if y.strip())
    if HELD_OUT in years:
        p.error(f"{HELD_OUT} is held out for the benchmarks")

    rtqa, _ = realtimeqa_assistant(str(DEFAULT_READER))
    data: list[dict] = []
    counts = {"positives": 0, "hard_negatives": 0, "squad": 0}
    for ex in news_questions(years):
        if not ex.answers or not ex.answer_starts or ex.answer_starts[0] < 0:
            continue
        qas = [{"id": ex.id, "question": ex.question, "is_impossible": False,
                "answers": [{"text": a, "answer_start": s} for a, s in zip(ex.answers, ex.answer_starts)]}]
        paragraphs = [{"context": ex.context, "qas": qas}]
        counts["positives"] += 1
        for i, text in enumerate(hard_negatives(rtqa, ex.question, ex.answers, ex.context.strip(), years,
                                                      args.negatives)):
            paragraphs.append({"context": text, "qas": [{"id": f"{ex.id}-hard{i}", "question": ex.question,
                                                         "is_impossible": True, "answers": []}]})
            counts["hard_negatives"] += 1
        # one "article" per question: the trainer's other-paragraph negatives then pair the
        # question with its own hard negatives, never with an unrelated week
        data.append({"title": f"RealTimeQA {ex.id}", "paragraphs": paragraphs})

    squad = load_squad(data_file("squad/train-v1.1.json"))
    by_title: dict[str, list[dict]] = {}
    for ex in spread(squad, args.squad):
        by_title.setdefault(ex.title, []).append(
            {"context": ex.context, "qas": [{"id": ex.id, "question": ex.question, "is_impossible": False,
                                             "answers": [{"text": a, "answer_start": s}
                                                         for a, s in zip(ex.answers, ex.answer_starts)]}]})
        counts["squad"] += 1
    data.extend({"title": t, "paragraphs": ps} for t, ps in by_title.items())

    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"version": "v2.0", "data": data}, ensure_ascii=False), encoding="utf-8")
    print(json.dumps({"output": str(out), "years": years, **counts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
