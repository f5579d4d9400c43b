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
    python benchmarks/open_domain.py --limit 200 --threshold 0 --retrieval dense,hybrid,lexical
    python benchmarks/open_domain.py --split tune --limit 150 --threshold 0 --retrieval dense:8,hybrid:8,dense:5,hybrid:5
    python benchmarks/open_domain.py --split report --limit 300 --threshold 0 --retrieval hybrid:5,dense --before f6cd4aa

Needs ../shared/data/ and a trained reader (models/reader, or --reader PATH).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
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
    worktree,
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


@dataclass(frozen=True)
class Mode:
    """One retrieval setting to compare: ``MODE[@W][/R][:K]``, e.g. ``hybrid@0.5/10:8``: the
    retrieval mode, the BM25 ranking's weight W in the fusion and the fusion's rank offset R
    (hybrid only; default: the settings'), and the passages K the reader reads (default:
    ``--top-k``)."""

    mode: str
    weight: float | None = None
    rrf_k: int | None = None
    k: int | None = None

    @property
    def name(self) -> str:
        name = self.mode
        if self.weight is not None:
            name += f"@{self.weight:g}"
        if self.rrf_k is not None:
            name += f"/{self.rrf_k}"
        return name if self.k is None else f"{name}:{self.k}"

    def settings(self, settings):
        changes = {"retrieval": self.mode}
        if self.weight is not None:
            changes["lexical_weight"] = self.weight
        if self.rrf_k is not None:
            changes["rrf_k"] = self.rrf_k
        if self.k is not None:
            changes["top_k"] = self.k
        return settings.with_(**changes)


def parse_modes(text: str) -> list[Mode]:
    """"dense,hybrid@0.5,hybrid/10:5" -> the `Mode` of each (see there)."""
    modes = []
    for part in text.split(","):
        m = re.fullmatch(r"(dense|lexical|hybrid)(?:@([0-9.]+))?(?:/(\d+))?(?::(\d+))?", part.strip())
        if m is None or ((m[2] or m[3]) and m[1] != "hybrid") or (m[4] and int(m[4]) == 0):
            raise argparse.ArgumentTypeError(
                f"unknown retrieval mode {part!r} (dense, lexical, hybrid[@W][/R], each [:K])")
        modes.append(Mode(m[1], float(m[2]) if m[2] else None, int(m[3]) if m[3] else None,
                          int(m[4]) if m[4] else None))
    return modes


def build_index(name: str, args):
    """The dataset's corpus and index (rebuilt when its format or chunking is out of date)."""
    from qa.assistant import Assistant
    from qa.errors import IndexProblem
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
    t0 = time.perf_counter()
    try:
        report = Assistant(settings).index()
    except IndexProblem as exc:
        print(f"{name}: {exc}; rebuilding", file=sys.stderr)
        report = Assistant(settings).index(rebuild=True)
    print(f"{name}: {report.summary()}", file=sys.stderr)
    return examples, articles, work, settings, report, time.perf_counter() - t0


