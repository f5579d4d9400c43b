"""The Assistant API end to end with real parts (FAISS, MiniLM embedder, a transformers QA
model). The reader here has random weights: these tests check plumbing, not answer quality."""

import pytest

from qa.answer import Turn
from qa.assistant import Assistant
from qa.errors import InvalidInput, InvalidQuestion
from tests.conftest import CARD_QUESTION


@pytest.fixture
def assistant(settings):
    return Assistant(settings.with_(no_answer_threshold=0.0))


def test_first_question_builds_the_index(assistant, settings):
    assert not (settings.index_dir / "manifest.json").exists()
    answer = assistant.ask(CARD_QUESTION)
    assert (settings.index_dir / "manifest.json").exists()
    assert answer.passages and answer.query == CARD_QUESTION


def test_every_citation_points_at_the_answer_in_the_article(assistant):
    answer = assistant.ask(CARD_QUESTION)
    snap = assistant.snapshot()
    assert answer.found and answer.citations
    for cand in ((answer.answer, answer.citations), *((a.answer, a.citations) for a in answer.alternatives)):
        for c in cand[1]:
            text = snap.article_text(c.article_id)
            assert text[c.start : c.end] == c.passage[slice(*c.answer_in_passage)]
            assert text[c.passage_start : c.passage_start + len(c.passage)] == c.passage
            assert c.paragraph >= 1 and c.title


def test_alternatives_are_distinct_answers_from_distinct_places(assistant):
    answer = assistant.ask(CARD_QUESTION)
    places = [(c.article_id, c.start, c.end) for c in answer.citations]
    for alt in answer.alternatives:
        assert alt.answer != answer.answer and alt.score <= answer.score
        for c in alt.citations:
            assert all(not (c.article_id == a and c.start < e and s < c.end) for a, s, e in places)


def test_below_the_threshold_the_answer_is_not_in_the_articles(settings):
    answer = Assistant(settings.with_(no_answer_threshold=1.01)).ask(CARD_QUESTION)
    assert not answer.found and answer.answer is None and not answer.citations
    assert answer.passages  # the closest passages are still shown
    assert answer.to_dict()["answer"] is None


OPEN_QUESTION = "What did the NIS say about the shipments to Russia?"


def test_between_the_floor_and_the_calibrated_threshold_an_answer_is_tentative(settings):
    from dataclasses import replace

    # A question of no strict answer type: the tiny reader's random spans are no numbers, so a
    # "how many" question would (rightly) get none of them past the answer-type check.
    assistant = Assistant(settings)
    assistant.reader.warm_up()
    guess = Assistant(settings.with_(no_answer_threshold=0.0)).ask(OPEN_QUESTION)
    s = guess.score  # the tiny reader's confidence in its best answer
    assistant.reader.calibration = replace(assistant.reader.calibration, threshold=s + 0.01,
                                           tentative_threshold=s - 0.01)
    answer = assistant.ask(OPEN_QUESTION)
    assert answer.found and answer.tentative and answer.answer == guess.answer
    assert answer.to_dict()["tentative"] is True
    assistant.reader.calibration = replace(assistant.reader.calibration, threshold=s - 0.005)
    assert not assistant.ask(OPEN_QUESTION).tentative
    assistant.reader.calibration = replace(assistant.reader.calibration, tentative_threshold=s + 0.005,
                                           threshold=s + 0.01)
    assert not assistant.ask(OPEN_QUESTION).found


def test_json_form_has_the_stable_fields(assistant):
    d = assistant.ask(CARD_QUESTION).to_dict()
    assert {"question", "answer", "found", "score", "citations", "alternatives", "query", "timings_ms"} <= set(d)
    assert {"article_id", "title", "start", "end", "passage"} <= set(d["citations"][0])
    assert {"retrieve", "read", "total"} <= set(d["timings_ms"])


@pytest.mark.parametrize("question", ["", "   \n\t "])
def test_empty_question_is_refused(assistant, question):
    with pytest.raises(InvalidQuestion, match="empty"):
        assistant.ask(question)


