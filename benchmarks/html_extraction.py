"""Main text of HTML pages: the text qa stores, against trafilatura's defaults, in the same run.

The 181 real news and blog pages of the article-extraction benchmark (Scrapinghub, MIT) each
come with a hand-checked article body. For every page the text qa stores (`qa.corpus`'s HTML
loader: trafilatura with qa's settings, then qa's own furniture and caption-credit cleaning) is
scored against that body: precision, recall and F1 of word tokens (``\\w+``, as multisets),
per page, averaged over pages, with a bootstrap interval over pages. A page qa skips counts as
an empty extraction (F1 0).

Rows: trafilatura's ``extract()`` with its defaults (the baseline; its date from
``extract_metadata``, as trafilatura finds it by default); qa's chosen settings
(`qa.corpus.HTML_OPTIONS`); and each setting changed on its own (trafilatura's focus, tables,
captions, the balanced fallback, qa's cleaning), which is how the settings were chosen.

Dates: the pages carry no reference date, so two counts are reported per system: pages given
a date, and how many of those agree with a date in the page's URL (``/2019/11/18/``) when
it has one. qa reads dates from the markup only (no text search), preferring no date to a
wrong one.

    python benchmarks/html_extraction.py                  # all 181 pages, ~1 minute
    python benchmarks/html_extraction.py --bootstrap 10000

Needs ../shared/data/article-extraction/ (ground-truth.json and html/*.html.gz).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
import time
from collections import Counter
from dataclasses import replace

from common import command_line, data_file, table, write_results

TOKEN = re.compile(r"\w+")
URL_DATE = re.compile(r"/((?:19|20)\d\d)[/-](\d\d?)[/-](\d\d?)(?:[/.-]|$)")
PUBLISHED_F1 = 0.958  # trafilatura 2.0.0 on these pages, article-extraction-benchmark (2026)


def token_prf(reference: str, extracted: str) -> tuple[float, float, float]:
    """Precision, recall and F1 of the word tokens of ``extracted`` against ``reference``.

    Tokens are ``\\w+`` runs, counted as multisets (a word said twice must be found twice).
    An empty extraction scores 0 on all three.
    """
    ref, got = Counter(TOKEN.findall(reference)), Counter(TOKEN.findall(extracted))
    common = sum((ref & got).values())
    if not common:
        return 0.0, 0.0, 0.0
    p, r = common / sum(got.values()), common / sum(ref.values())
    return p, r, 2 * p * r / (p + r)


def bootstrap(values: list[float], rounds: int, seed: int) -> tuple[float, float, float]:
    """Mean of ``values`` and the 2.5th/97.5th percentiles of means of pages resampled with replacement."""
    rng = random.Random(seed)
    n = len(values)
    means = sorted(sum(values[rng.randrange(n)] for _ in range(n)) / n for _ in range(rounds))
    return sum(values) / n, means[int(0.025 * rounds)], means[int(0.975 * rounds) - 1]


def url_date(url: str) -> str | None:
    m = URL_DATE.search(url or "")
    return f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}" if m else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    folder = data_file("article-extraction")
    truth = json.loads(data_file("article-extraction/ground-truth.json").read_text(encoding="utf-8"))
    pages = {pid: gzip.decompress((folder / "html" / f"{pid}.html.gz").read_bytes()) for pid in sorted(truth)}

    import trafilatura

    from qa.corpus import HTML_OPTIONS, UnusableFile, decode_text, html_article

    def trafilatura_default(data: bytes) -> tuple[str, str | None]:
        return trafilatura.extract(data) or "", trafilatura.extract_metadata(data).date

    def qa_loader(options):
        def extract(data: bytes) -> tuple[str, str | None]:
            try:  # what qa.corpus.read_file does with an .html file
                article = html_article(decode_text(data), "page.html", options)
            except UnusableFile:
                return "", None
            return article.text, article.date
        return extract

    chosen = HTML_OPTIONS
    systems = [
        (f"trafilatura {trafilatura.__version__} extract(), defaults", trafilatura_default),
        (f"qa (focus={chosen.focus}, tables={chosen.tables}, captions={chosen.captions}, "
         f"fallback={chosen.fallback}, cleaning)",
         qa_loader(chosen)),
        *[(f"qa, {label}", qa_loader(replace(chosen, **change))) for label, change in [
            ("focus=balanced", {"focus": "balanced"}),
            ("focus=recall", {"focus": "recall"}),
            ("focus=precision" if chosen.focus != "precision" else "tables off",
             {"focus": "precision"} if chosen.focus != "precision" else {"tables": not chosen.tables}),
            ("captions off" if chosen.captions else "captions on", {"captions": not chosen.captions}),
            ("no balanced fallback", {"fallback": 0}),
            ("without qa's cleaning", {"clean": False}),
        ]],
    ]

    rows, results, per_page = [], [], {}
    for name, extract in systems:
        scores, dated, agree, disagree, empty = [], 0, 0, 0, 0
        t0 = time.perf_counter()
        for pid, data in pages.items():
            text, date = extract(data)
            scores.append(token_prf(truth[pid]["articleBody"], text))
            empty += not text.strip()
            dated += date is not None
            ref_date = url_date(truth[pid]["url"])
            if date and ref_date:
                agree += date == ref_date
                disagree += date != ref_date
            per_page.setdefault(pid, {})[name] = round(scores[-1][2], 4)
        seconds = time.perf_counter() - t0
        f1, lo, hi = bootstrap([s[2] for s in scores], args.bootstrap, args.seed)
        n = len(scores)
        result = {
            "system": name, "pages": n,
            "precision": round(sum(s[0] for s in scores) / n, 4),
            "recall": round(sum(s[1] for s in scores) / n, 4),
            "f1": round(f1, 4), "f1_ci95": [round(lo, 4), round(hi, 4)],
            "empty_pages": empty, "dated_pages": dated,
            "url_date_agrees": agree, "url_date_disagrees": disagree,
            "ms_per_page": round(1000 * seconds / n, 1),
        }
        results.append(result)
        rows.append([name, result["precision"], result["recall"], result["f1"],
                     f"{lo:.3f}–{hi:.3f}", empty, dated, f"{agree}/{agree + disagree}", round(result["ms_per_page"])])
        print(json.dumps(result), file=sys.stderr)

    base, ours = results[0], results[1]
    diffs = [per_page[pid][ours["system"]] - per_page[pid][base["system"]] for pid in pages]
    gain, gain_lo, gain_hi = bootstrap(diffs, args.bootstrap, args.seed)
    better = sum(d > 0.005 for d in diffs)
    worse = sum(d < -0.005 for d in diffs)
    with_url_date = sum(url_date(truth[pid]["url"]) is not None for pid in pages)
    markdown = (
        f"### HTML main text: {len(pages)} news and blog pages (article-extraction benchmark)\n\n"
        "Token precision / recall / F1 of the stored text against the hand-checked article body, per "
        f"page, averaged over pages; *F1 95%*: bootstrap interval over pages ({args.bootstrap} resamples). "
        "*empty*: pages with no text (qa skips them). *dated*: pages given a date; *URL date agrees*: of "
        f"the dated pages whose URL holds a date ({with_url_date} pages do), how many dates equal it. "
        f"Published reference: trafilatura 2.0.0 F1 {PUBLISHED_F1}.\n\n"
        + table(["system", "precision", "recall", "F1", "F1 95%", "empty", "dated", "URL date agrees",
                 "ms/page"], rows, decimals=3)
        + f"\n\nqa against trafilatura's defaults, page by page: F1 {gain:+.3f} "
        f"(95% {gain_lo:+.3f} to {gain_hi:+.3f}); better on {better} pages, worse on {worse} "
        "(by more than 0.005).\n"
    )
    write_results("html_extraction", {
        "bootstrap": args.bootstrap, "seed": args.seed, "published_trafilatura_2_0_0_f1": PUBLISHED_F1,
        "chosen": {"focus": chosen.focus, "tables": chosen.tables, "captions": chosen.captions,
                   "fallback": chosen.fallback},
        "results": results,
        "qa_minus_trafilatura": {"f1": round(gain, 4), "ci95": [round(gain_lo, 4), round(gain_hi, 4)],
                                 "better_pages": better, "worse_pages": worse},
        "per_page_f1": per_page,
    }, markdown, command_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
