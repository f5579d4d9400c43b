"""app.py's command line: safe defaults, the same flags as the qa command."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_app():
    spec = importlib.util.spec_from_file_location("qa_app", ROOT / "app.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["qa_app"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_binds_to_this_machine_only_by_default():
    args = load_app().build_parser().parse_args([])
    assert args.host == "127.0.0.1" and args.port == 7860 and args.share is False


def test_takes_corpus_index_host_port_and_share():
    args = load_app().build_parser().parse_args(
        ["--corpus", "c", "--index", "i", "--host", "0.0.0.0", "--port", "8000", "--share"])
    assert (args.corpus, args.index, args.host, args.port, args.share) == ("c", "i", "0.0.0.0", 8000, True)


def test_index_status_reports_progress_then_the_summary():
    job = load_app().IndexJob()
    job.progress("embed", 3, 10)
    # Issue 15: the page said "starting…" for 20 s with no figures. Now: stage, figures, time.
    assert re.fullmatch(r"Building the index: embedding passages 3/10 \(30%\), \d+ s…", job.status())
    job.progress("loading the embedding model", 0, 0)
    assert re.fullmatch(r"Building the index: loading the embedding model, \d+ s…", job.status())
    job.summary = "Index: 1 added"
    job.finished.set()
    assert job.status() == "Index: 1 added"


def test_index_status_shows_an_error_for_the_user():
    job = load_app().IndexJob(error="No readable articles in corpus.")
    assert "No readable articles" in job.status()


def test_files_the_index_skipped_are_kept_for_the_removal_list():
    from qa.indexer import IndexReport

    job = load_app().IndexJob()
    job.record(IndexReport(added=["a.txt"], skipped=[("deep.json", "nested too deeply to read")]))
    job.finished.set()
    assert job.skipped == [("deep.json", "nested too deeply to read")]
    # Issue 15: said once, in the articles panel (build_app's article_table), not in the status
    # line at the top of the page and every upload note.
    assert "deep.json" not in job.status() and job.status().startswith("Index: 1 added")


def test_the_index_reports_its_stages_with_figures(settings):
    from qa.assistant import Assistant

    seen = []
    Assistant(settings).index(progress=lambda stage, done, total: seen.append((stage, done, total)))
    stages = [s for s, _, _ in seen]
    assert stages[0] == "reading the articles" and "loading the embedding model" in stages
    assert ("chunk", 1, 1) in seen and any(s == "embed" and t > 0 for s, _, t in seen)
    assert stages[-1] == "saving the index"