def test_who_says_so_with_nothing_before_it_is_refused_with_what_to_do(assistant):
    # A new user's case: after "New topic", "Who says so?" searched and said "not in the articles".
    with pytest.raises(InvalidQuestion, match="none yet. Ask a question about the articles first"):
        assistant.ask("Who says so?")


def test_overlong_question_is_refused(assistant):
    with pytest.raises(InvalidQuestion, match="1001 characters"):
        assistant.ask("x" * 1001)


def test_follow_up_uses_a_query_resolved_from_history(assistant):
    first = assistant.ask("How many North Korean troops have already arrived in Russia?")
    follow = assistant.ask("And how many could eventually be sent?", history=[Turn(first.question, first)])
    assert follow.query != follow.question and "North Korean" in follow.query


def test_uploaded_article_is_indexed_and_listed(assistant):
    assistant.index()
    report = assistant.add_article("valencia floods.txt", b"Valencia floods\n\nFlash floods killed 223 people.")
    assert report.added == ["valencia-floods.txt"] and report.unchanged
    assert "valencia-floods.txt" in [a.id for a in assistant.articles()]


def test_upload_never_overwrites_an_existing_file(assistant, corpus_dir):
    assert assistant.add_article("a.txt", b"One\n\nFirst text.").saved_as == "a.txt"
    assert assistant.add_article("a.txt", b"Two\n\nSecond text.").saved_as == "a-2.txt"
    assert (corpus_dir / "a.txt").read_text().startswith("One") and (corpus_dir / "a-2.txt").exists()


def test_an_upload_of_records_says_the_file_it_was_saved_as_not_an_article_id(assistant):
    # A new user's case: every .jsonl upload was told "kept beside it as wire.jsonl#b1" (the
    # first record's article id), as if another file of that name were there.
    records = b'{"title": "Storm", "text": "A storm hit Berlin."}\n{"title": "Toll", "text": "Nine died."}\n'
    report = assistant.add_article("wire.jsonl", records)
    assert report.saved_as == "wire.jsonl" and any(a.startswith("wire.jsonl") for a in report.added)


def test_the_same_content_uploaded_again_is_refused_naming_the_article(assistant, corpus_dir):
    # Issue 15: a second upload of one file was saved as name-2.txt and listed twice.
    assistant.add_article("a.txt", b"One\n\nFirst text.")
    with pytest.raises(InvalidInput, match=r"already in the articles, as a\.txt \('One'\)"):
        assistant.add_article("copy of a.txt", b"One\n\nFirst text.")
    assert not (corpus_dir / "copy-of-a.txt").exists() and not (corpus_dir / "a-2.txt").exists()
    assert [a.id for a in assistant.articles()].count("a.txt") == 1


@pytest.mark.parametrize("name, data, message", [
    ("x.exe", b"MZ", "unsupported type"),
    ("x.txt", b"\x00\x01\x02" * 100, "binary"),
    ("x.json", b"{broken", "not valid JSON"),
])
def test_bad_uploads_are_refused_and_never_land_in_the_corpus(assistant, corpus_dir, name, data, message):
    before = sorted(p.name for p in corpus_dir.iterdir())
    with pytest.raises(InvalidInput, match=message):
        assistant.add_article(name, data)
    assert sorted(p.name for p in corpus_dir.iterdir()) == before


def test_upload_size_limit(settings):
    small = Assistant(settings.with_(max_upload_bytes=100))
    with pytest.raises(InvalidInput, match="limit"):
        small.add_article("big.txt", b"Big\n\n" + b"word " * 100)


def test_removed_article_leaves_the_index_but_its_file_is_kept(assistant, corpus_dir):
    assistant.add_article("a.txt", b"One\n\nFirst text.")
    report = assistant.remove_article("a.txt")
    assert report.removed == ["a.txt"]
    assert "a.txt" not in [a.id for a in assistant.articles()]
    assert (corpus_dir / ".removed" / "a.txt").exists()


def test_the_upload_limit_is_told_in_mib_as_on_the_page_and_in_the_readme(settings):
    with pytest.raises(InvalidInput, match=r"6\.0 MiB is over the 5 MiB limit"):
        Assistant(settings).add_article("big.txt", b"Big\n\n" + b"x" * (6 * 2**20 - 5))
