"""The qa command as users run it: a real subprocess, real models, offline."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import CARD_QUESTION, ROOT


def qa(*args, cwd=None, check=True):
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "qa.cli", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"qa {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


@pytest.fixture
def dirs(corpus_dir, tmp_path, tiny_reader):
    return ["--corpus", str(corpus_dir), "--index", str(tmp_path / "index")], ["--reader", str(tiny_reader)]


def test_index_then_ask_json(dirs, corpus_dir):
    where, reader = dirs
    out = qa("index", *where)
    assert "1 added" in out.stdout
    (corpus_dir / "second.txt").write_text("Second\n\nAnother article about floods.")
    out = qa("index", *where)
    assert "1 added" in out.stdout and "1 unchanged (not embedded again)" in out.stdout
    answer = json.loads(qa("ask", "--json", CARD_QUESTION, *where, *reader, "--threshold", "0").stdout)
    assert answer["question"] == CARD_QUESTION and answer["found"] is True
    c = answer["citations"][0]
    assert c["article_id"] and 0 <= c["start"] < c["end"]


def test_ask_prints_answer_with_numbered_citations(dirs):
    where, reader = dirs
    out = qa("ask", CARD_QUESTION, *where, *reader, "--threshold", "0")
    assert "confidence " in out.stdout and "[1] South Korea and Ukraine claim" in out.stdout
    assert "paragraph" in out.stdout


def test_not_found_says_so_and_shows_closest_passages(dirs):
    where, reader = dirs
    out = qa("ask", "What is the capital of Peru?", *where, *reader, "--threshold", "1.01")
    assert "Not in the articles" in out.stdout and "Closest passages" in out.stdout


def test_empty_question_fails_with_a_clear_message(dirs):
    where, reader = dirs
    proc = qa("ask", "  ", *where, *reader, check=False)
    assert proc.returncode == 2 and "question is empty" in proc.stderr


def test_binary_file_is_skipped_with_a_warning_naming_it(dirs, corpus_dir):
    where, _ = dirs
    (corpus_dir / "blob.txt").write_bytes(os.urandom(4096))
    out = qa("index", *where)
    assert "blob.txt" in out.stderr + out.stdout and "1 added" in out.stdout


def test_corrupt_index_is_reported_with_what_to_do(dirs, tmp_path):
    where, reader = dirs
    qa("index", *where)
    (tmp_path / "index" / "manifest.json").write_text("{oops")
    proc = qa("ask", CARD_QUESTION, *where, *reader, check=False)
    assert proc.returncode == 2 and "corrupt" in proc.stderr and "qa index --rebuild" in proc.stderr


def test_empty_corpus_is_a_clear_error(tmp_path, tiny_reader):
    (tmp_path / "empty").mkdir()
    proc = qa("index", "--corpus", str(tmp_path / "empty"), "--index", str(tmp_path / "i"), check=False)
    assert proc.returncode == 2 and "No readable articles" in proc.stderr


def test_help_lists_the_commands():
    out = qa("--help").stdout
    for command in ("index", "ask", "articles"):
        assert command in out


def test_a_tentative_answer_is_printed_as_possibly():
    from qa.cli import render_answer
    from tests.test_render import found

    text = render_answer(found(answer="12,000", score=0.39, tentative=True), 0.3)
    assert text.startswith("Possibly: 12,000") and "low confidence 0.39" in text
    assert render_answer(found(), 0.3).startswith("1,500   (confidence 0.91)")


def test_a_wrong_event_answer_says_which_names_its_article_never_mentions():
    from qa.cli import render_answer
    from tests.test_render import found

    text = render_answer(found(answer="12,000", score=0.8, tentative=True, unmentioned=("Kursk",)), 0.3)
    assert "never mentions Kursk" in text


def test_a_refusal_names_the_check_that_refused():
    """The verifier can pass a question whose best candidate is still under the candidate floor;
    the reason printed must then be the candidate's score, not the verifier's probability (a new
    user saw "hold an answer with probability 1.00, under 0.67")."""
    from qa.cli import render_answer
    from tests.test_render import found

    by_floor = render_answer(found(answer=None, found=False, score=0.09, answerable=0.998, alternatives=()), 0.245)
    assert "best 0.09, threshold 0.24" in by_floor and "probability" not in by_floor
    by_verifier = render_answer(found(answer=None, found=False, score=0.5, answerable=0.3, alternatives=()), 0.665)
    assert "hold an answer with probability 0.30, under 0.67" in by_verifier
    by_names = render_answer(found(answer=None, found=False, score=0.07, answerable=0.72, alternatives=(),
                                   unmentioned=("Korea",)), 0.26)
    assert "the best candidate, 0.07, was read in an article that never mentions Korea; threshold 0.26" in by_names


def test_a_refusal_lists_each_closest_passage_once_with_its_paragraph():
    from qa.answer import RetrievedPassage
    from qa.cli import render_answer
    from tests.test_render import found

    passages = (RetrievedPassage("a", "Troops", "a:0", 0, 400, "NIS said 1,500 troops arrived.", 0.61, 2),
                RetrievedPassage("a", "Troops", "a:1", 300, 700, "1,500 troops arrived. More follow.", 0.60, 3),
                RetrievedPassage("b", "Shells", "b:0", 0, 300, "Eight million shells were sent.", 0.66, 1))
    text = render_answer(found(answer=None, found=False, score=0.01, alternatives=(), passages=passages), 0.06)
    assert "[1] Troops, paragraph 2 (similarity 0.61)" in text and "[2] Shells, paragraph 1" in text
    assert "paragraph 3" not in text  # overlaps the first passage: the same sentences again


def test_retrieval_mode_is_chosen_on_the_command_line(dirs):
    where, reader = dirs
    qa("index", *where)
    passages = {}
    for mode in ("dense", "lexical", "hybrid"):
        answer = json.loads(qa("ask", "--json", "--retrieval", mode, "Kursk region troops", *where, *reader,
                               "--threshold", "0").stdout)
        passages[mode] = [p["chunk_id"] for p in answer["passages"]]
        assert passages[mode]
    assert passages["dense"] != passages["lexical"]  # two rankings, not one under three names
    out = qa("ask", "--retrieval", "sparse", "x", *where, *reader, check=False)
    assert out.returncode == 2 and "invalid choice: 'sparse'" in out.stderr


def test_precision_is_chosen_on_the_command_line_for_both_models():
    from qa.cli import build_parser, settings_from

    parser = build_parser()
    settings = settings_from(parser.parse_args(["ask", "q", "--precision", "fp32"]))
    assert (settings.reader_precision, settings.embedding_precision) == ("fp32", "fp32")
    settings = settings_from(parser.parse_args(["index", "--precision", "fp32"]))
    assert settings.embedding_precision == "fp32"
    default = settings_from(parser.parse_args(["ask", "q"]))
    assert (default.reader_precision, default.embedding_precision) == ("bf16", "bf16")
    with pytest.raises(SystemExit):
        parser.parse_args(["ask", "q", "--precision", "fp16"])


# -- command-line habits --------------------------------------------------------------------


def test_version_is_printed():
    out = qa("--version")
    assert out.stdout.strip().startswith("qa ") and out.stdout.strip() != "qa"


def test_verbose_is_accepted_after_the_subcommand_and_says_more(dirs):
    where, reader = dirs
    out = qa("ask", CARD_QUESTION, *where, *reader, "--threshold", "0", "-v")
    assert "No index in" in out.stderr and "building it" in out.stderr
    # ...but not FAISS's account of which CPU builds it skipped (a new user took it for a fault).
    assert "Loading faiss" not in out.stderr and "ModuleNotFoundError" not in out.stderr


def test_a_successful_first_index_build_is_quiet_by_default(dirs):
    where, reader = dirs
    out = qa("ask", CARD_QUESTION, *where, *reader, "--threshold", "0")
    assert "WARNING" not in out.stderr and "Loading weights" not in out.stderr
    assert out.stderr.strip() == ""


def test_qa_index_draws_no_model_loading_bar(dirs):
    where, _ = dirs
    out = qa("index", *where)
    assert "Loading weights" not in out.stderr


def test_a_wrong_option_shows_the_usage_of_its_subcommand(dirs):
    proc = qa("ask", "--bogus", CARD_QUESTION, check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("usage: qa ask") and "unrecognized arguments: --bogus" in proc.stderr


@pytest.mark.parametrize("value", ["0", "-3"])
def test_top_k_must_be_positive(dirs, value):
    where, reader = dirs
    proc = qa("ask", CARD_QUESTION, *where, *reader, "--top-k", value, check=False)
    assert proc.returncode == 2 and "--top-k" in proc.stderr and "positive" in proc.stderr


def test_messages_name_folders_by_their_absolute_path(tmp_path):
    work = tmp_path / "elsewhere"
    work.mkdir()
    proc = qa("index", "--corpus", "missing", "--index", "idx", cwd=work, check=False)
    assert proc.returncode == 2 and str(work / "missing") in proc.stderr


def test_help_does_not_show_the_checkouts_reader_path():
    assert str(ROOT) not in qa("ask", "--help").stdout


def test_a_skipped_file_is_listed_once(dirs, corpus_dir):
    where, _ = dirs
    (corpus_dir / "blob.txt").write_bytes(os.urandom(4096))
    out = qa("index", *where)
    assert (out.stdout + out.stderr).count("blob.txt") == 1


def test_ask_json_reports_an_error_as_json_too(dirs):
    where, reader = dirs
    proc = qa("ask", "--json", "why " * 400, *where, *reader, check=False)
    assert proc.returncode == 2 and "the limit is 1000" in proc.stderr
    error = json.loads(proc.stdout)
    assert "the limit is 1000" in error["error"] and error["kind"] == "InvalidQuestion"


@pytest.mark.parametrize("wrong", [["--top-k", "0"], ["--no-such-flag"]])
def test_ask_json_reports_a_usage_error_as_json_too(dirs, wrong):
    where, reader = dirs
    proc = qa("ask", "--json", CARD_QUESTION, *where, *reader, *wrong, check=False)
    assert proc.returncode == 2 and "usage: qa ask" in proc.stderr
    error = json.loads(proc.stdout)
    assert error["kind"] == "UsageError" and error["error"].startswith("qa ask: error:")


def test_model_loading_has_its_own_timing(dirs):
    where, reader = dirs
    answer = json.loads(qa("ask", "--json", CARD_QUESTION, *where, *reader, "--threshold", "0").stdout)
    t = answer["timings_ms"]
    assert {"load", "resolve", "retrieve", "read", "compose", "claims", "total"} <= set(t)


def test_index_progress_names_its_stages_and_units_without_rates(capsys):
    from qa.cli import _progress_bar

    progress = _progress_bar()
    progress("reading the articles", 0, 0)
    progress("reading the articles", 0, 0)  # said once
    progress("chunk", 0, 3)
    progress("chunk", 3, 3)
    progress("embed", 12, 12)
    err = capsys.readouterr().err
    assert err.count("reading the articles…") == 1
    assert "3/3 articles" in err and "12/12 passages" in err and "cutting articles into passages" in err
    assert "/s" not in err and "chunk/s" not in err


def test_output_piped_into_a_reader_that_stops_early_ends_quietly(dirs):
    """`qa ask ... | head -1`: no BrokenPipeError traceback when head has read enough."""
    where, reader = dirs
    qa("index", *where)
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "qa.cli", "ask", CARD_QUESTION, *where, *reader, "--threshold", "0"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    proc.stdout.close()  # the reader is gone before qa writes anything
    err = proc.stderr.read().decode()
    proc.wait(timeout=600)
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
