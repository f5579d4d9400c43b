"""Answers you can trust on news, held out: RealTimeQA 2022 (never used to fit anything).

Three question sets, each through `Assistant.ask`'s stages with the default settings:

- answerable: 2022 questions over the corpus of all 2020-22 quiz evidence passages (open-domain);
- near-topic: the same questions with their own evidence passage left out of what is read
  (questions whose answer still appears beside their words elsewhere are dropped);
- off-topic: the same questions asked of BBC News 2004-05.

For each: the share answered confidently, tentatively and not at all; for answerable questions
also EM/F1 ("not in the articles" scores as empty), and how often confident and tentative
answers are right (F1 >= 0.5). Over all three sets: a reliability diagram (PNG) and the expected
calibration error of the shown answers' confidence. The same run measures the reader's own
SQuAD-fitted confidence (`Settings.answerability` off; ``--no-baseline`` skips it) for comparison.

    python benchmarks/news_answerability.py
    python benchmarks/news_answerability.py --limit 200

Needs ../shared/data/ (newsqa, news/bbc-2004-2005.jsonl) and the reader with its
answerability.json (scripts/fit_answerability.py). The BBC index takes ~10 minutes to build
the first time (kept in benchmarks/.cache).
"""

from __future__ import annotations

import argparse
import json
import sys

from common import RESULTS, command_line, reader_path, result_name, set_threads, spread, table, write_results
from news_sets import bbc_assistant, near_topic_passages, news_questions, realtimeqa_assistant

HELD_OUT = ("2022",)
BINS = 10


def judge(assistants, question: str, answers, passages) -> list[dict]:
    """What each Assistant shows for ``question`` read from ``passages`` (read once: they share
    the reader), and whether it is right."""
    from qa.evaluation import quiz_references, squad_scores

    output = assistants[0].reader.read(question, [p.text for p in passages])
    rows = []
    for assistant in assistants:
        answer = assistant.answer_from(question, passages, output=output)
        said = answer.answer if answer.found else ""
        em, f1 = squad_scores(said, quiz_references(answers)) if answers else (0.0, 0.0)
        given = squad_scores(said, list(answers))[1] if answers else 0.0
        rows.append({"found": answer.found, "tentative": answer.tentative, "score": round(answer.score, 4),
                     "answer": answer.answer, "em": em, "f1": f1, "f1_as_given": given,
                     "right": bool(answer.found and answers and f1 >= 0.5),
                     "right_as_given": bool(answer.found and answers and given >= 0.5)})
    return rows


def run(rtqa, bbc, questions, evidence) -> list[dict[str, list[dict]]]:
    """Rows per decider (the order of ``rtqa``/``bbc``), per question set."""
    from tqdm import tqdm

    rows = [{"answerable": [], "near_topic": [], "off_topic": []} for _ in rtqa]
    first = rtqa[0]

    def add(name, results):
        for r, result in zip(rows, results):
            r[name].append(result)

    for ex in tqdm(questions, desc="2022 questions", unit="q", file=sys.stderr):
        add("answerable", judge(rtqa, ex.question, ex.answers, first.retriever.retrieve(first.snapshot(), ex.question)))
        near = near_topic_passages(first, ex.question, ex.answers, evidence[ex.context.strip()], first.settings.top_k)
        if near is not None:
            add("near_topic", judge(rtqa, ex.question, (), near))
        add("off_topic", judge(bbc, ex.question, (), bbc[0].retriever.retrieve(bbc[0].snapshot(), ex.question)))
    return rows


def summary(rows: dict[str, list[dict]]) -> dict:
    out = {}
    for name, items in rows.items():
        n = len(items)
        confident = [r for r in items if r["found"] and not r["tentative"]]
        tentative = [r for r in items if r["found"] and r["tentative"]]
        s = {"questions": n, "confident_pct": round(100 * len(confident) / n, 2),
             "tentative_pct": round(100 * len(tentative) / n, 2),
             "not_found_pct": round(100 * (n - len(confident) - len(tentative)) / n, 2)}
        if name == "answerable":
            s |= {"exact_match": round(100 * sum(r["em"] for r in items) / n, 2),
                  "f1": round(100 * sum(r["f1"] for r in items) / n, 2),
                  "f1_as_given": round(100 * sum(r.get("f1_as_given", r["f1"]) for r in items) / n, 2),
                  "answered_pct": round(100 * (len(confident) + len(tentative)) / n, 2)}
        out[name] = s
    shown = [r for items in rows.values() for r in items if r["found"]]
    confident = [r for r in shown if not r["tentative"]]
    tentative = [r for r in shown if r["tentative"]]
    out["all"] = {
        "confident_right_pct": round(100 * sum(r["right"] for r in confident) / max(1, len(confident)), 2),
        "tentative_right_pct": round(100 * sum(r["right"] for r in tentative) / max(1, len(tentative)), 2),
        "confident_right_as_given_pct": round(100 * sum(r.get("right_as_given", r["right"]) for r in confident)
                                              / max(1, len(confident)), 2),
        "tentative_right_as_given_pct": round(100 * sum(r.get("right_as_given", r["right"]) for r in tentative)
                                              / max(1, len(tentative)), 2),
        "expected_calibration_error": round(calibration_error(shown), 4),
    }
    return out


