"""The ``qa`` command: argument parsing and rendering over `Assistant`, nothing else."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

from qa.answer import Answer, Citation
from qa.claims import claimant_text, statement_text
from qa.errors import QAError
from qa.settings import Settings


def version() -> str:
    """qa's version, as installed (the checkout's when run from it)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("qa")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


class _Version(argparse.Action):
    """``--version``, looked up only when asked for (importlib.metadata is slow to import)."""

    def __init__(self, option_strings, dest, help=None):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"{parser.prog} {version()}")  # on stdout, as argparse's own version action
        parser.exit()


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number (at least 1)")
    return value


def non_negative_float(text: str) -> float:
    """An argparse type: a number of at least 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text} is negative; give a number of at least 0")
    return value


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings with the options given on the command line applied. The corpus and index
    folders become absolute, so that every message names them in full."""
    defaults = Settings()
    return defaults.with_(
        corpus_dir=Path(getattr(args, "corpus", None) or defaults.corpus_dir).absolute(),
        index_dir=Path(getattr(args, "index", None) or defaults.index_dir).absolute(),
        reader_model=getattr(args, "reader", None),
        embedding_model=getattr(args, "embedding_model", None),
        vector_store=getattr(args, "vector_store", None),
        engine=getattr(args, "engine", None),
        ray_address=getattr(args, "ray_address", None),
        workers=getattr(args, "workers", None),
        top_k=getattr(args, "top_k", None),
        retrieval=getattr(args, "retrieval", None),
        no_answer_threshold=getattr(args, "threshold", None),
        reader_precision=getattr(args, "precision", None) if hasattr(args, "reader") else None,
        embedding_precision=getattr(args, "precision", None),
    )


def add_common_options(p: argparse.ArgumentParser, reader: bool = True) -> None:
    """--corpus/--index (and model options) shared by every command that uses the articles."""
    p.add_argument("--corpus", metavar="DIR", help="folder of articles (default: corpus/)")
    p.add_argument("--index", metavar="DIR", help="index folder (default: index/)")
    p.add_argument("--embedding-model", metavar="NAME",
                   help="sentence-transformers model, folder or hub id (default: the packaged all-MiniLM-L6-v2)")
    p.add_argument("--precision", choices=("bf16", "fp32"),
                   help="how the models compute: bf16 (the default; fast on CPUs with AVX-512 BF16 "
                   "or AMX) or fp32 (for CPUs without them); see README 'How the models run'")
    p.add_argument("--vector-store", metavar="STORE",
                   help="where the vectors live: faiss (the default: files in the index folder), "
                   "milvus:PATH.db (a Milvus Lite file) or milvus:http://host:19530 (a Milvus "
                   "server or cluster); see README 'Scale-out'")
    if reader:
        p.add_argument("--reader", metavar="PATH",
                       help="extractive QA checkpoint, folder or hub id (default: the reader "
                       "installed with qa, models/reader)")
        p.add_argument("--top-k", type=positive_int, metavar="K",
                       help="passages retrieved per question, at least 1 (default: 8)")
        p.add_argument("--retrieval", choices=("dense", "lexical", "hybrid"),
                       help="how passages are found: hybrid (both rankings, fused by reciprocal "
                       "rank; the default), dense (embeddings) or lexical (BM25 words); see README")
        p.add_argument("--threshold", type=non_negative_float, metavar="P",
                       help="confidence under which the answer is 'not in the articles' "
                       "(default: the floor fitted with the answerability model, see README "
                       "'How confident is an answer?'; 0 always answers)")


def add_filter_options(p: argparse.ArgumentParser) -> None:
    """--article/--source/--since/--until: ask only some articles (`qa.filters`)."""
    g = p.add_argument_group("scope", "search only some articles (applied in retrieval)")
    g.add_argument("--article", action="append", metavar="ID", default=[],
                   help="only this article (an id as `qa articles` lists it); repeat for several")
    g.add_argument("--source", metavar="NAME", help="only articles of this source, e.g. Wikinews (case-insensitive)")
    g.add_argument("--since", metavar="YYYY-MM-DD", help="only articles dated on or after this day")
    g.add_argument("--until", metavar="YYYY-MM-DD", help="only articles dated on or before this day")


def filters_from(args: argparse.Namespace):
    """The `qa.filters.Filters` of --article/--source/--since/--until, or None (no scope)."""
    from qa.filters import Filters

    filters = Filters(articles=tuple(getattr(args, "article", None) or ()), source=getattr(args, "source", None),
                      since=getattr(args, "since", None), until=getattr(args, "until", None))
    return filters or None


