#!/usr/bin/env python
"""Fit qa's answerability model (see `qa.answerability`) in the setting the product runs in,
on news, and store it with the reader (models/reader/answerability.json).

Every question goes through the Assistant's own stages (retrieve 8 passages, read, build
candidates); each candidate's features are kept with a label (1: F1 >= 0.5 against a reference
answer; 0: otherwise, and always 0 when the corpus does not hold the answer). Sources:

  answerable   RealTimeQA questions over the corpus of all quiz evidence passages
  near-topic   the same questions with their own evidence passage left out (the other
               weeks' passages stay in); a question whose answer still appears in a retrieved
               sentence beside half of its words is dropped (it is answerable after all)
  off-topic    the same questions asked of BBC News 2004-05
  squad        SQuAD v1.1 train questions over 30 of its articles (answerable, Wikipedia),
               and SQuAD v2.0 dev's unanswerable questions over the dev articles

RealTimeQA is split by date: only 2020-2021 is used here; 2022 is held out for the benchmarks
(benchmarks/news_answerability.py). SQuAD v1.1 dev, which benchmarks/open_domain.py reports
on, is never used (v2.0's unanswerable questions are not in it).

Thresholds, fitted on the same split (news questions only): ``threshold`` (confident) is the
lowest probability from which at least --confident-precision of the top answers (answerable,
near-topic and off-topic questions together) are right, and at most --near-topic-confident of
near-topic questions are answered confidently; ``floor`` is the highest that still answers
--answered of the answerable questions, raised if needed until it rejects
--off-topic-rejection of the off-topic ones.

    python scripts/fit_answerability.py            # ~15 minutes on 2 cores (features cached)
    python scripts/fit_answerability.py --refit    # refit from the cached features

Needs ../shared/data/ (newsqa, news/bbc-2004-2005.jsonl, squad) and the indexes the benchmarks
build (made here when missing: the BBC one takes ~10 minutes).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import CACHE, data_file, set_threads, spread  # noqa: E402
from news_sets import (  # noqa: E402
    assistant_for,
    bbc_assistant,
    near_topic_passages,
    news_questions,
    realtimeqa_assistant,
)
from open_domain import write_if_changed  # noqa: E402

FIT_YEARS = ("2020", "2021")
WORK = CACHE / "answerability"


def squad_assistant(name: str, examples, reader: str, articles: int | None = None):
    from open_domain import squad_articles

    docs = squad_articles(examples)
    if articles:
        docs = spread(docs, articles)
    work = CACHE / "answerability" / name
    write_if_changed(work / "corpus" / f"{name}.jsonl", "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in docs))
    return assistant_for(work / "corpus", work / "index", reader), {d["id"] for d in docs}


def candidate_rows(assistant, question: str, answers, passages) -> list[dict]:
    """Features and labels of every candidate read in ``passages`` (empty ``answers``: the
    corpus does not hold the answer, every candidate is wrong)."""
    from qa.answer_type import profile
    from qa.assistant import can_answer
    from qa.evaluation import squad_scores

    snapshot = assistant.snapshot()
    output = assistant.reader.read(question, [p.text for p in passages])
    rows = []
    for c in assistant.candidates(snapshot, question, passages, output)[:12]:
        f1 = squad_scores(c.candidate.answer, list(answers))[1] if answers else 0.0
        rows.append({"answer": c.candidate.answer, "f1": round(f1, 4), "label": int(f1 >= 0.5),
                     "eligible": can_answer(c, profile(question)), "features": asdict(c.features)})
    return rows


def collect(path: Path, items, make_rows, desc: str) -> list[dict]:
    """Rows per question, cached in ``path`` (JSON lines; an interrupted run continues)."""
    from tqdm import tqdm

    done: dict[str, dict] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            done[row["id"]] = row
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        for qid, question, answers, arg in tqdm(items, desc=desc, unit="q", file=sys.stderr):
            if qid in done:
                continue
            cands = make_rows(question, answers, arg)
            if cands is None:
                continue
            row = {"id": qid, "question": question, "answers": list(answers), "candidates": cands}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            out.flush()
            done[qid] = row
    return [done[qid] for qid, *_ in items if qid in done]


def gather(args) -> dict[str, list[dict]]:
    from qa.squad import load_squad

    top_k = 8
    news = news_questions(FIT_YEARS)
    rtqa, evidence = realtimeqa_assistant(args.reader)
    sources: dict[str, list[dict]] = {}

    def answerable(question, answers, _):
        return candidate_rows(rtqa, question, answers, rtqa.retriever.retrieve(rtqa.snapshot(), question))

    sources["answerable"] = collect(WORK / "answerable.jsonl",
                                    [(ex.id, ex.question, ex.answers, None) for ex in news], answerable, "answerable")

    def near(question, answers, evidence_id):
        passages = near_topic_passages(rtqa, question, answers, evidence_id, top_k)
        return None if passages is None else candidate_rows(rtqa, question, (), passages)

    sources["near_topic"] = collect(
        WORK / "near_topic.jsonl",
        [(ex.id, ex.question, ex.answers, evidence[ex.context.strip()]) for ex in news], near, "near-topic")

    train = load_squad(data_file("squad/train-v1.1.json"))
    squad_train, titles = squad_assistant("squad_train", train, args.reader, articles=30)
    asked = spread([ex for ex in train if ex.title in titles], args.squad)

    def squad_answerable(question, answers, _):
        return candidate_rows(squad_train, question, answers,
                              squad_train.retriever.retrieve(squad_train.snapshot(), question))

    sources["squad_answerable"] = collect(WORK / "squad_train.jsonl",
                                          [(ex.id, ex.question, ex.answers, None) for ex in asked],
                                          squad_answerable, "squad train")
    dev2 = load_squad(data_file("squad/dev-v2.0-public.json"))
    squad_dev, _ = squad_assistant("squad_dev2", dev2, args.reader)
    unanswerable = spread([ex for ex in dev2 if ex.is_impossible], args.squad)

    def squad_unanswerable(question, answers, _):
        return candidate_rows(squad_dev, question, (), squad_dev.retriever.retrieve(squad_dev.snapshot(), question))

    sources["squad_unanswerable"] = collect(WORK / "squad_unanswerable.jsonl",
                                            [(ex.id, ex.question, (), None) for ex in unanswerable],
                                            squad_unanswerable, "squad v2 unanswerable")
    bbc = bbc_assistant(args.reader)

    def off(question, answers, _):
        return candidate_rows(bbc, question, (), bbc.retriever.retrieve(bbc.snapshot(), question))

    sources["off_topic"] = collect(WORK / "off_topic.jsonl",
                                   [(ex.id, ex.question, (), None) for ex in news], off, "off-topic")

    return sources


def choose_thresholds(model, sources: dict[str, list[dict]], args) -> tuple[float, float, dict]:
    """The confident threshold and the floor (see the module docstring), with what they give."""
    import numpy as np

    from qa.answerability import AnswerFeatures

    def top(rows):
        """(probability, right, names missing) of each question's top candidate."""
        out = []
        for row in rows:
            best = None
            for c in row["candidates"]:
                if not c.get("eligible", True):
                    continue  # the Assistant never shows it (qa.assistant.can_answer)
                p = model.probability(AnswerFeatures(**c["features"]))
                if best is None or p > best[0]:
                    best = (p, c["label"], c["features"]["names_missing"] > 0)
            out.append(best or (0.0, 0, False))
        return out

    tops = {name: top(rows) for name, rows in sources.items()}
    news = tops["answerable"] + tops["near_topic"] + tops["off_topic"]
    grid = np.round(np.arange(0.01, 0.99, 0.005), 4)

    def precision(items, lo, hi=1.01):
        sel = [right for p, right, _ in items if lo <= p < hi]
        return (sum(sel) / len(sel), len(sel)) if sel else (1.0, 0)

    confident = [x for x in news if not x[2]]  # an answer whose article lacks a name is never confident
    threshold = next(
        (float(t) for t in grid
         if precision(confident, t)[0] >= args.confident_precision
         and np.mean([p >= t and not m for p, _, m in tops["near_topic"]]) <= args.near_topic_confident),
        0.99)
    off = np.array([p for p, _, _ in tops["off_topic"]])
    answerable = np.array([p for p, _, _ in tops["answerable"]])
    # The highest floor that still answers --answered of the answerable news questions, but never
    # one that lets more than 1 - --off-topic-rejection of off-topic questions through.
    lowest = next((float(t) for t in grid if (off < t).mean() >= args.off_topic_rejection), threshold)
    floor = max([float(t) for t in grid if t <= threshold and (answerable >= t).mean() >= args.answered] or [lowest])
    floor = max(floor, lowest)

    def shares(items):
        n = len(items)
        confident = sum(1 for p, _, m in items if p >= threshold and not m)
        shown = sum(1 for p, _, _ in items if p >= floor)
        return {"questions": n, "confident_pct": round(100 * confident / n, 2),
                "tentative_pct": round(100 * (shown - confident) / n, 2),
                "not_found_pct": round(100 * (n - shown) / n, 2),
                "right_when_shown_pct": round(100 * sum(r for p, r, _ in items if p >= floor) / max(1, shown), 2)}

    report = {name: shares(items) for name, items in tops.items()}
    report["confident_precision_news"] = round(precision(confident, threshold)[0], 4)
    report["tentative_precision_news"] = round(precision(news, floor, threshold)[0], 4)
    return threshold, floor, report


