"""qa's chat page: questions about the articles, answered with citations (gradio).

    qa serve [--corpus DIR] [--index DIR] [--host H] [--port N] [--share]   (or python app.py ...)

The JSON HTTP API (`qa.api`) is served by the same server.

Rendering only: every answer comes from one shared `qa.assistant.Assistant` (models are loaded
once, for all browser sessions); each session keeps its own conversation in a `gr.State`, so
sessions never see each other's history. The HTML comes from `qa.render`, which escapes all
article text. On start the index is brought up to date in the background while the page shows
the progress; questions asked meanwhile wait for it.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

log = logging.getLogger("qa.chat")

TITLE = "qa: questions about the news, answered from the articles"
EXAMPLES = [
    "How many containers of munitions has North Korea shipped to Russia?",
    "How many North Korean troops have already arrived in Russia?",
]

CSS = """
.qa-reply p { margin: 0.25em 0; }
.qa-answer-text { font-size: 1.15em; }
.qa-ref { font-size: 0.8em; vertical-align: super; margin-left: 0.1em; color: var(--link-text-color); }
.qa-confidence, .qa-muted, .qa-query, .qa-timings { color: var(--body-text-color-subdued); font-size: 0.9em; }
.qa-citations { margin: 0.25em 0 0.25em 1.2em; font-size: 0.9em; }
.qa-not-found { font-weight: 600; }
.qa-hedge { font-style: italic; }
.qa-tentative .qa-confidence { color: var(--error-text-color); }
.qa-error { color: var(--error-text-color); }
.qa-source { border-left: 3px solid var(--color-accent); padding: 0.3em 0.6em; margin-bottom: 0.8em; }
.qa-source-alternative { border-left-color: var(--border-color-primary); }
.qa-passage { margin: 0.3em 0 0 0; font-size: 0.9em; line-height: 1.45; }
.qa-passage mark { background: #ffe066; color: #000; padding: 0 0.1em; }
.qa-articles { width: 100%; font-size: 0.9em; }
.qa-articles td, .qa-articles th { padding: 0.2em 0.4em; text-align: left; }
a.qa-ref { text-decoration: none; cursor: pointer; }
.qa-mark-num { font-size: 0.75em; color: var(--link-text-color); margin-left: 0.1em; }
.qa-mark-alternative { background: #e0e7ff !important; }
.qa-scope { margin-left: 0.4em; padding: 0 0.3em; border: 1px solid var(--border-color-primary); border-radius: 4px; }
.qa-flash { animation: qa-flash 2s ease-out; }
@keyframes qa-flash { 0% { background: #ffe066; } 100% { background: transparent; } }
.qa-skipped { font-size: 0.9em; color: var(--error-text-color); margin: 0.3em 0; }
.qa-note { font-size: 0.9em; color: var(--error-text-color); margin: 0.2em 0; }
"""


@dataclass
class IndexJob:
    """The start-up index update, run in a thread; the page polls `status()`."""

    stage: str = "starting"
    done: int = 0
    total: int = 0
    summary: str = ""
    error: str = ""
    skipped: list = field(default_factory=list)  # (file, reason) the last update could not index
    finished: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.monotonic)
    assistant: Any = None  # set by `run`: whose index the summary is of
    generation: str | None = None  # the index generation the summary describes

    def progress(self, stage: str, done: int, total: int) -> None:
        self.stage, self.done, self.total = stage, done, total

    def status(self) -> str:
        """One line: the build's stage with its figures and time so far, or the last summary
        (its first line: the skipped files are listed once, in the articles panel)."""
        if self.error:
            return f"⚠ {self.error}"
        if self.finished.is_set():
            current = self._current_index()
            if current is not None and self.generation and current.get("generation") != self.generation:
                # Another process (`qa index`, another server) committed a newer index since.
                return index_state(current)
            return self.summary.split("\n", 1)[0]
        return f"Building the index: {self.progress_text()}"

    def _current_index(self) -> dict | None:
        """The manifest of the index questions are answered from now (None: not known)."""
        from qa.errors import QAError

        if self.assistant is None:
            return None
        try:
            return self.assistant.snapshot().manifest
        except QAError:
            return None

    def progress_text(self) -> str:
        """``embedding passages 384/1,200 (32%), 12 s``."""
        from qa.indexer import STAGES

        stage = STAGES.get(self.stage, self.stage)
        elapsed = f"{time.monotonic() - self.started:.0f} s"
        if self.total:
            return f"{stage} {self.done:,}/{self.total:,} ({100 * self.done // self.total}%), {elapsed}…"
        return f"{stage}, {elapsed}…"

    def refresh_skipped(self) -> None:
        """The skipped files as the last index update recorded them, whichever process ran it
        (`qa index` beside the page, another server): `qa.stores.generations.recorded_skipped`."""
        from qa.stores.generations import recorded_skipped

        if self.assistant is not None and self.finished.is_set():
            recorded = recorded_skipped(self.assistant.settings.index_dir)
            if recorded is not None:
                self.skipped = recorded

    def record(self, report) -> None:
        """An index update succeeded: show its summary, offer its skipped files for removal."""
        self.summary, self.error, self.skipped = report.summary(), "", list(report.skipped)
        current = self._current_index()
        self.generation = current.get("generation") if current else None

    def run(self, assistant) -> None:
        from qa.errors import QAError

        self.assistant = assistant
        try:
            report = assistant.index(progress=self.progress)
            self.record(report)
            log.info("%s", self.summary)
            self.progress("loading the models", 0, 0)
            assistant.warm_up()
        except QAError as exc:
            self.error = str(exc)
            log.error("%s", exc)
        except BaseException as exc:  # noqa: BLE001 - shown on the page, logged in full
            # BaseException: the tokenizers' PanicException is not an Exception.
            self.error = f"Building the index failed: {exc}"
            log.exception("index build failed")
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
        finally:
            self.finished.set()


# How often the page asks whether the index changed, once it is built (seconds).
POLL_SECONDS = 5.0


def index_state(manifest: dict) -> str:
    """One line on an index that another process updated: what it holds and when."""
    articles, chunks = len(manifest.get("articles", {})), manifest.get("chunks", 0)
    updated = str(manifest.get("updated", "")).replace("T", " ")[:16]
    return (f"Index: {articles} article{'s' if articles != 1 else ''}, {chunks} chunk{'s' if chunks != 1 else ''}; "
            f"updated {updated} UTC by another process (qa index or another server).")


@dataclass
class Conversation:
    """One browser session's chat: the turns the assistant resolves follow-ups against, and
    the messages shown."""

    turns: list = field(default_factory=list)
    messages: list = field(default_factory=list)
    refused: str = ""  # the last question, when it was refused: it goes back in the box
    # "New topic" replaced this conversation while an answer was on its way: that answer is
    # dropped, not written back over the new, empty chat.
    retired: bool = False
    # When the question being answered was sent (time.monotonic()), 0.0 when none is: the next
    # one waits in the box. Ten minutes on, it is taken as lost (a dropped connection).
    busy: float = 0.0


def build_app(assistant, job: IndexJob):
    """The gradio Blocks of the chat page over ``assistant``."""
    import gradio as gr

    from qa import render
    from qa.answer import Turn
    from qa.assistant import upload_name
    from qa.errors import InvalidInput, InvalidQuestion, QAError
    from qa.filters import Filters
    from qa.filters import sources as source_names

    def article_choices():
        # Files the index skipped are listed too, so the page can take out a file it cannot use.
        skipped = [(f"{path} (not indexed: {reason})", path) for path, reason in job.skipped]
        try:
            return [(f"{a.title} ({a.path})", a.id) for a in assistant.articles()] + skipped
        except QAError:
            return skipped

    def article_table():
        # Files the last update could not index are said here, once (not in every note).
        skipped = "".join(render.message_html(f"Not indexed: {path}: {reason}", "skipped")
                          for path, reason in job.skipped)
        try:
            return skipped + render.articles_html(assistant.articles())
        except QAError as exc:
            return skipped + render.message_html(str(exc))

    def index_status():
        return render.message_html(job.status(), "error" if job.error else "muted")

    NO_NOTE = gr.update(value="", visible=False)  # the note under the box, gone

    def show_question(question: str, conv: Conversation):
        question = (question or "").strip()
        if not question:
            return gr.skip(), conv, conv.messages, "", gr.skip(), NO_NOTE
        limit = assistant.settings.max_question_chars
        if len(question) > limit:
            # Kept in the box, to be shortened and sent again; the panel no longer shows the
            # previous answer's passages as if they belonged to this question.
            note = (f"Your question is {len(question):,} characters long; the limit is {limit:,}. "
                    "Shorten it in the box and ask again.")
            conv.messages = conv.messages + [{"role": "assistant", "content": render.message_html(note)}]
            return gr.skip(), conv, conv.messages, "", render.sources_html(None), NO_NOTE
        if conv.busy and time.monotonic() - conv.busy < 600:
            # One question at a time: an answer replaces its own "Searching..." line, and a
            # follow-up needs the answer before it. The question stays in the box, and the note
            # under it says why (on the page: a toast needs the queue, which this step skips).
            note = "Still answering your last question; this one stays in the box: send it when the reply is there."
            return gr.skip(), conv, gr.skip(), "", gr.skip(), gr.update(value=render.note_html(note), visible=True)
        conv.busy = time.monotonic()
        waiting = ("Searching the articles…" if job.finished.is_set()
                   else f"Waiting for the index ({job.progress_text()}); your question is answered as soon as it is ready.")
        conv.messages = conv.messages + [
            {"role": "user", "content": render.question_html(question)},
            {"role": "assistant", "content": render.message_html(waiting, "muted")},
        ]
        return "", conv, conv.messages, question, gr.skip(), NO_NOTE

    def answer(question: str, conv: Conversation, articles_in: list | None = None, source: str = "",
               since: str = "", until: str = ""):
        if not question:
            yield gr.skip(), gr.skip(), gr.skip()
            return
        try:
            for shown in _answer(question, conv, articles_in, source, since, until):
                if conv.retired:
                    yield gr.skip(), gr.skip(), gr.skip()
                    return
                yield shown
        finally:
            conv.busy = 0.0

    def _answer(question: str, conv: Conversation, articles_in: list | None, source: str, since: str, until: str):
        conv.refused = ""
        while not job.finished.wait(1.0):
            note = f"Waiting for the index ({job.progress_text()}); your question is answered as soon as it is ready."
            conv.messages = conv.messages[:-1] + [{"role": "assistant", "content": render.message_html(note, "muted")}]
            yield conv, conv.messages, gr.skip()
        sources = gr.skip()
        try:
            scope = Filters(articles=tuple(articles_in or ()), source=source or None, since=since or None,
                            until=until or None)
            result = assistant.ask(question, conv.turns, filters=scope or None)  # says what is wrong
        except (InvalidQuestion, InvalidInput) as exc:
            # Not asked (the question, or the scope: a bad date): the question goes back in the
            # box, to be corrected and sent again.
            reply, conv.refused, sources = render.message_html(str(exc)), question, render.sources_html(None)
        except QAError as exc:
            reply = render.message_html(str(exc))
        except BaseException as exc:  # noqa: BLE001 - the user gets a message, the log the trace
            # BaseException: a tokenizer's PanicException is not an Exception, and an uncaught
            # one would leave the reply hanging forever.
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            log.exception("ask failed for %r", question)
            reply = render.message_html("Something went wrong while answering; see the server log.")
        else:
            conv.turns = conv.turns + [Turn(question, result)]
            reply = render.reply_html(result)
            sources = render.sources_html(result)
        conv.messages = conv.messages[:-1] + [{"role": "assistant", "content": reply}]
        yield conv, conv.messages, sources

    def restore_refused(conv: Conversation):
        """A refused question back in the box (a separate step: /answer's outputs stay), and the
        note under the box cleared once no answer is on its way."""
        return conv.refused or gr.skip(), gr.skip() if conv.busy else NO_NOTE

    def new_topic(conv: Conversation | None = None):
        if conv is not None:
            conv.retired = True  # an answer still on its way belongs to the old topic
        # The box is left as it is: a question typed meanwhile is for the new topic.
        return Conversation(), [], render.sources_html(None), gr.skip()

    def edit_query(conv: Conversation):
        """Put the last search query in the question box, to correct it and ask again."""
        return conv.turns[-1].answer.query if conv.turns else gr.skip()

    def upload(paths):
        notes = []
        for path in paths or []:
            name = Path(path).name
            try:
                report = assistant.add_article(name, Path(path).read_bytes())
                job.record(report)
                saved = report.saved_as or upload_name(name)
                versioned = (f" A different file named {name} is already in the articles; this one is "
                             f"kept beside it as {saved}." if saved != upload_name(name) else "")
                notes.append(f"{name}: added.{versioned} {job.status()}")
            except QAError as exc:
                notes.append(str(exc))
            except Exception:  # noqa: BLE001 - the user gets a message, the log the trace
                log.exception("upload of %s failed", name)
                notes.append(f"{name}: could not be added; see the server log.")
        return ("\n".join(notes), None, article_table(),
                gr.Dropdown(choices=article_choices(), value=None), index_status(), *scope_choices())

    def remove(article_id: str | None):
        if not article_id:
            return "Choose an article to remove.", gr.skip(), gr.skip(), gr.skip()
        try:
            report = assistant.remove_article(article_id)
            job.record(report)
            note = f"Removed {article_id}. {job.status()}"
        except QAError as exc:
            note = str(exc)
        return (note, article_table(), gr.Dropdown(choices=article_choices(), value=None),
                index_status())

    def scope_choices():
        """Choices of the scope controls: the indexed articles and their sources."""
        try:
            infos = assistant.articles()
        except QAError:
            infos = []
        return (gr.Dropdown(choices=[(f"{a.title} ({a.date or 'no date'})", a.id) for a in infos]),
                gr.Dropdown(choices=[("any source", "")] + [(x, x) for x in source_names(infos)]))

    def page_state(status: str) -> str:
        """What the status line and the article lists show, to tell when they must change. A
        file another process could not index changes no index data, only the skipped list."""
        job.refresh_skipped()
        return f"{status}\n{job.skipped!r}"

    def load_page():
        ready = job.finished.is_set()
        state = page_state(index_status()) if ready else ""
        return (index_status(), article_table(), gr.Dropdown(choices=article_choices()),
                *(scope_choices() if ready else (gr.skip(), gr.skip())), state)

    def poll_index(shown: str):
        """Every second while the index builds, then every few seconds: another process (``qa
        index``, another server) may commit a newer index, and the status line and the articles
        must say so. Lists are re-rendered only when the status line changes (``shown``: what
        this page shows), so a choice being made in them is not reset."""
        status = index_status()
        if not job.finished.is_set():
            return status, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip(), shown
        state = page_state(status)
        if state == shown:
            return gr.skip(), gr.skip(), gr.skip(), gr.Timer(POLL_SECONDS), gr.skip(), gr.skip(), shown
        return (status, article_table(), gr.Dropdown(choices=article_choices()), gr.Timer(POLL_SECONDS),
                *scope_choices(), state)

    with gr.Blocks(title="qa", analytics_enabled=False) as demo:
        conv = gr.State(Conversation())
        pending = gr.State("")
        gr.Markdown(f"## {TITLE}")
        status = gr.HTML(render.message_html(job.status(), "muted"), elem_id="qa-index-status",
                         js_on_load=None)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Chat", elem_id="qa-chat", height=560, latex_delimiters=[],
                    feedback_options=None, buttons=["copy"], layout="bubble",
                    placeholder="Ask a question about the articles. Answers quote them, with citations.",
                )
                with gr.Row():
                    question = gr.Textbox(
                        show_label=False, placeholder="Ask a question…", elem_id="qa-question",
                        scale=6, max_lines=4, autofocus=True,
                    )
                    ask_btn = gr.Button("Ask", variant="primary", elem_id="qa-ask", scale=1, min_width=80)
                note = gr.HTML("", elem_id="qa-note", js_on_load=None, container=False, padding=False,
                               visible=False)
                with gr.Row():
                    new_btn = gr.Button("New topic", elem_id="qa-new-topic", size="sm")
                    edit_btn = gr.Button("Edit the last search query", elem_id="qa-edit-query", size="sm")
                with gr.Accordion("Scope: ask only some articles", open=False, elem_id="qa-scope"):
                    with gr.Row():
                        scope_source = gr.Dropdown(label="Source", choices=[("any source", "")], value="",
                                                   elem_id="qa-scope-source", scale=2)
                        scope_since = gr.Textbox("", label="From (YYYY-MM-DD)", elem_id="qa-scope-since", scale=1)
                        scope_until = gr.Textbox("", label="To (YYYY-MM-DD)", elem_id="qa-scope-until", scale=1)
                    scope_articles = gr.Dropdown(label="Articles (none chosen: all)", choices=[], value=[],
                                                 multiselect=True, elem_id="qa-scope-articles")
                gr.Examples(EXAMPLES, inputs=[question], label="Try")
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML(render.sources_html(None), elem_id="qa-sources", js_on_load=None,
                                  max_height=760)
        with gr.Accordion("Articles", open=False, elem_id="qa-articles-panel"):
            gr.Markdown(
                "Upload .txt (first line is the title), .md, .html, .json or .jsonl articles, "
                f"up to {assistant.settings.max_upload_bytes / 2**20:.0f} MiB each. They are indexed "
                "at once and can be asked about straight away."
            )
            files = gr.File(
                label="Add articles", file_count="multiple", elem_id="qa-upload",
                file_types=[".txt", ".md", ".html", ".htm", ".json", ".jsonl"], type="filepath",
            )
            upload_note = gr.Textbox(label="Upload and index", interactive=False, elem_id="qa-upload-note")
            articles = gr.HTML(article_table() if job.finished.is_set() else "", elem_id="qa-article-list",
                               js_on_load=None)
            with gr.Row():
                to_remove = gr.Dropdown(label="Article to remove", choices=[], elem_id="qa-remove-choice",
                                        scale=4)
                remove_btn = gr.Button("Remove", variant="stop", elem_id="qa-remove", scale=1)
        timer = gr.Timer(1.0 if not job.finished.is_set() else POLL_SECONDS)
        shown_status = gr.State("")

        ask_events = [question.submit, ask_btn.click]
        for event in ask_events:
            event(show_question, [question, conv], [question, conv, chatbot, pending, sources, note],
                  queue=False).then(
                answer, [pending, conv, scope_articles, scope_source, scope_since, scope_until],
                [conv, chatbot, sources], concurrency_limit=4, show_progress="hidden",
                # A question asked in a new topic while the old topic's answer is still on its
                # way is answered too (the default, "once", dropped it: "Searching..." forever).
                trigger_mode="multiple",
            ).then(restore_refused, [conv], [question, note], queue=False)
        new_btn.click(new_topic, [conv], [conv, chatbot, sources, question], queue=False)
        edit_btn.click(edit_query, [conv], [question], queue=False)
        chatbot.clear(new_topic, [conv], [conv, chatbot, sources, question], queue=False)
        files.upload(upload, [files], [upload_note, files, articles, to_remove, status, scope_articles, scope_source])
        remove_btn.click(remove, [to_remove], [upload_note, articles, to_remove, status])
        timer.tick(poll_index, [shown_status],
                   [status, articles, to_remove, timer, scope_articles, scope_source, shown_status], queue=False)
        demo.load(load_page, None, [status, articles, to_remove, scope_articles, scope_source, shown_status],
                  queue=False)
    return demo


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog or "qa serve", description="qa's chat page: ask questions about the articles in a "
        "browser, and the JSON HTTP API (/api/ask, /api/articles, /api/health; described at /docs) "
        "on the same server.",
    )
    add_serve_options(parser)
    parser.add_argument("-v", "--verbose", action="store_true", help="show debug logging")
    return parser


def add_serve_options(parser: argparse.ArgumentParser) -> None:
    """The options of `qa serve` (and app.py): the corpus and models, where to listen."""
    from qa.cli import add_common_options

    add_common_options(parser)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=7860, help="port (default: 7860)")
    parser.add_argument("--share", action="store_true",
                        help="also open a public gradio share link (off by default)")


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """``python app.py ...``: the same as ``qa serve ...``."""
    return serve(build_parser(prog).parse_args(argv))


def serve(args: argparse.Namespace) -> int:
    """Serve the chat page and the HTTP API until interrupted (``args``: `add_serve_options`)."""
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("faiss", "httpx", "transformers", "sentence_transformers", "uvicorn.error"):
        logging.getLogger(noisy).setLevel(logging.WARNING)  # e.g. faiss's "no AVX2 module" probe
    import gradio as gr

    from qa import render
    from qa.api import add_api
    from qa.assistant import Assistant
    from qa.cli import settings_from, version

    assistant = Assistant(settings_from(args))
    job = IndexJob()
    threading.Thread(target=job.run, args=(assistant,), name="qa-index", daemon=True).start()
    _log_progress(job)
    demo = build_app(assistant, job).queue(default_concurrency_limit=4)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("Serving on %s: other machines can reach this page.", args.host)
    theme = gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"],
                              font_mono=["ui-monospace", "monospace"])
    page = dict(css=CSS, theme=theme, max_file_size=assistant.settings.max_upload_bytes,
                show_error=False, footer_links=[],
                js=f"() => {{ {render.SCRIPT} }}")  # run once on load: [n] in a reply scrolls to its source
    url = f"http://{args.host if ':' not in args.host else f'[{args.host}]'}:{args.port}"
    if args.share:
        # A share link exists only through gradio's own server (launch); the API joins its app.
        _, url, share_url = demo.launch(server_name=args.host, server_port=args.port, share=True,
                                        prevent_thread_lock=True, quiet=True,
                                        app_kwargs={"docs_url": "/docs"}, **page)
        add_api(demo.app, assistant, job)
        log.info("Serving the chat on %s and %s; HTTP API under /api, described at /docs.", url, share_url)
        demo.block_thread()
        return 0
    import uvicorn
    from fastapi import FastAPI

    import qa.api

    app = FastAPI(title="qa", version=version(), description=(qa.api.__doc__ or "").strip())
    add_api(app, assistant, job)
    app = gr.mount_gradio_app(app, demo, path="/", server_name=args.host, server_port=args.port, **page)
    log.info("Serving the chat on %s/ ; HTTP API under %s/api, described at %s/docs "
             "(--share for a public link). Ctrl-C stops it.", url, url, url)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _log_progress(job: IndexJob) -> None:
    """Echo the index build's progress on the terminal too."""

    def loop():
        last = ""
        while not job.finished.wait(2.0):
            if job.status() != last:
                last = job.status()
                print(last, file=sys.stderr, flush=True)
        if job.status() != last:  # the summary, unless the loop has just printed it
            print(job.status(), file=sys.stderr, flush=True)

    threading.Thread(target=loop, name="qa-index-log", daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
