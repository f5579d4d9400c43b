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
               and SQuAD v2.0 dev's unanswerable questions over the dev articles: whole
               articles to choose among many candidates in, as in users' news (the reader was
               trained on SQuAD v1.1 train, so its scores on these questions are higher than on
               unseen ones: the ranker trusts them a little more than it should)

RealTimeQA is split by date: 2020-21 is fitted on (the shipped reader, trained on SQuAD, has
seen none of it), 2022 is held out for the benchmarks (benchmarks/news_answerability.py). For a
reader fine-tuned on news (scripts/make_news_training_set.py), fit by cross-fitting: each year's
news questions are read by a reader fine-tuned on the other year (--news-readers), so their
features look as they will on questions the shipped reader has not seen.
SQuAD v1.1 dev, which benchmarks/open_domain.py reports on, is never used (v2.0's unanswerable
questions are not in it).

Three models and three cut-offs, all fitted on this split:

  ranker      logistic regression over every candidate (right or not): orders a question's
              candidates; Platt-scaled on each news question's top candidate, it is the
              probability that the answer shown is right (the confidence)
  floor       the lowest confidence from which the top candidates of --floor-rejection of the
              off-topic questions are rejected: a span under it is plainly not the answer; an
              answer and every other report must reach it
  verifier    logistic regression over each question's candidates together (answerable
              questions with a right candidate: 1; the sources of --verifier-negatives: 0):
              the probability that the articles hold an answer. An answer is shown when the
              verifier passes the question and the best candidate reaches the floor above. The
              verifier's floor is the lowest at which the two checks together reject
              --off-topic-rejection of the off-topic questions
  threshold   the lowest confidence from which at least --confident-precision of the answers
              shown (news questions) are right, with at most --near-topic-confident of
              near-topic questions answered confidently

    python scripts/fit_answerability.py            # ~20 minutes on 2 cores (features cached)
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

WORK = CACHE / "answerability"
NEWS_SOURCES = ("answerable", "near_topic", "off_topic")
SQUAD_SOURCES = ("squad_answerable", "squad_unanswerable")
SOURCES = NEWS_SOURCES + SQUAD_SOURCES
ANSWERABLE = ("answerable", "squad_answerable")
# The thresholds tried for every floor and the confident threshold: 0.01 to 0.985 by 0.005.
GRID = tuple(round(0.01 + 0.005 * i, 4) for i in range(196))


def lowest_rejecting(values, share: float, default: float, rejected=None) -> float:
    """The lowest threshold of `GRID` under which at least ``share`` of ``values`` fall (counting
    those ``rejected`` already marks, by another check, as refused), else ``default``."""
    import numpy as np

    values = np.asarray(values, dtype=float)
    already = np.zeros(len(values), dtype=bool) if rejected is None else np.asarray(rejected, dtype=bool)
    return next((t for t in GRID if ((values < t) | already).mean() >= share), default)


def features_folder(reader: Path, years: tuple[str, ...]) -> Path:
    """Where the candidates' features are cached: one folder per fitting years, reader weights
    and retrieval settings (features read by another reader, or of passages retrieved another
    way, are not these)."""
    import hashlib

    from qa.settings import Settings

    s = Settings()
    weights = reader / "model.safetensors"
    key = (f"{weights.stat().st_size}:{weights.stat().st_mtime_ns}"
           f":{s.retrieval}:{s.rrf_k}:{s.lexical_weight}:{s.top_k}:{s.retrieval_depth}")
    digest = hashlib.sha1(key.encode()).hexdigest()[:10]
    return WORK / f"{'-'.join(years)}-{digest}"


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


