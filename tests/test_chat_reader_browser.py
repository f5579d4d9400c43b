"""The chat page as a news reader uses it (issue 15), in a real headless Chromium: sources that
read well and link from the reply, scoped questions, and the page's small faults (a long
question, the index being built, a duplicate upload, files the index skipped).

Same set-up as tests/test_app_browser.py (app.py in a subprocess, /usr/bin/chromium driven by
Playwright); screenshots go to tests/artifacts/chat-reader-*.png.
"""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import running_app
from tests.test_app_browser import (
    ANSWER_TIMEOUT_MS,
    CARD_QUESTION,
    MISSING,
    SAMPLE_ARTICLE,
    START_TIMEOUT_S,
    ask,
    screenshot,
    upload,
)

pytestmark = [pytest.mark.browser]
if MISSING:
    pytestmark.append(pytest.mark.skip(reason=MISSING))

# Two short wire reports with a source and a date, beside the sample article (neither).
WIRE = [
    {"id": "wire-1", "title": "Testwire: troops reach Vladivostok", "date": "2024-10-20", "source": "Testwire",
     "text": "About 3,000 North Korean troops have reached Vladivostok, Testwire was told by officials."},
    {"id": "wire-2", "title": "Testwire: harbour closed", "date": "2024-11-02", "source": "Testwire",
     "text": "The harbour of Vladivostok was closed for two days because of a storm."},
]


@pytest.fixture(scope="module")
def reader_app(tmp_path_factory, trained_reader):
    """app.py over the sample article, two wire reports and one file it cannot index; yields
    (its URL, the corpus folder, the index folder)."""
    work = tmp_path_factory.mktemp("chat-reader")
    corpus = work / "corpus"
    corpus.mkdir()
    shutil.copy(SAMPLE_ARTICLE, corpus)
    (corpus / "wire.jsonl").write_text("".join(json.dumps(r) + "\n" for r in WIRE))
    (corpus / "broken.txt").write_bytes(b"\x00\x01\x02\x03" * 100)
    with running_app(corpus, work / "index", trained_reader, work, START_TIMEOUT_S) as (url, _log):
        yield url, corpus, work / "index"


@pytest.fixture(scope="module")
def reader_url(reader_app):
    return reader_app[0]


def open_page(browser, url, wait_for_index: bool = True):
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#qa-question textarea", timeout=60_000)
    if wait_for_index:
        page.wait_for_function(
            "() => (document.querySelector('#qa-index-status')?.innerText || '').includes('Index:')",
            timeout=START_TIMEOUT_S * 1000,
        )
    return page


@pytest.fixture
def page(browser, reader_url):
    page = open_page(browser, reader_url)
    yield page
    page.context.close()


def test_citation_marks_link_to_their_source_which_flashes(page):
    reply = ask(page, "How many North Korean soldiers are in Russia?")
    assert reply["answer"], reply["text"]
    entries = page.locator("#qa-sources .qa-source")
    marks = page.locator("#qa-sources mark")
    # One entry per passage: more answer spans (each numbered) than entries when several
    # citations come from one passage; never the same passage twice.
    texts = entries.all_inner_texts()
    assert len(set(texts)) == len(texts)
    assert marks.count() >= entries.count()
    assert page.locator("#qa-sources .qa-mark-num").count() == marks.count()
    last = page.locator("#qa-chat .qa-reply").last
    ref = last.locator("a.qa-ref").last
    number = ref.get_attribute("href").rsplit("-", 1)[-1]  # the chat drops data- attributes
    ref.click()
    target = page.locator(f'#qa-sources [data-refs~="{number}"]')
    page.wait_for_function(
        "n => document.querySelector(`#qa-sources [data-refs~=\"${n}\"]`).classList.contains('qa-flash')",
        arg=number, timeout=5_000,
    )
    assert target.is_visible()
    screenshot(page, "chat-reader-sources.png")


