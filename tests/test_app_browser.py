"""The chat page end to end: app.py in a subprocess, driven by a real headless Chromium.

Needs Debian's Chromium (/usr/bin/chromium, `apt-get install chromium`) and Playwright for
Python; `playwright install` cannot download here, so Playwright drives the system browser.
The tests that judge answers need the trained reader in models/reader; the others (escaping,
sessions, new topic, uploads) run the page over a tiny random-weight reader when it is missing.

Screenshots and the measured question-to-answer times go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM, running_app

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_ARTICLE = ROOT / "corpus" / "north-korean-troops-russia.txt"
TRAINED_READER = ROOT / "models" / "reader"
CARD_QUESTION = "How many containers of munitions has North Korea shipped to Russia?"
ARTIFACTS = ROOT / "tests" / "artifacts"
START_TIMEOUT_S = 300  # first start: import gradio, load both models, index the sample article
ANSWER_TIMEOUT_MS = 120_000

FIRST = "How many North Korean troops have already arrived in Russia?"
SECOND = "And how many could eventually be sent?"
THIRD = "When will they be ready?"

BRIDGE_ARTICLE = """Varna river gets its first pedestrian bridge

The new pedestrian bridge over the Varna river in the town of Lakeside is 420 metres long and \
cost 38 million euros, the town council said on Monday.

Mayor Elena Petrova opened the bridge on 3 March. She said that about 9,000 people are expected \
to cross it every day.
"""

SCRIPT_TITLE = "<script>window.__qa_pwned = 1; document.title = 'pwned'</script> Harbour report"
SCRIPT_ARTICLE = f"""{SCRIPT_TITLE}