def main(argv: list[str] | None = None) -> int:
    from qa.answerability import Answerability, AnswerFeatures, fit, fit_confidence
    from qa.settings import DEFAULT_READER

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reader", default=str(DEFAULT_READER), help="reader folder (default: models/reader)")
    p.add_argument("--squad", type=int, default=300, help="SQuAD questions of each kind (default: 300)")
    p.add_argument("--c", type=float, default=1.0, help="inverse L2 strength of the regression (default: 1)")
    p.add_argument("--confident-precision", type=float, default=0.92,
                   help="share of confident answers that must be right on the fitting split (default: 0.92)")
    p.add_argument("--near-topic-confident", type=float, default=0.2,
                   help="most near-topic questions answered confidently (default: 0.2)")
    p.add_argument("--off-topic-rejection", type=float, default=0.96,
                   help="share of off-topic questions the floor must reject (default: 0.96)")
    p.add_argument("--answered", type=float, default=0.88,
                   help="share of answerable news questions the floor must answer (default: 0.88)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (default: one per core)")
    p.add_argument("--refit", action="store_true", help="only refit from the cached features")
    args = p.parse_args(argv)
    set_threads(args.threads)

    if args.refit:
        sources = {name: [json.loads(line) for line in (WORK / f"{file}.jsonl").read_text().splitlines()]
                   for name, file in (("answerable", "answerable"), ("near_topic", "near_topic"),
                                      ("off_topic", "off_topic"), ("squad_answerable", "squad_train"),
                                      ("squad_unanswerable", "squad_unanswerable"))}
    else:
        sources = gather(args)
    features, labels = [], []
    for rows in sources.values():
        for row in rows:
            for c in row["candidates"]:
                features.append(AnswerFeatures(**c["features"]))
                labels.append(c["label"])
    names, mean, scale, weights, bias = fit(features, labels, c=args.c)
    ranker = Answerability(names, mean, scale, weights, bias, threshold=0.5, floor=0.5)
    tops = []  # (ranker score, right) of each question's top candidate
    for rows in sources.values():
        for row in rows:
            scored = [(ranker.logit(AnswerFeatures(**c["features"])), c["label"]) for c in row["candidates"]]
            if scored:
                tops.append(max(scored))
    top_scale, top_bias = fit_confidence([z for z, _ in tops], [y for _, y in tops])
    model = Answerability(names, mean, scale, weights, bias, threshold=0.5, floor=0.5,
                          top_scale=top_scale, top_bias=top_bias,
                          fitted_on="RealTimeQA 2020-21 (answerable, near-topic, off-topic vs BBC 2004-05), "
                                    "SQuAD v1.1 train (30 articles), SQuAD v2.0 dev unanswerable")
    threshold, floor, report = choose_thresholds(model, sources, args)
    report |= {"candidates": len(labels), "positive_rate": round(sum(labels) / len(labels), 4),
               "settings": {k: v for k, v in vars(args).items() if k not in ("refit", "threads")},
               "command": "python scripts/fit_answerability.py"}
    model = replace(model, threshold=round(threshold, 4), floor=round(floor, 4), report=report)
    path = model.save(Path(args.reader))
    print(json.dumps({"threshold": model.threshold, "floor": model.floor, **report}, indent=2))
    print("weights:", {n: round(w, 3) for n, w in zip(names, weights)})
    print(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
