"""Copy the latest result tables into benchmarks/README.md (between its "results" markers).

For each benchmark the full run is shown when there is one, otherwise the most recent subset
run (``--limit``) and its variants on the same subset, whose names say so.

    python benchmarks/report.py
"""

from __future__ import annotations

import re
import sys

from common import BENCH, RESULTS

ORDER = ("reader_squad", "open_domain", "news_answerability", "off_topic", "retrieval_beir", "speed_scale",
         "lexical_update", "html_extraction", "claims")
START, END = "<!-- results:start -->", "<!-- results:end -->"


def pick(base: str) -> list:
    """Result files of one benchmark to show: the full run, else the newest subset run."""
    runs = [p for p in RESULTS.glob(f"{base}*.md") if re.fullmatch(rf"{base}(_\w+?)?(-\w+)*", p.stem)]
    full = [p for p in runs if "-" not in p.stem]
    if full:
        return sorted(full)
    if not runs:
        return []
    # The newest subset run, with its variants on the same subset (e.g. another threshold).
    newest = max(runs, key=lambda p: p.stat().st_mtime)
    limit = re.search(r"-limit\d+", newest.stem)
    same = [p for p in runs if limit and limit.group() in p.stem] or [newest]
    return sorted(same, key=lambda p: (len(p.stem), p.stem))  # the plain run first


def main() -> int:
    readme = BENCH / "README.md"
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text:
        sys.exit(f"{readme} has no {START} ... {END} markers")
    parts = []
    for base in ORDER:
        for path in pick(base):
            body = path.read_text(encoding="utf-8").strip()
            body = re.sub(r"\]\(([\w.-]+\.png)\)", r"](results/\1)", body)  # figures live in results/
            parts.append(f"{body}\n\n(from `results/{path.name}`)")
    if not parts:
        parts = ["No results yet: run the commands above."]
    new = text.split(START)[0] + START + "\n\n" + "\n\n".join(parts) + "\n\n" + END + text.split(END)[1]
    readme.write_text(new, encoding="utf-8")
    print(f"updated {readme}: {len(parts)} tables")
    return 0


if __name__ == "__main__":
    sys.exit(main())
