"""Claimant extraction (who says a figure) on a hand-annotated attribution set.

The set, ``benchmarks/data/claims.jsonl``: one answer sentence a line, from the sample article
(``corpus/north-korean-troops-russia.txt``) and Wikinews 2019-20 (``news/wikinews-2019-2020.jsonl``
in the shared data, CC BY 2.5, https://en.wikinews.org). A line holds the article id, the split
(``dev``: the sample article and even-numbered Wikinews articles, which the rules were written
against; ``test``: odd-numbered ones, only measured), and character offsets into the article text
of the sentence, the answer span and the gold claimant span (null: the publication's own voice).
The article text is read from the data at run time; the short answer and claimant texts are
stored too, so that every offset is checked against the data before anything is measured.

A claimant counts as right when it overlaps the gold span (same sentence or the one before);
an own-voice sentence counts as right when no claimant is found.

Methods compared (the README says why qa uses the rules):

- ``rules``: `qa.claims` (reporting verbs, "according to", possessives, "X said" after a quote);
- ``reader``: qa's own reader asked "Who said <answer>?" over the sentence and the one before
  (a claimant when its confidence passes the reader's calibrated threshold);
- spaCy's English pipelines are not measured: ``en_core_web_sm`` is not on the package index
  (``pip download en-core-web-sm``: no matching distribution; it is published as GitHub release
  assets, which this machine cannot reach), and spaCy without a trained pipeline has no parser.

The added time per question is measured too: `Assistant.ask` on the sample article, the time
the claims take (``timings_ms["claims"]``) as a share of the whole ``ask`` in the same run.

    python benchmarks/claims.py [--threads 1] [--no-reader]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

try:
    from benchmarks.common import (
        CACHE,
        DATA,
        ROOT,
        command_line,
        data_file,
        set_threads,
        table,
        write_results,
    )
except ModuleNotFoundError:  # run as a script: benchmarks/ is on sys.path, not the repository root
    from common import CACHE, DATA, ROOT, command_line, data_file, set_threads, table, write_results  # type: ignore[no-redef]

SET = ROOT / "benchmarks" / "data" / "claims.jsonl"
WIKINEWS = "news/wikinews-2019-2020.jsonl"
SAMPLE = ROOT / "corpus" / "north-korean-troops-russia.txt"


@dataclass(frozen=True)
class Item:
    """One annotated answer sentence; offsets index ``text`` (the whole article)."""

    article: str
    split: str
    text: str
    sentence: tuple[int, int]
    answer: tuple[int, int]
    claimant: tuple[int, int] | None


def article_texts(data_dir: Path = DATA) -> dict[str, str]:
    """Article id -> text for every article the set uses: the sample article (as qa reads it)
    and the Wikinews file. Raises FileNotFoundError when the Wikinews file is missing."""
    from qa.corpus import read_file

    texts = {f"sample:{a.id}": a.text for a in read_file(SAMPLE, SAMPLE.name)}
    with open(data_dir / WIKINEWS, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            texts[row["id"]] = row["text"]
    return texts


def load_set(texts: dict[str, str], path: Path = SET) -> list[Item]:
    """The attribution set with its article texts. Raises ValueError naming the line when a
    stored span's text differs from the article's (the data changed under the offsets)."""
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        row = json.loads(line)
        text = texts[row["article"]]
        spans = {"answer": row["answer"], "claimant": row["claimant"]}
        s, e = row["sentence"]
        for name, span in spans.items():
            if span is not None and text[span["start"] : span["end"]] != span["text"]:
                raise ValueError(f"{path.name}:{n}: the {name} offsets no longer give {span['text']!r}")
        if not s <= row["answer"]["start"] < row["answer"]["end"] <= e:
            raise ValueError(f"{path.name}:{n}: the answer is not inside its sentence")
        claimant = row["claimant"]
        items.append(Item(row["article"], row["split"], text, (s, e),
                          (row["answer"]["start"], row["answer"]["end"]),
                          (claimant["start"], claimant["end"]) if claimant else None))
    return items


def overlaps(a: tuple[int, int] | None, b: tuple[int, int] | None) -> bool:
    return a is not None and b is not None and a[0] < b[1] and b[0] < a[1]


def score(items: list[Item], found: list[tuple[int, int] | None]) -> dict:
    """Claimant precision (found claimants that overlap the gold one), recall (gold claimants
    found), and own-voice accuracy (no claimant found where there is none)."""
    predicted = [f for f in found if f is not None]
    right = sum(overlaps(f, i.claimant) for i, f in zip(items, found))
    gold = sum(i.claimant is not None for i in items)
    own = [f is None for i, f in zip(items, found) if i.claimant is None]
    return {
        "sentences": len(items), "gold_claimants": gold, "found": len(predicted), "right": right,
        "precision": right / len(predicted) if predicted else 0.0,
        "recall": right / gold if gold else 0.0,
        "own_voice_right": sum(own) / len(own) if own else 0.0,
    }


# Questions on the sample article for the added-time measurement (answers with and without sources).
TIMING_QUESTIONS = [
    "How many North Korean soldiers are in Russia?",
    "How many containers of munitions has North Korea shipped to Russia?",
    "When will the North Korean forces be ready for deployment?",
    "Where will the first batch of North Korean soldiers arrive?",
    "Who convened a high-level security meeting?",
    "How many shells were delivered?",
    "Where did Ukrainian forces recover a missile?",
    "Who is the editor of Defense Express?",
    "When did Putin and Kim Jong Un meet in Pyongyang?",
    "What did Kim Jong Un call Putin?",
]


def run_rules(items: list[Item]) -> tuple[list[tuple[int, int] | None], float]:
    """Claimant spans found by `qa.claims`, and the seconds taken."""
    from qa.claims import find_claimant

    t0 = time.perf_counter()
    found = []
    for item in items:
        span = find_claimant(item.text, *item.answer)
        found.append((span.start, span.end) if span else None)
    return found, time.perf_counter() - t0


def run_reader(items: list[Item], thresholded: bool = True) -> tuple[list[tuple[int, int] | None], float]:
    """Claimant spans read by qa's reader asked "Who said <answer>?" over the answer's sentence
    and the one before; with ``thresholded`` a span counts only when its confidence passes the
    reader's calibrated threshold, else the best span always counts."""
    from qa.chunking import sentence_spans
    from qa.reader import Reader
    from qa.settings import Settings

    s = Settings()
    reader = Reader(s.reader_model, max_length=s.reader_max_length, stride=s.reader_stride,
                    batch_size=s.reader_batch_size, max_answer_tokens=s.max_answer_tokens)
    reader.warm_up()
    t0 = time.perf_counter()
    found: list[tuple[int, int] | None] = []
    for item in items:
        spans = sentence_spans(item.text[: item.sentence[1]])
        k = spans.index(item.sentence)
        lo = spans[k - 1][0] if k else item.sentence[0]
        context = item.text[lo : item.sentence[1]]
        answer = item.text[item.answer[0] : item.answer[1]]
        out = reader.read(f"Who said {answer}?", [context], top_n=1)
        best = out.spans[0] if out.spans else None
        if best is None or (thresholded and reader.calibration.confidence(best) < reader.calibration.threshold):
            found.append(None)
        else:
            found.append((lo + best.start, lo + best.end))
    return found, time.perf_counter() - t0


