"""qa's JSON HTTP API, served beside the chat page (`qa serve`): a thin layer over `Assistant`.

    POST   /api/ask                {"question": str, "history": [earlier answers]?} -> an answer's JSON
    GET    /api/articles           -> [{"id", "title", "path", "url", "date", "source", "chunks"}]
    POST   /api/articles           multipart upload, field "file" -> {"added": [article ids], "summary": str}
    DELETE /api/articles/{id}      -> {"removed": id, "summary": str}
    GET    /api/health             -> {"status": "ready" | "indexing" | "error", "index": str}

An answer's JSON is the one of ``qa ask --json`` (`qa.answer.Answer.to_dict`). ``history`` holds
the earlier answers of the conversation as this API returned them, oldest first, so a follow-up
("And how many could eventually be sent?") is resolved as in the chat. The OpenAPI description
is at ``/docs`` (and ``/openapi.json``).

Errors are JSON, ``{"detail": message}``, with the message the chat shows: 400 for an unusable
question or file (empty, too long, unsupported type), 404 for an unknown article, 413 for an upload over the
size limit, 422 for a body of the wrong shape, 503 while the index cannot be used yet, 500 (the
server log has the trace) for anything else.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, File, HTTPException, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from qa.answer import Answer, Turn
from qa.errors import InvalidInput, InvalidQuestion, QAError

log = logging.getLogger(__name__)

# A conversation this long is not a follow-up any more; the follow-up resolver reads the last few.
MAX_HISTORY = 50


class AskRequest(BaseModel):
    """The body of ``POST /api/ask``."""

    question: str = Field(description="the question (the same limits as the chat: at most 1000 "
                          "characters and the reader's token budget, 126 tokens by default)")
    history: list[dict[str, Any]] = Field(
        default_factory=list, max_length=MAX_HISTORY,
        description="earlier answers of this conversation as /api/ask returned them, oldest first",
    )
    articles: list[str] = Field(default_factory=list, description="search only these article ids")
    source: str | None = Field(default=None, description="search only articles of this source")
    since: str | None = Field(default=None, description="search only articles dated on or after YYYY-MM-DD")
    until: str | None = Field(default=None, description="search only articles dated on or before YYYY-MM-DD")


class ArticleChange(BaseModel):
    """What an upload or a removal did to the index."""

    summary: str = Field(description="the index update's summary")
    added: list[str] | None = Field(None, description="the ids of the articles the upload added "
                                    "(its file name; name-2.txt when the name was taken)")
    removed: str | None = None
    saved_as: str | None = Field(None, description="an upload: the corpus file it was saved as (name-2.txt "
                                 "when the name was taken)")


class Health(BaseModel):
    status: str = Field(description="ready, indexing (the start-up index update runs) or error")
    index: str = Field(description="the index update's progress, summary or error")


def add_api(app: FastAPI, assistant, job) -> None:
    """Add the ``/api`` routes to ``app``, answering through ``assistant``.

    ``job`` is the chat's start-up index update (`qa.chat.IndexJob`): questions wait for it, as
    in the chat, and ``/api/health`` reports it.
    """
    router = APIRouter(prefix="/api", tags=["qa"])

    def ready() -> None:
        job.finished.wait()

    @router.post("/ask", summary="Answer a question from the articles, with citations")
    def ask(body: AskRequest) -> dict:
        try:
            history = [Turn(a["question"], Answer.from_dict(a)) for a in body.history]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise HTTPException(422, "history: each item must be an answer as /api/ask returned it "
                                f"(missing or wrong field {exc})") from exc
        from qa.filters import Filters

        filters = _call(lambda: Filters(articles=tuple(body.articles), source=body.source,
                                        since=body.since, until=body.until)) or None
        ready()
        return _call(lambda: assistant.ask(body.question, history, filters=filters)).to_dict()

    @router.get("/articles", summary="The indexed articles, by title")
    def articles() -> list[dict]:
        ready()
        return [asdict(a) for a in _call(assistant.articles)]

    @router.post("/articles", summary="Upload an article and index it", response_model=ArticleChange,
                 response_model_exclude_none=True)
    async def upload(file: Annotated[UploadFile, File(description=".txt, .md, .html, .htm, .json or .jsonl")]):
        limit = assistant.settings.max_upload_bytes
        data = await file.read(limit + 1)  # no more than needed to know it is too large
        if len(data) > limit:
            raise HTTPException(413, f"{file.filename}: over the {limit / 2**20:.0f} MiB limit.")
        ready()
        report = await run_in_threadpool(_call, lambda: assistant.add_article(file.filename or "", data))
        job.record(report)
        return ArticleChange(added=report.added + report.updated, summary=report.summary(), saved_as=report.saved_as)

    @router.delete("/articles/{article_id:path}", summary="Remove an article (its file moves to "
                   "corpus/.removed/)", response_model=ArticleChange, response_model_exclude_none=True)
    def remove(article_id: str):
        ready()
        job.refresh_skipped()  # files another process's update could not use can go too
        known = {a.id for a in _call(assistant.articles)} | {path for path, _ in job.skipped}
        if article_id not in known:
            raise HTTPException(404, f"No indexed article has the id {article_id!r}.")
        report = _call(lambda: assistant.remove_article(article_id))
        job.record(report)
        return ArticleChange(removed=article_id, summary=report.summary())

    @router.get("/health", summary="Whether questions can be answered", response_model=Health,
                responses={503: {"model": Health, "description": "indexing, or the index failed"}})
    def health():
        from fastapi.responses import JSONResponse

        if job.error:
            status = "error"
        elif job.finished.is_set():
            return Health(status="ready", index=job.status())
        else:
            status = "indexing"
        return JSONResponse(Health(status=status, index=job.status()).model_dump(), status_code=503)

    app.include_router(router)

    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse

    @app.exception_handler(RequestValidationError)
    async def invalid_body(_request, exc: RequestValidationError):
        """A body of the wrong shape: one readable message, as every other error has."""
        for e in exc.errors():
            if e.get("type") == "json_invalid":  # FastAPI says "body.13: JSON decode error"
                where = next((p for p in e.get("loc", ()) if isinstance(p, int)), None)
                reason = (e.get("ctx") or {}).get("error") or "JSON decode error"
                at = f" at character {where}" if where is not None else ""
                return JSONResponse({"detail": f"The request body is not valid JSON ({reason}{at}); send an "
                                               'object such as {"question": "..."}'}, status_code=422)
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body')}: {e.get('msg', '')}"
                             for e in exc.errors())
        return JSONResponse({"detail": f"Invalid request: {problems}"}, status_code=422)


def _call(fn):
    """``fn()``, with qa's errors as HTTP errors carrying the message the chat shows."""
    try:
        return fn()
    except (InvalidQuestion, InvalidInput) as exc:
        raise HTTPException(400, str(exc)) from exc
    except QAError as exc:  # no articles, an index or model problem: the server cannot answer
        raise HTTPException(503, str(exc)) from exc
    except Exception as exc:  # noqa: BLE001 - the client gets a message, the log the trace
        log.exception("API call failed")
        raise HTTPException(500, "Something went wrong; see the server log.") from exc
    except BaseException as exc:  # a tokenizer's PanicException is not an Exception
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        log.exception("API call failed")
        raise HTTPException(500, "Something went wrong; see the server log.") from exc
