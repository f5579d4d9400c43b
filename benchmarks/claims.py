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

    python benchmarks/claims.py [--threads 1]
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

try:
    from benchmarks.common import DATA, ROOT
except ModuleNotFoundError:  # run as a script: benchmarks/ is on sys.path, not the repository root
    from common import DATA, ROOT  # type: ignore[no-redef]

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