def added_time(threads: int) -> dict:
    """`Assistant.ask` on the sample article: the claims' time as a share of the whole ask."""
    from qa.assistant import Assistant
    from qa.settings import Settings

    work = CACHE / "claims-sample"
    corpus = work / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    shutil.copy(SAMPLE, corpus / SAMPLE.name)
    assistant = Assistant(Settings(corpus_dir=str(corpus), index_dir=str(work / "index"), threads=threads))
    assistant.warm_up()
    assistant.snapshot()
    for q in TIMING_QUESTIONS[:2]:
        assistant.ask(q)  # warm caches
    claims, totals = [], []
    for _ in range(3):
        for q in TIMING_QUESTIONS:
            t = assistant.ask(q).timings_ms
            claims.append(t["claims"])
            totals.append(t["total"])
    return {
        "questions": len(claims),
        "claims_ms_median": statistics.median(claims),
        "ask_ms_median": statistics.median(totals),
        "share_of_ask_total": sum(claims) / sum(totals),
        "share_of_ask_max": max(c / t for c, t in zip(claims, totals)),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: one per core)")
    p.add_argument("--no-reader", action="store_true", help="skip the reader route (slow on a busy CPU)")
    args = p.parse_args(argv)
    set_threads(args.threads)
    data_file(WIKINEWS)
    items = load_set(article_texts())
    methods = {"rules": run_rules(items)}
    if not args.no_reader:
        methods["reader"] = run_reader(items)
        methods["reader, best span"] = run_reader(items, thresholded=False)
    results: dict = {"set": {"sentences": len(items), "dev": sum(i.split == "dev" for i in items),
                             "test": sum(i.split == "test" for i in items),
                             "own_voice": sum(i.claimant is None for i in items)},
                     "methods": {}}
    rows = []
    for name, (found, seconds) in methods.items():
        per_split = {}
        for split in ("dev", "test", "all"):
            pairs = [(i, f) for i, f in zip(items, found) if split in ("all", i.split)]
            per_split[split] = score([i for i, _ in pairs], [f for _, f in pairs])
        ms = seconds / len(items) * 1000
        results["methods"][name] = per_split | {"ms_per_sentence": ms}
        for split in ("dev", "test", "all"):
            r = per_split[split]
            rows.append([name, split, r["sentences"], r["precision"], r["recall"], r["own_voice_right"],
                         f"{ms:.2f}"])
    results["added_time"] = added_time(args.threads)
    a = results["added_time"]
    markdown = (
        "## Claimants: who says the answer (attribution set)\n\n"
        f"{len(items)} answer sentences (sample article + Wikinews 2019-20), "
        f"{results['set']['own_voice']} in the publication's own voice; rules written against "
        "`dev`, `test` only measured.\n\n"
        + table(["method", "split", "sentences", "precision", "recall", "own voice right", "ms/sentence"], rows)
        + "\n\nAdded time per question (`Assistant.ask` on the sample article, "
        f"{a['questions']} asks): claims {a['claims_ms_median']:.2f} ms median of "
        f"{a['ask_ms_median']:.0f} ms; {a['share_of_ask_total']:.2%} of the total ask time "
        f"(largest single share {a['share_of_ask_max']:.2%}).\n"
    )
    write_results("claims", results, markdown, command_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