def gather_news(args, reader: str, years: tuple[str, ...], folder: Path) -> dict[str, list[dict]]:
    """The RealTimeQA sources (answerable, near-topic, off-topic) of ``years``, read by ``reader``."""
    top_k = 8
    from qa.evaluation import quiz_references

    news = spread(news_questions(years), args.news)
    rtqa, evidence = realtimeqa_assistant(reader)
    sources: dict[str, list[dict]] = {}

    def answerable(question, answers, _):
        # The references are quiz choices: a title in typographic quotes, a count in digits
        # where the article may write it in words (as benchmarks/news_answerability.py scores).
        return candidate_rows(rtqa, question, quiz_references(answers),
                              rtqa.retriever.retrieve(rtqa.snapshot(), question))

    sources["answerable"] = collect(folder / "answerable.jsonl",
                                    [(ex.id, ex.question, ex.answers, None) for ex in news], answerable, "answerable")

    def near(question, answers, evidence_id):
        passages = near_topic_passages(rtqa, question, answers, evidence_id, top_k)
        return None if passages is None else candidate_rows(rtqa, question, (), passages)

    sources["near_topic"] = collect(
        folder / "near_topic.jsonl",
        [(ex.id, ex.question, ex.answers, evidence[ex.context.strip()]) for ex in news], near, "near-topic")
    bbc = bbc_assistant(reader)

    def off(question, answers, _):
        return candidate_rows(bbc, question, (), bbc.retriever.retrieve(bbc.snapshot(), question))

    sources["off_topic"] = collect(folder / "off_topic.jsonl",
                                   [(ex.id, ex.question, (), None) for ex in news], off, "off-topic")
    return sources


def gather_squad(args, reader: str, folder: Path) -> dict[str, list[dict]]:
    """The SQuAD sources: v1.1 train questions over 30 of its articles, and v2.0 dev's
    unanswerable questions, read by ``reader``."""
    from qa.squad import load_squad

    train = load_squad(data_file("squad/train-v1.1.json"))
    squad_train, titles = squad_assistant("squad_train", train, reader, articles=30)
    asked = spread([ex for ex in train if ex.title in titles], args.squad)
    sources: dict[str, list[dict]] = {}

    def squad_answerable(question, answers, _):
        return candidate_rows(squad_train, question, answers,
                              squad_train.retriever.retrieve(squad_train.snapshot(), question))

    sources["squad_answerable"] = collect(folder / "squad_answerable.jsonl",
                                          [(ex.id, ex.question, ex.answers, None) for ex in asked],
                                          squad_answerable, "squad train")
    dev2 = load_squad(data_file("squad/dev-v2.0-public.json"))
    squad_dev, _ = squad_assistant("squad_dev2", dev2, reader)
    unanswerable = spread([ex for ex in dev2 if ex.is_impossible], args.squad)

    def squad_unanswerable(question, answers, _):
        return candidate_rows(squad_dev, question, (), squad_dev.retriever.retrieve(squad_dev.snapshot(), question))

    sources["squad_unanswerable"] = collect(folder / "squad_unanswerable.jsonl",
                                            [(ex.id, ex.question, (), None) for ex in unanswerable],
                                            squad_unanswerable, "squad v2 unanswerable")
    return sources


def news_parts(args, years: tuple[str, ...]) -> list[tuple[str, tuple[str, ...], Path]]:
    """(reader, years, features folder) per part of the news questions: one part read by
    --reader, or with --news-readers one part per year, each read by the reader named for it."""
    if not args.news_readers:
        return [(args.reader, years, features_folder(Path(args.reader), years))]
    return [(args.news_readers[y], (y,), features_folder(Path(args.news_readers[y]), (y,))) for y in years]


def gather(args, years: tuple[str, ...]) -> dict[str, list[dict]]:
    """Every source's rows (collected, or read from the cache with --refit)."""
    def cached(folder: Path, names) -> dict[str, list[dict]]:
        return {name: [json.loads(line) for line in (folder / f"{name}.jsonl").read_text().splitlines()]
                for name in names}

    sources: dict[str, list[dict]] = {name: [] for name in SOURCES}
    for reader, part, folder in news_parts(args, years):
        rows = (cached(folder, NEWS_SOURCES) if args.refit else gather_news(args, reader, part, folder))
        for name in NEWS_SOURCES:
            sources[name] += rows[name]
    squad_folder = features_folder(Path(args.reader), years)
    rows = cached(squad_folder, SQUAD_SOURCES) if args.refit else gather_squad(args, args.reader, squad_folder)
    sources.update(rows)
    return sources