The harbour of Port Quill <script>window.__qa_pwned = 2</script> handled 77 ships in April.
<img src=x onerror="window.__qa_pwned = 3"> The harbour master is Ada Lindqvist. **Not bold**
and ${{window.__qa_pwned = 4}} stay as written.
"""

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

if sync_playwright is None:
    MISSING = "playwright is not installed: pip install playwright (or pip install -e '.[test]')"
elif not CHROMIUM.exists():
    MISSING = "/usr/bin/chromium is missing: apt-get install -y chromium"
else:
    MISSING = ""

pytestmark = [pytest.mark.browser]
if MISSING and not os.environ.get("QA_REQUIRE_BROWSER"):
    pytestmark.append(pytest.mark.skip(reason=MISSING))


@pytest.fixture(autouse=True, scope="module")
def _browser_available():
    """With QA_REQUIRE_BROWSER set (CI), a missing browser fails the tests instead of skipping."""
    if MISSING:
        pytest.fail(f"QA_REQUIRE_BROWSER is set but {MISSING}")


# -- the app and the browser ---------------------------------------------------------------


@pytest.fixture(scope="module")
def app_url(tmp_path_factory, tiny_reader):
    """app.py serving a temp copy of the sample corpus on a free local port."""
    work = tmp_path_factory.mktemp("app")
    corpus = work / "corpus"
    corpus.mkdir()
    shutil.copy(SAMPLE_ARTICLE, corpus)
    reader = TRAINED_READER if (TRAINED_READER / "config.json").exists() else tiny_reader
    with running_app(corpus, work / "index", reader, work, START_TIMEOUT_S) as (url, _log):
        yield url


@pytest.fixture
def page(browser, app_url):
    """A fresh browser session (its own cookies and gradio session) on the chat page, once the
    index is built and the models are loaded."""
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.goto(app_url)
    page.wait_for_selector("#qa-question textarea", timeout=60_000)
    page.wait_for_function(
        "() => (document.querySelector('#qa-index-status')?.innerText || '').includes('Index:')",
        timeout=START_TIMEOUT_S * 1000,
    )
    yield page
    context.close()


@pytest.fixture(scope="module")
def timings():
    """Question-to-rendered-answer times measured by the tests, written out at the end."""
    measured: dict[str, float] = {}
    yield measured
    if measured:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "answer_times.json").write_text(json.dumps(measured, indent=2) + "\n")


def ask(page, question: str) -> dict:
    """Type ``question``, press Enter, wait for the reply; return what the reply shows."""
    finished = "#qa-chat .qa-query, #qa-chat .qa-error"
    before = page.locator(finished).count()
    page.fill("#qa-question textarea", question)
    t0 = time.perf_counter()
    page.press("#qa-question textarea", "Enter")
    page.wait_for_function(
        f"n => document.querySelectorAll({finished!r}).length > n", arg=before, timeout=ANSWER_TIMEOUT_MS,
    )
    seconds = time.perf_counter() - t0
    reply = page.locator("#qa-chat .qa-reply").last
    answer = reply.locator(".qa-answer-text")
    return {
        "seconds": seconds,
        "answer": answer.inner_text() if answer.count() else None,
        "text": reply.inner_text(),
        "query": reply.locator(".qa-query em").inner_text() if reply.locator(".qa-query").count() else None,
    }


def upload(page, path: Path) -> str:
    """Upload ``path`` through the Articles panel; return the upload note."""
    if not page.locator("#qa-upload input[type=file]").count():
        page.get_by_text("Articles", exact=True).first.click()
    page.set_input_files("#qa-upload input[type=file]", str(path))
    page.wait_for_function(
        "name => (document.querySelector('#qa-upload-note textarea')?.value || '').includes(name)",
        arg=path.name, timeout=ANSWER_TIMEOUT_MS,
    )
    return page.input_value("#qa-upload-note textarea")


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


# -- answers (need the trained reader) -------------------------------------------------------


def test_card_question_is_answered_13000_with_a_citation(page, trained_reader, timings):
    reply = ask(page, CARD_QUESTION)
    timings["card question"] = round(reply["seconds"], 2)
    screenshot(page, "chat-card-question.png")
    assert reply["answer"] and "13,000" in reply["answer"], reply["text"]
    assert "[1]" in reply["text"] and "paragraph" in reply["text"]
    assert "13,000" in page.locator("#qa-sources mark").first.inner_text()


def test_the_chat_shows_who_claims_each_figure(page, trained_reader):
    reply = ask(page, "How many North Korean soldiers are in Russia?")
    screenshot(page, "chat-claims.png")
    last = page.locator("#qa-chat .qa-reply").last
    claimants = last.locator(".qa-claimant").all_inner_texts()
    assert "The sources differ" in reply["text"], reply["text"]
    assert any("National Intelligence Service" in c for c in claimants), claimants
    assert len(claimants) >= 2
    marked = last.locator(".qa-statement mark").all_inner_texts()
    assert "1,500" in marked, marked
    card = ask(page, CARD_QUESTION)
    assert "The NIS" in page.locator("#qa-chat .qa-reply").last.locator(".qa-claimant").all_inner_texts(), card


def test_follow_ups_are_answered_in_the_context_of_the_conversation(page, trained_reader, timings):
    first = ask(page, FIRST)
    second = ask(page, SECOND)
    third = ask(page, THIRD)
    timings.update({"first": round(first["seconds"], 2), "follow-up 1": round(second["seconds"], 2),
                    "follow-up 2": round(third["seconds"], 2)})
    screenshot(page, "chat-follow-ups.png")
    assert first["answer"] and "1,500" in first["answer"], first["text"]
    assert second["answer"] and "12,000" in second["answer"], second["text"]
    assert third["answer"] and "November 1" in third["answer"], third["text"]
    assert second["query"].startswith(SECOND) and "North Korean" in second["query"]
    assert third["query"].startswith(THIRD) and "North Korean" in third["query"]


def test_an_uploaded_article_is_answerable_at_once(page, trained_reader, tmp_path):
    article = tmp_path / "varna-bridge.txt"
    article.write_text(BRIDGE_ARTICLE)
    note = upload(page, article)
    assert "added" in note, note
    assert "Varna river gets its first pedestrian bridge" in page.inner_text("#qa-article-list")
    reply = ask(page, "How long is the new pedestrian bridge over the Varna river?")
    assert reply["answer"] and "420" in reply["answer"], reply["text"]
    assert "Varna river gets its first pedestrian bridge" in page.inner_text("#qa-sources")


# -- the page itself (any reader) ------------------------------------------------------------


def test_script_in_an_article_or_a_question_is_never_run(page, tmp_path):
    original_title = page.title()
    note = upload_harbour_article(page, tmp_path)
    assert "added" in note or "already" in note, note
    ask(page, "How many ships did the harbour of Port Quill handle in April?")
    ask(page, "<img src=x onerror=\"window.__qa_pwned = 5\"> Who is the harbour master of Port Quill?")
    page.wait_for_timeout(500)
    screenshot(page, "chat-script-article.png")
    assert page.evaluate("() => window.__qa_pwned") is None
    assert page.title() == original_title
    # The list is refreshed when the index build that the upload started ends, which on a busy
    # machine can come after both answers (CI once saw the list without it).
    page.wait_for_function(
        "() => (document.querySelector('#qa-article-list')?.innerText || '').includes('<script>window.__qa_pwned = 1')",
        timeout=ANSWER_TIMEOUT_MS)
    assert "<script>window.__qa_pwned = 1" in page.inner_text("#qa-article-list")
    assert "<img src=x onerror=" in page.inner_text("#qa-chat")
    for panel in ("#qa-chat", "#qa-sources", "#qa-article-list"):
        assert page.locator(f"{panel} script, {panel} img").count() == 0


def test_script_in_a_cited_passage_is_shown_as_text(page, trained_reader, tmp_path):
    upload_harbour_article(page, tmp_path)
    reply = ask(page, "How many ships did the harbour of Port Quill handle in April?")
    assert reply["answer"] and "77" in reply["answer"], reply["text"]
    sources = page.inner_text("#qa-sources")
    assert "<script>window.__qa_pwned = 2</script>" in sources
    assert "**Not bold**" in sources and "${window.__qa_pwned = 4}" in sources
    assert page.evaluate("() => window.__qa_pwned") is None


def test_unusable_uploads_are_refused_with_a_message(page, tmp_path):
    binary = tmp_path / "photo.txt"
    binary.write_bytes(b"\x00\x01\x02\x03" * 100)
    assert "binary" in upload(page, binary)
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4 not an article")
    page.set_input_files("#qa-upload input[type=file]", str(pdf))
    page.wait_for_selector("text=Invalid file type", timeout=30_000)
    listed = page.inner_text("#qa-article-list")
    assert "photo.txt" not in listed and "report.pdf" not in listed


def test_an_article_can_be_removed_from_the_page(page, tmp_path):
    article = tmp_path / "kelp-festival.txt"
    article.write_text("Kelp festival postponed\n\nThe kelp festival of Port Quill moves to June.\n")
    assert "added" in upload(page, article)
    assert "Kelp festival postponed" in page.inner_text("#qa-article-list")
    choice = "Kelp festival postponed (kelp-festival.txt)"
    page.click("#qa-remove-choice input")
    page.get_by_role("option", name=choice).click()
    # The choice is sent with the click on Remove: wait until the dropdown holds it (on a loaded
    # machine the click can otherwise go out with the old, empty value).
    page.wait_for_function("label => document.querySelector('#qa-remove-choice input').value === label",
                           arg=choice, timeout=30_000)
    page.click("#qa-remove")
    page.wait_for_function(
        "() => /Removed|Choose an article|could not/.test(document.querySelector('#qa-upload-note textarea').value)",
        timeout=ANSWER_TIMEOUT_MS,
    )
    note = page.input_value("#qa-upload-note textarea")
    assert "Removed" in note, note
    # The list comes back with the same reply as the note.
    page.wait_for_function(
        "() => !document.querySelector('#qa-article-list').innerText.includes('Kelp festival')",
        timeout=30_000,
    )
    assert "North Korea" in page.inner_text("#qa-article-list")


def upload_harbour_article(page, tmp_path) -> str:
    """Upload the article with scripts in it, once per app (the corpus outlives a test)."""
    if not page.locator("#qa-upload input[type=file]").count():
        page.get_by_text("Articles", exact=True).first.click()
    page.wait_for_selector("#qa-article-list table")
    if "Harbour report" in page.inner_text("#qa-article-list"):
        return "already uploaded"
    article = tmp_path / "harbour.txt"
    article.write_text(SCRIPT_ARTICLE)
    return upload(page, article)


def test_each_session_has_its_own_history(browser, app_url, page):
    ask(page, FIRST)
    other = browser.new_context().new_page()
    try:
        other.goto(app_url)
        other.wait_for_selector("#qa-question textarea", timeout=60_000)
        assert other.locator("#qa-chat .qa-reply").count() == 0
        reply = ask(other, THIRD)
        assert reply["query"] == THIRD  # nothing from the first session's conversation
    finally:
        other.context.close()


def test_sessions_asking_at_the_same_time_get_their_own_answers(browser, app_url, page):
    other = browser.new_context().new_page()
    try:
        other.goto(app_url)
        other.wait_for_selector("#qa-question textarea", timeout=60_000)
        questions = {page: CARD_QUESTION, other: FIRST}
        for p, q in questions.items():
            p.fill("#qa-question textarea", q)
        for p in questions:
            p.press("#qa-question textarea", "Enter")
        for p, q in questions.items():
            p.wait_for_selector("#qa-chat .qa-query", timeout=ANSWER_TIMEOUT_MS)
            assert p.locator("#qa-chat .qa-query em").inner_text() == q
            assert p.locator("#qa-chat .qa-question").all_inner_texts() == [q]
    finally:
        other.context.close()


def test_new_topic_forgets_the_conversation(page):
    ask(page, FIRST)
    page.click("#qa-new-topic")
    page.wait_for_function("() => !document.querySelector('#qa-chat .qa-reply')")
    reply = ask(page, THIRD)
    assert reply["query"] == THIRD


def test_a_follow_up_shows_the_resolved_search_query(page):
    ask(page, FIRST)
    reply = ask(page, SECOND)
    assert reply["query"] == "And how many could eventually be sent? North Korean troops Russia"
    screenshot(page, "chat.png")


def test_the_last_search_query_can_be_edited_and_asked_again(page):
    ask(page, FIRST)
    resolved = ask(page, SECOND)["query"]
    page.click("#qa-edit-query")
    page.wait_for_function("q => document.querySelector('#qa-question textarea').value === q", arg=resolved)
    page.fill("#qa-question textarea", resolved.replace("Russia", "Russia's Kursk region"))
    page.press("#qa-question textarea", "Enter")
    page.wait_for_function("() => document.querySelectorAll('#qa-chat .qa-query').length >= 3",
                           timeout=ANSWER_TIMEOUT_MS)
    assert page.locator("#qa-chat .qa-query em").last.inner_text().endswith("Russia's Kursk region")