def test_an_earlier_replys_mark_brings_back_its_own_sources(page):
    # The panel shows the latest answer's sources; entry [1] there is another answer's passage,
    # so an earlier reply's [1] first puts that reply's sources back, then flashes its entry.
    first_question = "How many containers of munitions has North Korea shipped to Russia?"
    ask(page, first_question)
    reply = ask(page, "When will the North Korean troops be ready?")
    assert reply["answer"], reply["text"]
    panel = page.locator("#qa-sources .qa-sources-for")
    assert "When will" in panel.inner_text()
    first = page.locator("#qa-chat .qa-reply").first.locator("a.qa-ref").first
    number = first.get_attribute("href").rsplit("-", 1)[-1]
    first.click()
    page.wait_for_function(
        "n => document.querySelector(`#qa-sources [data-refs~=\"${n}\"]`)?.classList.contains('qa-flash')",
        arg=number, timeout=5_000,
    )
    assert first_question in panel.inner_text()
    assert "13,000" in page.locator("#qa-sources .qa-flash").inner_text()
    screenshot(page, "chat-reader-earlier-sources.png")
    latest = page.locator("#qa-chat .qa-reply").last.locator("a.qa-ref").first
    latest.click()
    page.wait_for_function("() => document.querySelectorAll('#qa-sources .qa-flash').length > 0", timeout=5_000)
    assert "When will" in panel.inner_text()


def test_not_found_lists_each_closest_passage_once_with_its_paragraph(page):
    reply = ask(page, "How many tanks did Finland buy from Sweden in 1990?")
    screenshot(page, "chat-reader-not-found.png")
    assert "could not find" in reply["text"], reply["text"]
    items = page.locator("#qa-chat .qa-reply").last.locator("li").all_inner_texts()
    assert items and len(set(items)) == len(items), items
    assert all("paragraph" in item for item in items), items
    assert "similarity" not in reply["text"]


def test_a_question_can_be_scoped_to_one_source(page):
    page.get_by_text("Scope: ask only some articles").click()
    page.click("#qa-scope-source input")
    page.get_by_role("option", name="Testwire").click()
    reply = ask(page, "How many North Korean troops have arrived?")
    screenshot(page, "chat-reader-scope.png")
    assert "only source: Testwire" in page.locator("#qa-chat .qa-query").last.inner_text()
    # Whatever the reader makes of the short wire report, only Testwire's passages were read
    # (without the scope the sample article's passages come first).
    assert reply["answer"] is None or "3,000" in reply["answer"], reply["text"]
    sources = page.inner_text("#qa-sources")
    assert "Testwire" in sources and "South Korea and Ukraine claim" not in sources


def test_a_too_long_question_stays_in_the_box_with_the_message(page):
    ask(page, CARD_QUESTION)
    long = "How many troops were sent? " * 60
    page.fill("#qa-question textarea", long)
    page.press("#qa-question textarea", "Enter")
    page.wait_for_selector("#qa-chat .qa-error", timeout=ANSWER_TIMEOUT_MS)
    screenshot(page, "chat-reader-long-question.png")
    assert "limit" in page.locator("#qa-chat .qa-error").last.inner_text()
    assert page.input_value("#qa-question textarea") == long.strip() or page.input_value(
        "#qa-question textarea") == long
    assert page.locator("#qa-chat .qa-question").count() == 1  # only the first question's bubble
    assert "13,000" not in page.inner_text("#qa-sources")  # the previous answer's passages are gone


def test_a_duplicate_upload_is_refused_naming_the_article(page, tmp_path):
    copy = tmp_path / "same-story.txt"
    copy.write_bytes(SAMPLE_ARTICLE.read_bytes())
    note = upload(page, copy)
    screenshot(page, "chat-reader-duplicate.png")
    assert "already in the articles, as north-korean-troops-russia.txt" in note, note
    listed = page.inner_text("#qa-article-list")
    assert listed.count("South Korea and Ukraine claim") == 1
    assert "broken.txt" not in note  # the skipped file is not repeated in every note


def test_skipped_files_are_said_once_in_the_articles_panel(page):
    if not page.locator("#qa-upload input[type=file]").count():
        page.get_by_text("Articles", exact=True).first.click()
    page.wait_for_selector("#qa-article-list table")
    screenshot(page, "chat-reader-skipped.png")
    assert "broken.txt" not in page.inner_text("#qa-index-status")
    assert page.inner_text("#qa-article-list").count("Not indexed: broken.txt") == 1


