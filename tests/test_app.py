"""The chat's command line (qa serve, app.py): safe defaults, the same flags as the qa command."""

from __future__ import annotations

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
    assert job.status() == "Building the index: embed 3/10…"
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
    assert "Skipped deep.json: nested too deeply" in job.status()