def product_order(model, candidates: list[dict], credible: float) -> list[dict]:
    """The candidates the Assistant would consider, in its order (`qa.assistant.answer_order`):
    those that can answer, the ones of at least ``credible`` probability (the report floor)
    from articles naming what the question names first, then by probability."""
    from qa.answerability import AnswerFeatures

    scored = [(model.probability(AnswerFeatures(**c["features"])), c) for c in candidates if c.get("eligible", True)]
    scored.sort(key=lambda pc: (pc[0] >= credible and not pc[1]["features"]["names_missing"], pc[0]), reverse=True)
    return [c | {"p": p} for p, c in scored]


def decide(model, sources: dict[str, list[dict]], floor: float, report_floor: float, args):
    """Fit the verifier and choose its floor and the confident threshold (see the module
    docstring). Returns (verifier, threshold, per-question decisions by source)."""
    import numpy as np

    from qa.answerability import AnswerFeatures, QuestionFeatures, Verifier, fit

    per_source: dict[str, list[tuple]] = {}
    qf, qy = [], []
    for name, rows in sources.items():
        items = []
        for row in rows:
            ranked = product_order(model, row["candidates"], report_floor)
            if not ranked:
                items.append((None, 0.0, 0, False))
                continue
            features = QuestionFeatures.of([AnswerFeatures(**c["features"]) for c in ranked], model)
            best = ranked[0]
            items.append((features, best["p"], best["label"], best["features"]["names_missing"] > 0))
            holds = name in ANSWERABLE
            if holds and not any(c["label"] for c in ranked):
                continue  # the articles hold it but no candidate says it: no clear label
            if not holds and name not in args.verifier_negatives:
                continue
            qf.append(features)
            qy.append(int(holds))
        per_source[name] = items
    names, mean, scale, weights, bias = fit(qf, qy, c=args.c)
    verifier = Verifier(names, mean, scale, weights, bias, floor=0.5)

    def answerable(items):
        return np.array([verifier.probability(f) if f is not None else 0.0 for f, *_ in items])

    off = answerable(per_source["off_topic"])
    off_p = np.array([p if f is not None else 0.0 for f, p, *_ in per_source["off_topic"]])
    # The lowest verifier floor at which the two checks together reject --off-topic-rejection of
    # the off-topic questions: every answerable question it passes is one more answered.
    vfloor = lowest_rejecting(off, args.off_topic_rejection, 0.99, rejected=off_p < floor)
    verifier = Verifier(names, mean, scale, weights, bias, floor=round(vfloor, 4))

    decisions = {}  # name -> [(shown, p, right, names missing)]
    for name, items in per_source.items():
        q = answerable(items)
        # As `Assistant._compose` decides: the verifier passes the question and the best
        # candidate reaches the candidate floor, or the report floor when its article does not
        # mention what the question names.
        decisions[name] = [(bool(a >= vfloor and f is not None and p >= (report_floor if missing else floor)),
                            p, right, missing)
                           for a, (f, p, right, missing) in zip(q, items)]
    news = decisions["answerable"] + decisions["near_topic"] + decisions["off_topic"]

    def precision(items, lo, hi=1.01):
        sel = [right for shown, p, right, missing in items if shown and not missing and lo <= p < hi]
        return (sum(sel) / len(sel), len(sel)) if sel else (1.0, 0)

    threshold = next(
        (t for t in GRID
         if precision(news, t)[0] >= args.confident_precision
         and np.mean([shown and p >= t and not m for shown, p, _, m in decisions["near_topic"]])
         <= args.near_topic_confident),
        0.99)
    return verifier, threshold, decisions


def shares(decisions: dict[str, list[tuple]], threshold: float) -> dict:
    """Per source: the shares answered confidently, tentatively and not at all, and how often a
    shown answer is right; over the news sources, how often confident / tentative ones are."""
    report = {}
    for name, items in decisions.items():
        n = len(items)
        confident = [r for shown, p, r, m in items if shown and p >= threshold and not m]
        tentative = [r for shown, p, r, m in items if shown and not (p >= threshold and not m)]
        report[name] = {"questions": n, "confident_pct": round(100 * len(confident) / n, 2),
                        "tentative_pct": round(100 * len(tentative) / n, 2),
                        "not_found_pct": round(100 * (n - len(confident) - len(tentative)) / n, 2),
                        "right_when_shown_pct": round(100 * sum(confident + tentative)
                                                      / max(1, len(confident) + len(tentative)), 2)}
    news = [x for name in ("answerable", "near_topic", "off_topic") for x in decisions[name]]
    confident = [r for shown, p, r, m in news if shown and p >= threshold and not m]
    tentative = [r for shown, p, r, m in news if shown and not (p >= threshold and not m)]
    report["confident_precision_news"] = round(sum(confident) / max(1, len(confident)), 4)
    report["tentative_precision_news"] = round(sum(tentative) / max(1, len(tentative)), 4)
    return report