def test_a_question_asked_while_the_index_builds_says_it_waits(browser, tmp_path, trained_reader):
    # Enough articles that building takes a while (~1,000 passages to embed); a question asked
    # meanwhile says that it waits for the index, with the build's figures, then is answered.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SAMPLE_ARTICLE, corpus)
    filler = " ".join(f"Paragraph {i} of a long council report on roads, schools and parks." for i in range(40))
    (corpus / "reports.jsonl").write_text("".join(
        json.dumps({"id": f"r{n}", "title": f"Council report {n}", "text": filler}) + "\n" for n in range(120)))
    with running_app(corpus, tmp_path / "index", trained_reader, tmp_path, START_TIMEOUT_S) as (url, _log):
        page = open_page(browser, url, wait_for_index=False)
        try:
            status = page.inner_text("#qa-index-status")
            if "Index:" in status:
                pytest.skip("the index was built before the page opened (machine too fast for this check)")
            page.fill("#qa-question textarea", CARD_QUESTION)
            page.press("#qa-question textarea", "Enter")
            page.wait_for_function(
                "() => [...document.querySelectorAll('#qa-chat .qa-muted')].some("
                "e => e.innerText.includes('Waiting for the index'))", timeout=30_000)
            screenshot(page, "chat-reader-waiting.png")
            page.wait_for_function(
                "() => /Building the index: .*\\d+ s/.test(document.querySelector('#qa-index-status').innerText)"
                " || document.querySelector('#qa-index-status').innerText.includes('Index:')", timeout=30_000)
            page.wait_for_selector("#qa-chat .qa-query", timeout=START_TIMEOUT_S * 1000)
            assert "13,000" in page.locator("#qa-chat .qa-reply").last.inner_text()
        finally:
            page.context.close()


def test_a_changed_file_of_the_same_name_is_kept_as_a_new_version_and_said_so(page, tmp_path):
    changed = tmp_path / SAMPLE_ARTICLE.name
    changed.write_text("North Korean troops: an update\n\nAbout 3,000 more troops were reported on Monday.\n")
    note = upload(page, changed)
    assert f"A different file named {SAMPLE_ARTICLE.name} is already in the articles" in note, note
    assert "north-korean-troops-russia-2.txt" in note
    assert "North Korean troops: an update" in page.inner_text("#qa-article-list")