def in_split(name: str, examples, split: str) -> list:
    """The questions of ``split``: "all"; "tune" (RealTimeQA weeks of 2020-21; SQuAD the first
    half of the dev articles, in file order) to choose settings on; "report" (RealTimeQA 2022;
    SQuAD the second half) to report the chosen ones on. The corpus stays whole either way."""
    if split == "all":
        return list(examples)
    if name == "realtimeqa":
        late = [ex.title.replace("RealTimeQA", "").strip() >= "2022" for ex in examples]
    else:
        titles = list(dict.fromkeys(ex.title for ex in examples))
        second = set(titles[len(titles) // 2:])
        late = [ex.title in second for ex in examples]
    return [ex for ex, is_late in zip(examples, late) if is_late == (split == "report")]


def run_dataset(name: str, args) -> dict:
    """Every retrieval mode of ``args.retrieval`` on one dataset, over one index."""
    examples, articles, work, settings, report, index_seconds = build_index(name, args)
    asked = spread(in_split(name, examples, args.split), args.limit)
    tag = "" if args.split == "all" else f"-{args.split}"
    questions_path = (work / (result_name("questions", args.limit) + tag)).with_suffix(".jsonl")
    write_if_changed(questions_path, "".join(
        json.dumps({"id": ex.id, "question": ex.question, "answers": list(ex.answers)}, ensure_ascii=False) + "\n"
        for ex in asked
    ))
    modes = {}
    for mode in args.retrieval:
        modes[mode.name] = run_mode(name, mode, settings, asked, questions_path, args)
    if args.before:
        modes[f"before ({args.before})"] = run_before(name, work, questions_path, asked, args)
    per_question = {m: modes[m].pop("em_by_question") for m in modes}
    base = next(iter(modes))
    for m in list(modes)[1:]:  # paired with the first mode: the same questions, the same run
        modes[m]["em_vs_" + base] = paired_difference(per_question[m], per_question[base])
    if args.before:
        before = f"before ({args.before})"
        for m in list(modes)[:-1]:
            modes[m]["em_vs_before"] = paired_difference(per_question[m], per_question[before])
    return {"articles": len(articles), "chunks": report.chunks, "index_seconds": round(index_seconds, 1),
            "questions": len(asked), "top_k": settings.top_k, "modes": modes}


def run_mode(name: str, mode: Mode, settings, asked, questions_path: Path, args) -> dict:
    """One retrieval mode over the dataset's ``settings`` (its name also names its answers file)."""
    from tqdm import tqdm

    from qa.assistant import Assistant
    from qa.batch import answer_file
    from qa.evaluation import first_hit, squad_scores

    settings = mode.settings(settings)
    assistant = Assistant(settings)
    # Retrieval recall@1/5/20: its own pass, since the assistant reads only its top_k passages.
    snapshot = assistant.snapshot()
    ranks = []
    for ex in tqdm(asked, desc=f"{name} {mode.name} retrieval", unit="q", file=sys.stderr):
        passages = assistant.retriever.retrieve(snapshot, ex.question, top_k=max(RECALL_KS))
        ranks.append(first_hit([p.text for p in passages], ex.answers))
    recall = {
        f"recall@{k}": round(100 * sum(1 for r in ranks if r is not None and r <= k) / len(ranks), 2)
        for k in RECALL_KS
    }

    suffix = ("" if args.threshold is None else f"-threshold{args.threshold:g}") + f"-{mode.name}"
    answers_path = work_answers(questions_path, suffix)
    result = answer_file(assistant, questions_path, answers_path, resume=args.resume,
                         overwrite=not args.resume, report_path=answers_path.with_suffix(".report.json"))
    rows = [json.loads(line) for line in answers_path.read_text(encoding="utf-8").splitlines()]
    references = {ex.id: ex.answers for ex in asked}
    em_by_question = {r["id"]: squad_scores(r["answer"], references[r["id"]])[0] for r in rows}
    latencies = [r["timings_ms"]["total"] for r in rows]
    reads = [r["timings_ms"].get("read", 0.0) for r in rows]
    retrieves = [r["timings_ms"].get("retrieve", 0.0) for r in rows]
    scores = result.scores or {}
    return {
        "retrieval": settings.retrieval,
        "lexical_weight": settings.lexical_weight,
        "rrf_k": settings.rrf_k,
        "threshold": assistant.no_answer_threshold,
        **recall,
        "exact_match": scores.get("exact_match"),
        "f1": scores.get("f1"),
        "found": round(100 * sum(1 for r in rows if r["found"]) / len(rows), 2),
        "misses": scores.get("misses"),
        "hit@top_k": scores.get("hit@all"),
        "latency_ms": {"p50": round(percentile(latencies, 50), 1), "p95": round(percentile(latencies, 95), 1),
                       "read_p50": round(percentile(reads, 50), 1),
                       "retrieve_p50": round(percentile(retrieves, 50), 1)},
        "em_by_question": em_by_question,
    }


# Runs in the old code's tree (PYTHONPATH) with its own defaults and reader: "today's" qa.
BEFORE_CHILD = """
import sys
from pathlib import Path
from qa.assistant import Assistant
from qa.batch import answer_file
from qa.settings import Settings
corpus, index, questions, answers, threshold = sys.argv[1:6]
settings = Settings(corpus_dir=Path(corpus), index_dir=Path(index),
                    **({} if threshold == "" else {"no_answer_threshold": float(threshold)}))
assistant = Assistant(settings)
assistant.index()
answer_file(assistant, questions, answers, overwrite=True, report_path=answers + ".report.json", progress=False)
"""


def run_before(name: str, work: Path, questions_path: Path, asked, args) -> dict:
    """The same questions answered by the code of ``args.before`` (a git worktree, its own
    index of the same corpus, its own reader and defaults), scored here."""
    import os
    import subprocess

    from qa.evaluation import squad_scores

    answers_path = work_answers(questions_path, ("" if args.threshold is None else f"-threshold{args.threshold:g}")
                                + f"-before-{args.before}")
    with worktree(args.before, CACHE / "open_domain" / f"tree-{args.before}") as tree:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"PYTHONPATH": str(tree)}
        proc = subprocess.run(
            [sys.executable, "-c", BEFORE_CHILD, str(work / "corpus"), str(work / f"index-{args.before}"),
             str(questions_path), str(answers_path), "" if args.threshold is None else str(args.threshold)],
            cwd=tree, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"the code of {args.before} failed:\n{proc.stderr[-3000:]}")
    rows = [json.loads(line) for line in answers_path.read_text(encoding="utf-8").splitlines()]
    references = {ex.id: ex.answers for ex in asked}
    scores = [squad_scores(r["answer"], references[r["id"]]) for r in rows]
    latencies = [r["timings_ms"]["total"] for r in rows]
    return {
        "retrieval": f"code of {args.before}", "threshold": args.threshold,
        "exact_match": round(100 * sum(e for e, _ in scores) / len(scores), 2),
        "f1": round(100 * sum(f for _, f in scores) / len(scores), 2),
        "found": round(100 * sum(1 for r in rows if r["found"]) / len(rows), 2),
        "latency_ms": {"p50": round(percentile(latencies, 50), 1), "p95": round(percentile(latencies, 95), 1)},
        "em_by_question": {r["id"]: e for r, (e, _) in zip(rows, scores)},
    }


def work_answers(questions_path: Path, suffix: str) -> Path:
    return questions_path.parent / (questions_path.stem.replace("questions", "answers") + suffix + ".jsonl")


def paired_difference(a: dict, b: dict) -> dict:
    """Mean EM difference a - b over the same questions (points), with its 95% interval
    (normal approximation of the paired differences), and how many questions each side wins."""
    import numpy as np

    d = np.array([a[q] - b[q] for q in b], dtype=float)
    half = 1.96 * d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else 0.0
    return {"mean": round(100 * d.mean(), 2), "ci95": [round(100 * (d.mean() - half), 2), round(100 * (d.mean() + half), 2)],
            "wins": int((d > 0).sum()), "losses": int((d < 0).sum())}


def main(argv: list[str] | None = None) -> int:
    from qa.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=[*DATASETS, "all"], default="all")
    parser.add_argument("--limit", type=int, help="questions per dataset, spread evenly (default: all)")
    parser.add_argument("--reader", help="reader checkpoint (default: models/reader)")
    parser.add_argument("--top-k", type=int, help="passages the assistant reads (default: the settings' 8)")
    parser.add_argument("--threshold", type=float,
                        help="no-answer threshold (default: the reader's calibrated one; 0: always answer)")
    parser.add_argument("--retrieval", type=parse_modes, default=None, metavar="MODES",
                        help="retrieval modes to compare in this run, comma-separated: dense, lexical, "
                        "hybrid, hybrid@W (BM25 weight W in the fusion), hybrid/R (rank offset R), each :K "
                        "(K passages read); each is paired with the first "
                        "(default: the settings' mode, hybrid)")
    parser.add_argument("--split", choices=("all", "tune", "report"), default="all",
                        help="questions to ask: all; tune (RealTimeQA 2020-21, SQuAD's first 20 articles) to "
                        "choose settings on; report (RealTimeQA 2022, SQuAD's last 20) to report them on")
    parser.add_argument("--before", metavar="COMMIT",
                        help="also answer the same questions with the code of COMMIT (its own defaults, "
                        "reader and index), paired with every mode")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted run's answers")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads (default: one per core; use 1 on a busy machine)")
    args = parser.parse_args(argv)
    default_mode = Settings().retrieval
    args.retrieval = args.retrieval or [Mode(default_mode)]
    set_threads(args.threads)
    names = list(DATASETS) if args.dataset == "all" else [args.dataset]
    for n in names:
        data_file(DATASETS[n])
    args.reader = reader_path(args.reader)

    results = {name: run_dataset(name, args) for name in names}
    rows, miss_rows = [], []
    first = args.retrieval[0].name

    def paired_text(paired: dict | None) -> str:
        return f"{paired['mean']:+.1f} [{paired['ci95'][0]:+.1f}, {paired['ci95'][1]:+.1f}]" if paired else ""

    for name, r in results.items():
        before_p50 = r["modes"].get(f"before ({args.before})", {}).get("latency_ms", {}).get("p50")
        for mode, m in r["modes"].items():
            rows.append([name, mode, r["chunks"], r["questions"], m.get("recall@1", ""), m.get("recall@5", ""),
                         m.get("recall@20", ""), m["exact_match"], m["f1"], m["found"],
                         paired_text(m.get("em_vs_" + first)),
                         *([paired_text(m.get("em_vs_before")),
                            f"{m['latency_ms']['p50'] / before_p50:.2f}" if before_p50 else ""] if args.before else []),
                         round(m["latency_ms"]["p50"]), round(m["latency_ms"]["p95"])])
            if mode.startswith("before ("):
                continue
            x = m["misses"] or {}
            miss_rows.append([name, mode, r["questions"], x.get("retrieval"), x.get("reader_wrong"),
                              x.get("reader_no_answer"), m["hit@top_k"]])
    scope = f"{args.limit} questions per dataset, spread evenly" if args.limit else "every question"
    if args.split != "all":
        scope += f" of the {args.split} split"
    if args.threshold is not None:
        scope += f"; no-answer threshold {args.threshold:g}" + (", always answering" if args.threshold <= 0 else "")
    some = next(iter(results.values()))
    markdown = (
        f"### Open-domain question answering ({scope})\n\n"
        "Recall@k: a reference answer inside one of the first k retrieved chunks. EM/F1: "
        "`Assistant.ask` end to end (reads the top "
        f"{some['top_k']} chunks; no-answer threshold {next(iter(some['modes'].values()))['threshold']:g}; "
        "\"not in the articles\" scores as empty). "
        f"*EM vs {first}*: the paired difference in EM points over the same questions, with its 95% "
        "interval. Retrieval modes: see README \"Retrieval\" (hybrid@W: BM25 weighted W in the fusion; "
        f"hybrid/R: reciprocal rank fusion with rank offset R, else {Settings().rrf_k}). "
        "Latency: whole `ask`, per question.\n\n"
        + (f"*before ({args.before})*: the same questions answered by the code of {args.before} with its own "
           "defaults, reader and index; *EM vs before* and *p50 vs before* compare with it. "
           if args.before else "")
        + "Retrieval `mode:K`: the reader reads the top K chunks.\n\n"
        + table(["dataset", "retrieval", "chunks", "questions", "recall@1", "recall@5", "recall@20",
                 "EM", "F1", "answered %", f"EM vs {first}",
                 *(["EM vs before", "p50 vs before"] if args.before else []), "p50 ms", "p95 ms"], rows)
        + "\n\nWhere the misses come from (questions whose answer is not an exact match):\n\n"
        + table(["dataset", "retrieval", "questions", "retrieval miss", "reader: other span", "reader: not found",
                 "answer in top-k chunks %"], miss_rows)
    )
    name = "open_domain" if args.dataset == "all" else f"open_domain_{args.dataset}"
    name = result_name(name, args.limit) + ("" if args.threshold is None else f"-threshold{args.threshold:g}")
    if args.split != "all":
        name += f"-{args.split}"
    if [m.name for m in args.retrieval] != [default_mode]:
        name += "-" + "-".join(m.name.replace("@", "w").replace(".", "").replace("/", "r").replace(":", "k")
                               for m in args.retrieval)
    if args.before:
        name += f"-vs-{args.before}"
    write_results(name,
                  {"reader": args.reader, "limit": args.limit, "results": results}, markdown, command_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