def add_engine_options(p: argparse.ArgumentParser) -> None:
    """--engine/--ray-address/--workers: where the heavy work runs (qa index, qa batch)."""
    p.add_argument("--engine", choices=("local", "ray"),
                   help="run the work in this process (local, the default) or on Ray workers "
                   "(ray; see README 'Scale-out')")
    p.add_argument("--ray-address", metavar="ADDR",
                   help="with --engine ray: a Ray cluster to join (auto, ray://head:10001); "
                   "default: start Ray on this machine")
    p.add_argument("--workers", type=positive_int, metavar="N",
                   help="with --engine ray: workers to run (default: one per CPU Ray offers)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qa",
        description="Offline question answering over news articles, with every answer cited.",
        epilog="Typical use: qa index, then qa ask \"...\". Articles live in corpus/ "
        "(.txt, .md, .html, .json, .jsonl); the index in index/.",
    )
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="say more: progress of model loading, debug logging")
    parser.add_argument("--version", action=_Version, help="print qa's version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("index", help="build or update the index from the corpus folder",
                       description="Build or incrementally update the index: new and changed "
                       "articles are embedded, removed ones leave the index. Safe while the chat "
                       "page or other qa commands use the index (they switch to the new one); "
                       "a second update waits for the first.")
    add_common_options(p, reader=False)
    p.add_argument("--rebuild", action="store_true",
                   help="rebuild from scratch (needed after changing the embedding model, chunking "
                   "or vector store)")
    add_engine_options(p)
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("ask", help="answer a question, with citations and who says each answer",
                       description="Answer a question from the indexed articles. The index is "
                       "built first if there is none.")
    p.add_argument("question", help="the question, in quotes (at most the reader's token budget: "
                   "126 tokens, about 90 English words, with the default reader settings)")
    add_common_options(p)
    add_filter_options(p)
    p.add_argument("--json", action="store_true", help="print the answer as JSON (a stable interface)")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("articles", help="list the indexed articles")
    add_common_options(p, reader=False)
    p.add_argument("--json", action="store_true", help="print as JSON lines")
    p.set_defaults(func=cmd_articles)

    p = sub.add_parser("serve", help="serve the chat page and the HTTP API (/api, described at /docs)",
                       description="Serve the chat page and the JSON HTTP API on one server "
                       "(the same as python app.py). The index is brought up to date first.")
    from qa.chat import add_serve_options  # argparse only; gradio is imported when serving

    add_serve_options(p)
    p.set_defaults(func=cmd_serve)

    for register in _extra_commands():
        register(sub)
    for command in _subparsers(parser):
        # -v after the subcommand too; SUPPRESS: an absent one keeps the value given before it
        command.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                             help="say more: progress of model loading, debug logging")
    return parser


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every subcommand's parser below ``parser``, nested ones (``qa eval reader``) included."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                found += [child, *_subparsers(child)]
    return found


def parse_args(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """``parser.parse_args``, but an unknown option is reported with the usage of the subcommand
    it was given to (argparse reports it with the top-level usage)."""
    args, extra = parser.parse_known_args(argv)
    if extra:
        chosen = parser
        while True:
            sub = next((a for a in chosen._actions if isinstance(a, argparse._SubParsersAction)), None)
            name = getattr(args, sub.dest, None) if sub is not None else None
            if name is None or name not in sub.choices:
                break
            chosen = sub.choices[name]
        chosen.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def _extra_commands():
    """Subcommands that live with their own module (batch, evaluation), if present."""
    found = []
    for module in ("qa.batch", "qa.evaluation"):
        try:
            mod = __import__(module, fromlist=["register_cli"])
        except ImportError:
            continue
        if hasattr(mod, "register_cli"):
            found.append(mod.register_cli)
    return found


def _progress_bar():
    """A progress callback drawing one tqdm bar per counted stage on stderr, and one line for
    a stage without figures."""
    from tqdm import tqdm

    from qa.indexer import STAGE_UNITS, STAGES

    bars: dict[str, tqdm] = {}
    said: set[str] = set()

    def progress(stage: str, done: int, total: int) -> None:
        if not total:
            if stage not in said:
                said.add(stage)
                print(f"{stage}…", file=sys.stderr)
            return
        bar = bars.get(stage)
        if bar is None:
            # No rate: figures arrive in batches, so tqdm's per-second rate reads as nonsense.
            unit = STAGE_UNITS.get(stage, "item")
            bar = bars[stage] = tqdm(total=total, desc=STAGES.get(stage, stage), unit=unit, file=sys.stderr,
                                     bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} "
                                                + unit + "s [{elapsed}]")
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return progress