def test_the_status_line_and_articles_follow_an_index_another_process_updated(page, reader_app, tmp_path):
    """`qa index` run beside the server (a new file put in corpus/ by hand): within a few
    polls the page's status line says the index was updated elsewhere, the articles panel lists
    the new article, and /api/health says the same."""
    import subprocess
    import urllib.request

    from tests.test_index_sharing import process_env, qa_command

    url, corpus, index_dir = reader_app
    (corpus / "harbour.txt").write_text("Harbour reopens after storm\n\nThe harbour of Nakhodka reopened on Monday.\n")
    done = subprocess.run(qa_command("index", "--corpus", str(corpus), "--index", str(index_dir)), cwd=tmp_path,
                          env=process_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    page.wait_for_function(
        "() => document.querySelector('#qa-index-status').innerText.includes('by another process')", timeout=30_000)
    if not page.locator("#qa-article-list").count():
        page.get_by_text("Articles", exact=True).first.click()  # open the panel, as upload() does
    page.wait_for_function(
        "() => (document.querySelector('#qa-article-list')?.innerText || '').includes('Harbour reopens after storm')",
        timeout=15_000)
    screenshot(page, "chat-reader-index-elsewhere.png")
    with urllib.request.urlopen(url + "api/health", timeout=30) as response:
        health = json.loads(response.read())
    assert health["status"] == "ready" and "by another process" in health["index"], health
    # A broken file put there next changes no index data (no new generation), yet `qa index`
    # could not use it: the panel says so once, as for the server's own updates.
    (corpus / "noise.json").write_text("{broken")
    done = subprocess.run(qa_command("index", "--corpus", str(corpus), "--index", str(index_dir)), cwd=tmp_path,
                          env=process_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and "noise.json" in done.stdout + done.stderr, done.stderr[-3000:]
    page.wait_for_function(
        "() => (document.querySelector('#qa-article-list')?.innerText || '').includes('Not indexed: noise.json')",
        timeout=15_000)
    screenshot(page, "chat-reader-skipped-elsewhere.png")
    assert page.inner_text("#qa-article-list").count("Not indexed: noise.json") == 1
    assert "noise.json" not in page.inner_text("#qa-index-status")


def test_a_question_sent_while_the_last_is_being_answered_is_not_lost(page):
    """Enter pressed twice in a row: the first question is answered under its own bubble, and
    the second is not lost (it waits in the box, with a note, until the reply is there)."""
    first = "How many containers of munitions has North Korea shipped to Russia?"
    second = "Who says so?"
    page.fill("#qa-question textarea", first)
    page.press("#qa-question textarea", "Enter")
    page.wait_for_function("() => document.querySelectorAll('#qa-chat .qa-question').length >= 1", timeout=10_000)
    # Every text the note under the box shows, however briefly: it is there while the first
    # answer is on its way and goes when the reply is (on a fast machine within 400 ms of the
    # second Enter, so a look after a fixed wait can miss it).
    page.evaluate("""() => { window.qaNotes = [];
        new MutationObserver(() => { const n = document.querySelector('#qa-note');
            if (n && n.innerText.trim()) window.qaNotes.push(n.innerText); })
        .observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true}); }""")
    page.fill("#qa-question textarea", second)
    page.press("#qa-question textarea", "Enter")
    page.wait_for_timeout(400)
    note_seen = " ".join(page.evaluate("() => window.qaNotes"))
    screenshot(page, "chat-reader-busy-note.png")
    page.wait_for_selector("#qa-chat .qa-query", timeout=ANSWER_TIMEOUT_MS)
    page.wait_for_timeout(1500)
    screenshot(page, "chat-reader-busy.png")
    questions = page.locator("#qa-chat .qa-question").all_inner_texts()
    replies = page.locator("#qa-chat .qa-reply").all_inner_texts()
    assert questions and first in questions[0], questions
    assert "13,000" in replies[0], replies  # the first reply answers the first question
    assert not any("Searching the articles" in r for r in replies), replies  # no reply left hanging
    if len(questions) == 1:
        assert page.input_value("#qa-question textarea") == second  # kept, to send again
        assert "Still answering your last question" in note_seen, note_seen  # and the page said why
        # Once the reply is there the note goes (sending it again answers it).
        page.wait_for_function("() => !(document.querySelector('#qa-note')?.innerText || '').trim()", timeout=10_000)
    else:
        assert second in questions[1] and "NIS" in replies[1], replies


def test_new_topic_while_an_answer_is_on_its_way_stays_a_new_topic(page):
    """A new user's case: "New topic" clicked while "Searching the articles..." showed cleared the
    chat, then the old question and answer came back, and a question asked meanwhile was lost."""
    page.fill("#qa-question textarea", CARD_QUESTION)
    page.press("#qa-question textarea", "Enter")
    page.wait_for_function("() => document.querySelectorAll('#qa-chat .qa-question').length >= 1", timeout=10_000)
    page.click("#qa-new-topic")
    page.wait_for_function("() => !document.querySelectorAll('#qa-chat .qa-question').length", timeout=10_000)
    second = "How many North Korean troops have already arrived in Russia?"
    page.fill("#qa-question textarea", second)
    page.press("#qa-question textarea", "Enter")
    page.wait_for_selector("#qa-chat .qa-query", timeout=ANSWER_TIMEOUT_MS)
    page.wait_for_timeout(3000)  # the first answer, had it been kept, is back by now
    screenshot(page, "chat-reader-new-topic.png")
    questions = page.locator("#qa-chat .qa-question").all_inner_texts()
    assert questions == [second], questions
    assert "1,500" in page.locator("#qa-chat .qa-reply").last.inner_text()