def reliability(rows: list[dict]) -> list[dict]:
    """Per confidence bin of the shown answers: count, mean confidence, share right."""
    bins = []
    for b in range(BINS):
        lo, hi = b / BINS, (b + 1) / BINS
        sel = [r for r in rows if lo <= r["score"] < hi or (b == BINS - 1 and r["score"] == 1.0)]
        if sel:
            bins.append({"bin": f"{lo:.1f}-{hi:.1f}", "count": len(sel),
                         "confidence": sum(r["score"] for r in sel) / len(sel),
                         "right": sum(r["right"] for r in sel) / len(sel)})
    return bins


def calibration_error(rows: list[dict]) -> float:
    """Expected calibration error over `BINS` equal-width bins (Naeini et al., AAAI 2015)."""
    n = len(rows)
    return sum(b["count"] / n * abs(b["confidence"] - b["right"]) for b in reliability(rows)) if n else 0.0


def plot(results: dict[str, dict], path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect calibration")
    for name, r in results.items():
        bins = r["reliability"]
        ax.plot([b["confidence"] for b in bins], [b["right"] for b in bins], marker="o",
                label=f"{name} (ECE {r['summary']['all']['expected_calibration_error']:.3f})")
    ax.set_xlabel("confidence shown")
    ax.set_ylabel("share right (F1 >= 0.5)")
    ax.set_title("Reliability on held-out news (RealTimeQA 2022)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reader", help="reader checkpoint (default: models/reader)")
    parser.add_argument("--limit", type=int, help="2022 questions, spread over the weeks (default: all)")
    parser.add_argument("--no-baseline", action="store_true",
                        help="skip the comparison with the reader's own confidence")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: one per core)")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    reader = reader_path(args.reader)
    questions = spread(news_questions(HELD_OUT), args.limit)
    labels = ["answerability"] + ([] if args.no_baseline else ["reader confidence"])
    rtqa, bbc = [], []
    for label in labels:
        assistant, evidence = realtimeqa_assistant(reader, answerability=label == "answerability")
        rtqa.append(assistant)
        bbc.append(bbc_assistant(reader, answerability=label == "answerability"))
    model = rtqa[0].answerability
    if model is None:
        sys.exit(f"{reader} has no answerability.json: run scripts/fit_answerability.py first")
    # One reader and one embedder for all (the same weights; loaded once).
    for a in (*rtqa[1:], *bbc):
        a.reader, a.embedder, a.retriever.embedder = rtqa[0].reader, rtqa[0].embedder, rtqa[0].embedder
    results = {}
    for label, rows in zip(labels, run(rtqa, bbc, questions, evidence)):
        shown = [r for items in rows.values() for r in items if r["found"]]
        results[label] = {"summary": summary(rows), "reliability": reliability(shown), "rows": rows}

    name = result_name("news_answerability", args.limit)
    RESULTS.mkdir(parents=True, exist_ok=True)
    try:
        plot(results, RESULTS / f"{name}.png")
    except ImportError as exc:  # the numbers matter more than the picture
        print(f"no reliability diagram ({exc}): pip install -e '.[bench]'", file=sys.stderr)
    rows = []
    for label, r in results.items():
        s = r["summary"]
        rows.append([label, s["answerable"]["questions"], s["answerable"]["f1"], s["answerable"]["exact_match"],
                     s["answerable"]["answered_pct"], s["answerable"]["confident_pct"],
                     s["near_topic"]["questions"], s["near_topic"]["not_found_pct"] + s["near_topic"]["tentative_pct"],
                     s["near_topic"]["confident_pct"], s["off_topic"]["not_found_pct"],
                     s["all"]["confident_right_pct"], s["all"]["tentative_right_pct"],
                     s["all"]["expected_calibration_error"]])
    scope = f"{args.limit} questions spread over the weeks" if args.limit else "every 2022 question"
    markdown = (
        f"### Answerability on held-out news: RealTimeQA 2022 ({scope})\n\n"
        f"Model fitted on RealTimeQA 2020-21 and SQuAD (`{model.fitted_on}`); confident from "
        f"{model.threshold:g}, tentative from {model.floor:g}. \"reader confidence\" is the reader's "
        "SQuAD-fitted confidence and thresholds alone (qa before this model), in the same run. "
        "Near-topic: the question's own evidence passage left out. Off-topic: asked of BBC News 2004-05. "
        "Right: F1 >= 0.5 against the reference (any answer to a near- or off-topic question is wrong). "
        "The references are the quiz's choices, so each also counts without the typographic quotes the "
        "quiz wraps a title in and, for a small count, in words or digits (`qa.evaluation.quiz_references`: "
        "\u201cArthur\u201d / Arthur, 7 / seven); the last table gives the figures against the choices as "
        "written, in the same run.\n\n"
        + table(["decided by", "answerable q", "F1", "EM", "answered %", "confident %", "near-topic q",
                 "near: not found or tentative %", "near: confident %", "off-topic: not found %",
                 "confident right %", "tentative right %", "ECE"], rows)
        + "\n\nAgainst the quiz's choices as written (no variants):\n\n"
        + table(["decided by", "F1", "confident right %", "tentative right %"],
                [[label, r["summary"]["answerable"]["f1_as_given"], r["summary"]["all"]["confident_right_as_given_pct"],
                  r["summary"]["all"]["tentative_right_as_given_pct"]] for label, r in results.items()])
        + f"\n\nReliability diagram: `{name}.png`.\n"
    )
    write_results(name, {"reader": reader, "limit": args.limit, "threshold": model.threshold, "floor": model.floor,
                         "results": results}, markdown, command_line())
    print(json.dumps({k: v["summary"] for k, v in results.items()}, indent=1), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
