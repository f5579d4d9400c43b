"""The chat's command line (qa serve, app.py): safe defaults, the same flags as the qa command."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import ROOT


def load_app():
    import qa.chat

    return qa.chat


def test_app_py_is_the_chat_of_the_package():
    out = subprocess.run([sys.executable, str(ROOT / "app.py"), "--help"], capture_output=True, text=True,
                         cwd=ROOT, timeout=120, check=True).stdout
    assert out.startswith("usage: app.py") and "--share" in out and "/api/ask" in out


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