def fit_all(sources: dict[str, list[dict]], args, fitted_on: str = ""):
    """The ranker, its Platt confidence, the candidate floor, the verifier and the confident
    threshold, fitted on ``sources`` (see the module docstring).

    Returns (model with floor, verifier, threshold, per-question decisions by source).
    """

    from qa.answerability import Answerability, AnswerFeatures, fit, fit_confidence

    features, labels = [], []
    for rows in sources.values():
        for row in rows:
            for c in row["candidates"]:
                features.append(AnswerFeatures(**c["features"]))
                labels.append(c["label"])
    names, mean, scale, weights, bias = fit(features, labels, c=args.c)
    ranker = Answerability(names, mean, scale, weights, bias, threshold=0.5, floor=0.5)
    # (ranker score, right) of each news question's top candidate among those that can answer.
    # The confidence is fitted on news alone: SQuAD's unanswerable questions are read by a reader
    # trained on SQuAD, and their confident-looking wrong tops made the confidence of the news
    # answers shown too low (5-fold CV on 2020-21: expected calibration error of the answers
    # shown 0.164 with SQuAD, 0.037 without; the same answers shown).
    tops = []
    for rows in (sources[name] for name in NEWS_SOURCES):
        for row in rows:
            scored = [(ranker.logit(AnswerFeatures(**c["features"])), c["label"])
                      for c in row["candidates"] if c.get("eligible", True)]
            if scored:
                tops.append(max(scored))
    top_scale, top_bias = fit_confidence([z for z, _ in tops], [y for _, y in tops])
    model = Answerability(names, mean, scale, weights, bias, threshold=0.5, floor=0.5,
                          top_scale=top_scale, top_bias=top_bias, fitted_on=fitted_on)
    # The candidate floor (an answer must reach it): the lowest probability from which the top
    # candidates of --floor-rejection of the off-topic questions are rejected. It drops the spans
    # that are plainly not answers; whether the articles answer the question at all is the
    # verifier's call.
    off = [max([model.probability(AnswerFeatures(**c["features"]))
                for c in row["candidates"] if c.get("eligible", True)] or [0.0])
           for row in sources["off_topic"]]
    floor = lowest_rejecting(off, args.floor_rejection, 0.5)
    # Other reports have no verifier of their own: they reach the floor that would reject
    # --off-topic-rejection of the off-topic questions alone.
    report_floor = lowest_rejecting(off, args.off_topic_rejection, 0.5)
    verifier, threshold, decisions = decide(model, sources, floor, report_floor, args)
    return replace(model, floor=round(floor, 4), report_floor=round(report_floor, 4)), verifier, threshold, decisions