def cmd_index(args: argparse.Namespace) -> int:
    from qa.assistant import Assistant

    report = Assistant(settings_from(args)).index(progress=_progress_bar(), rebuild=args.rebuild)
    print(terminal_text(report.summary()))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from qa.chat import serve

    return serve(args)


def cmd_ask(args: argparse.Namespace) -> int:
    from qa.assistant import Assistant

    assistant = Assistant(settings_from(args))
    answer = assistant.ask(args.question, filters=filters_from(args))
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        model = assistant.answerability
        # Name the check that refused: the verifier's floor when its probability fell short,
        # else the best candidate's floor (the verifier may have passed the question).
        verifier = model.verifier if model is not None and answer.answerable is not None else None
        floor = (verifier.floor if verifier is not None and answer.answerable < verifier.floor
                 else assistant.report_floor if answer.unmentioned else assistant.no_answer_threshold)
        print(terminal_text(render_answer(answer, floor)))
    return 0


def cmd_articles(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from qa.assistant import Assistant

    for a in Assistant(settings_from(args)).articles():
        if args.json:
            print(json.dumps(asdict(a), ensure_ascii=False))
        else:
            meta = ", ".join(x for x in (a.source, a.date) if x)
            print(terminal_text(f"{a.id}\t{a.title}" + (f" ({meta})" if meta else "") + f"\t{a.chunks} chunk{'s' if a.chunks != 1 else ''}"))
    return 0


# Control characters (C0 and C1: ESC, CSI, BEL, CR, ...) other than tab and line feed, and the
# bidirectional overrides: an article holding them could retitle, recolour or rewrite the
# user's terminal, or make text read in another order than it is stored.
_TERMINAL_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def terminal_text(text: str) -> str:
    """``text`` safe to print on a terminal: control characters (but tab and line feed) and
    bidirectional overrides removed, lone surrogates shown as U+FFFD."""
    return _TERMINAL_UNSAFE.sub(lambda m: "\ufffd" if "\ud800" <= m.group() <= "\udfff" else "", text)


def snippet(c: Citation, width: int = 90) -> str:
    """The passage around the answer, with the answer in [brackets]."""
    s, e = c.answer_in_passage
    before = c.passage[max(0, s - width) : s]
    after = c.passage[e : e + width]
    lead = "..." if s > width else ""
    tail = "..." if e + width < len(c.passage) else ""
    return " ".join(f'"{lead}{before}[{c.passage[s:e]}]{after}{tail}"'.split())


def claim_line(c: Citation) -> str:
    """Who says a citation's answer and what they say: ``says: NIS: "as many as [1,500] troops
    have already arrived" (date, source)``."""
    said = statement_text(c)
    meta = ", ".join(m for m in (c.date, c.source) if m)
    return (f"says: {claimant_text(c)}" + (f': "{said}"' if said else "")
            + (f" ({meta})" if meta else ""))


def render_answer(answer: Answer, threshold: float) -> str:
    """Human-readable answer with numbered citations and the other answers found, safe to print
    on a terminal (`terminal_text`)."""
    lines: list[str] = []
    n = 0

    def cite_lines(citations: Sequence[Citation], indent: str) -> list[str]:
        nonlocal n
        out = []
        for c in citations:
            n += 1
            out.append(f"{indent}[{n}] {c.title}, paragraph {c.paragraph}")
            out.append(textwrap.fill(snippet(c), width=100, initial_indent=indent + "    ",
                                     subsequent_indent=indent + "    "))
            out.append(textwrap.fill(claim_line(c), width=100, initial_indent=indent + "    ",
                                     subsequent_indent=indent + "      "))
        return out

    if answer.found and answer.tentative:
        lines.append(f"Possibly: {answer.answer}   (low confidence {answer.score:.2f}: the passage may "
                     "not answer exactly this question; check it)")
        if answer.unmentioned:
            lines.append(f"  The cited article never mentions {', '.join(answer.unmentioned)}: it may be "
                         "about another event.")
    elif answer.found:
        lines.append(f"{answer.answer}   (confidence {answer.score:.2f})")
    if answer.found:
        lines += cite_lines(answer.citations, "  ")
        if answer.alternatives:
            lines.append("  The sources differ. Other answers in the articles:")
            for alt in answer.alternatives:
                lines.append(f"    {alt.answer}   (confidence {alt.score:.2f})")
                lines += cite_lines(alt.citations, "    ")
    else:
        if answer.scope and not answer.passages:
            why = f"no indexed article is in the scope: only {answer.scope}"
        elif answer.answerable is not None and answer.answerable < threshold:
            # The verifier decided (qa.answerability): its probability, not the best span's
            # confidence, is what fell short.
            why = (f"the articles hold an answer with probability {answer.answerable:.2f}, "
                   f"under {threshold:.2f}")
        elif answer.unmentioned:
            # Of the best candidate only: the closest passages listed below may well be from an
            # article that does mention them (a new user read it as said of those).
            why = (f"the best candidate, {answer.score:.2f}, was read in an article that never mentions "
                   f"{', '.join(answer.unmentioned)}; threshold {threshold:.2f}")
        else:
            why = f"best {answer.score:.2f}, threshold {threshold:.2f}"
        lines.append(f"Not in the articles: no passage answers this with enough confidence ({why}).")
        if answer.passages:
            from qa.render import closest_passages

            lines.append("  Closest passages, in retrieval order:")
            for i, p in enumerate(closest_passages(answer), 1):
                text = " ".join(p.text.split())
                where = f", paragraph {p.paragraph}" if p.paragraph else ""
                lines.append(f"  [{i}] {p.title}{where} (similarity {p.similarity:.2f})")
                lines.append(textwrap.fill(f'"{text[:240]}{"..." if len(text) > 240 else ""}"', width=100,
                                           initial_indent="      ", subsequent_indent="      "))
    if answer.query != answer.question or answer.scope:
        scope = f"  [only {answer.scope}]" if answer.scope else ""
        lines.append(f"  Search query used: {answer.query}{scope}")
    t = answer.timings_ms
    lines.append(f"  ({t.get('retrieve', 0):.0f} ms retrieve, {t.get('read', 0):.0f} ms read)")
    return terminal_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # qa never needs the network at run time
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parse_or_explain(argv)
    if args.command != "serve":  # the chat sets up its own logging
        configure_logging(args.verbose)
    try:
        return args.func(args)
    except (QAError, FileNotFoundError) as exc:
        print(terminal_text(f"qa: {exc}"), file=sys.stderr)
        if getattr(args, "json", False):  # a script reading the JSON gets the error as JSON too
            print(json.dumps({"error": str(exc), "kind": type(exc).__name__}, ensure_ascii=False))
        return 2
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of the output went away ("qa ask ... | head -3"): stop quietly, as Unix
        # tools do; the interpreter must not try to flush into the closed pipe again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _parse_or_explain(argv: list[str]) -> argparse.Namespace:
    """`parse_args`; a usage error (exit 2) goes to stderr as argparse writes it and, when
    ``--json`` is among the arguments, to stdout as JSON too, like every other error."""
    import contextlib
    import io

    said = io.StringIO()
    try:
        with contextlib.redirect_stderr(said):
            return parse_args(build_parser(), argv)
    except SystemExit as exc:
        sys.stderr.write(said.getvalue())
        if exc.code == 2 and "--json" in argv:
            message = said.getvalue().strip().splitlines()[-1] if said.getvalue().strip() else "usage error"
            print(json.dumps({"error": message, "kind": "UsageError"}, ensure_ascii=False))
        raise


def configure_logging(verbose: bool) -> None:
    """Warnings (skipped files, a wait for another process) by default; -v: qa's progress notes
    and debug logging. Other libraries' chatter only with -v."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING,
                        format="%(levelname)s: %(message)s")
    if verbose:
        logging.getLogger("qa").setLevel(logging.DEBUG)
    for noisy in ("transformers", "sentence_transformers", "httpx", "huggingface_hub"):
        logging.getLogger(noisy).setLevel(logging.INFO if verbose else logging.ERROR)
    # FAISS's loader tells at INFO which CPU builds it tried and the ModuleNotFoundError of each
    # it skipped: nothing is wrong, and a user reading -v took it for a fault.
    logging.getLogger("faiss").setLevel(logging.WARNING if verbose else logging.ERROR)


if __name__ == "__main__":
    sys.exit(main())