def main(argv: list[str] | None = None) -> int:

    from qa.settings import DEFAULT_READER

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reader", default=str(DEFAULT_READER), help="reader folder (default: models/reader)")
    p.add_argument("--years", default="2020,2021",
                   help="comma-separated RealTimeQA quiz years to fit on (default: 2020,2021; 2021 alone for "
                        "a reader fine-tuned on 2020 news; 2022 is held out)")
    p.add_argument("--news", type=int, default=None,
                   help="news questions of those years, spread over the weeks (default: all)")
    p.add_argument("--squad", type=int, default=900,
                   help="SQuAD questions of each kind (default: 900). Their passages are whole multi-paragraph "
                        "articles, as users' news is, where RealTimeQA's evidence is mostly one sentence; "
                        "measured with 5-fold cross-validation on 2020-21 and on the conversation set "
                        "(benchmarks/conversations.py, offline over the same candidates): at 300, RealTimeQA "
                        "answered 73.1%%, F1 52.9, conversations turn F1 76.8 (fit half) / 77.5 (held-out "
                        "half); at 900, 71.5%%, 53.1, 82.7 / 81.2")
    p.add_argument("--c", type=float, default=1.0, help="inverse L2 strength of the regressions (default: 1)")
    p.add_argument("--confident-precision", type=float, default=0.92,
                   help="share of confident answers that must be right on the fitting split (default: 0.92)")
    p.add_argument("--near-topic-confident", type=float, default=0.2,
                   help="most near-topic questions answered confidently (default: 0.2)")
    p.add_argument("--off-topic-rejection", type=float, default=0.96,
                   help="share of off-topic questions the floors must reject (default: 0.96)")
    p.add_argument("--floor-rejection", type=float, default=0.6,
                   help="share of off-topic questions whose best candidate the candidate floor alone rejects "
                        "(default: 0.6); the verifier rejects the rest of --off-topic-rejection. Chosen by 5-fold "
                        "cross-validation on 2020-21 (by month) with the news readers cross-fitted: answerable "
                        "news answered / off-topic refused 81.7%%/95.4%% at 0.5, 81.5/95.9 at 0.6, 81.7/95.5 at "
                        "0.75, 68.0/96.0 at 0.96 (the floor alone, as shipped before)")
    p.add_argument("--verifier-negatives", default="off_topic",
                   type=lambda text: tuple(t.strip() for t in text.split(",") if t.strip()),
                   help="the unanswerable sources the verifier learns to reject, comma-separated, of "
                        "near_topic, off_topic, squad_unanswerable (default: off_topic: a question the "
                        "articles are about but do not answer is left to the confidence, shown "
                        "tentative, as the issue's near-topic target allows; measured on 2020-21 "
                        "with 5-fold cross-validation, rejecting only off-topic questions answers 3 "
                        "points more of the answerable ones at the same off-topic rejection)")
    p.add_argument("--news-readers", default={}, metavar="YEAR=FOLDER,...",
                   type=lambda text: dict(part.strip().split("=", 1) for part in text.split(",") if part.strip()),
                   help="cross-fitting for a reader fine-tuned on news: read each year's news questions with "
                        "a reader that was not trained on them (e.g. 2020=runs/news-2021/model,"
                        "2021=runs/news-2020/model); SQuAD, and the model written, stay with --reader")
    p.add_argument("--threads", type=int, default=0, help="torch threads (default: one per core)")
    p.add_argument("--refit", action="store_true", help="only refit from the cached features")
    args = p.parse_args(argv)
    set_threads(args.threads)
    years = tuple(y.strip() for y in args.years.split(",") if y.strip())
    if "2022" in years:
        p.error("2022 is held out for the benchmarks")
    if args.news_readers and set(args.news_readers) != set(years):
        p.error(f"--news-readers must name a reader for each of the years {', '.join(years)}")
    sources = gather(args, years)
    fitted_on = (f"RealTimeQA {', '.join(years)} (answerable, near-topic, off-topic vs BBC 2004-05), SQuAD v1.1 "
                 f"train ({args.squad} questions over 30 articles), SQuAD v2.0 dev unanswerable ({args.squad})"
                 + ("; news read cross-fitted (" + ", ".join(f"{y} by {Path(r).parent.name}/{Path(r).name}"
                                                             for y, r in sorted(args.news_readers.items())) + ")"
                    if args.news_readers else ""))
    model, verifier, threshold, decisions = fit_all(sources, args, fitted_on)
    labels = [c["label"] for rows in sources.values() for row in rows for c in row["candidates"]]
    report = shares(decisions, threshold)
    report |= {"candidates": len(labels), "positive_rate": round(sum(labels) / len(labels), 4),
               "settings": {k: v for k, v in vars(args).items() if k not in ("refit", "threads")},
               "command": " ".join(["python", "scripts/fit_answerability.py", *(argv if argv is not None else sys.argv[1:])])}
    model = replace(model, threshold=round(max(threshold, model.floor), 4), report=report, verifier=verifier)
    path = model.save(Path(args.reader))
    print(json.dumps({"threshold": model.threshold, "floor": model.floor, "report_floor": model.report_floor,
                      "verifier_floor": verifier.floor,
                      **report}, indent=2))
    print("weights:", {n: round(w, 3) for n, w in zip(model.features, model.weights)})
    print("verifier weights:", {n: round(w, 3) for n, w in zip(verifier.features, verifier.weights)})
    print(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
