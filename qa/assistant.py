"""The one API that the CLI, the batch script and the web UI call.

``Assistant(settings).ask(question, history)`` retrieves passages, reads answer spans in them,
merges the same answer found in several places, and returns an `Answer` whose every claim is a
span of an article with its citation. When sources disagree the other answers come back as
alternatives with their own citations; when the best span is not convincing the answer says it
is not in the articles.

Construction is cheap (no model loads); models load on first use, once, and are shared by all
threads (the web UI serves several sessions from one Assistant). Index updates build a new
snapshot and swap it in, so questions keep being answered from the old one meanwhile.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from qa.answer import Answer, Candidate, Citation, RetrievedPassage, Turn
from qa.chunking import sentence_spans
from qa.corpus import UnusableFile, clean_unicode, find_file, paragraph_number, read_file
from qa.embedding import Embedder
from qa.errors import InvalidInput, InvalidQuestion
from qa.evaluation import normalize_answer
from qa.indexer import IndexReport, Progress, open_index, update_index
from qa.reader import Reader, ReaderOutput
from qa.retrieval import Passage, Retriever
from qa.settings import Settings
from qa.store import ArticleInfo, IndexSnapshot

log = logging.getLogger(__name__)

UPLOAD_SUFFIXES = (".txt", ".md", ".html", ".htm", ".json", ".jsonl")


class Assistant:
    """Question answering over the articles of ``settings.corpus_dir``."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()
        s = self.settings
        self.embedder = Embedder(s.embedding_model, batch_size=s.embedding_batch_size)
        self.retriever = Retriever(self.embedder, top_k=s.top_k)
        self.reader = Reader(
            s.reader_model, max_length=s.reader_max_length, stride=s.reader_stride,
            batch_size=s.reader_batch_size, max_answer_tokens=s.max_answer_tokens,
            precision=s.reader_precision,
        )
        self._snapshot: IndexSnapshot | None = None
        self._lock = threading.RLock()
        if s.threads:
            import torch

            torch.set_num_threads(s.threads)

    # -- models and index -------------------------------------------------------------------

    def warm_up(self) -> None:
        """Load both models now rather than on the first question."""
        self.embedder.warm_up()
        self.reader.warm_up()

    def index(self, progress: Progress | None = None, rebuild: bool = False) -> IndexReport:
        """Bring the index up to date with the corpus folder (incrementally unless ``rebuild``)."""
        with self._lock:
            snapshot, report = update_index(self.settings, self.embedder, progress, rebuild)
            self._snapshot = snapshot
            return report

    def snapshot(self, progress: Progress | None = None) -> IndexSnapshot:
        """The loaded index; opened from disk, or built from the corpus on first use."""
        snap = self._snapshot
        if snap is not None:
            return snap
        with self._lock:
            if self._snapshot is None:
                snap = open_index(self.settings, self.embedder)
                if snap is None:
                    log.warning(
                        "No index in %s yet: building it from the articles in %s (first use).",
                        self.settings.index_dir, self.settings.corpus_dir,
                    )
                    report = self.index(progress)
                    log.warning("%s", report.summary())
                else:
                    self._snapshot = snap
            return self._snapshot

    def articles(self) -> list[ArticleInfo]:
        """The indexed articles, by title."""
        return self.snapshot().articles()

    def add_article(self, filename: str, data: bytes) -> IndexReport:
        """Save an uploaded article into the corpus folder and index it.

        The file is parsed before it is saved, so a broken upload never lands in the corpus;
        an existing file of the same name is never overwritten.
        """
        name = Path(filename or "").name
        stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(name).stem).strip(".-") or "article"
        suffix = Path(name).suffix.lower()
        if suffix not in UPLOAD_SUFFIXES:
            raise InvalidInput(
                f"{name or 'The file'}: unsupported type. Upload one of: {', '.join(UPLOAD_SUFFIXES)}."
            )
        limit = self.settings.max_upload_bytes
        if len(data) > limit:
            raise InvalidInput(f"{name}: {len(data) / 1e6:.1f} MB is over the {limit / 1e6:.0f} MB limit.")
        with tempfile.TemporaryDirectory() as tmp:
            probe = Path(tmp) / (stem + suffix)
            probe.write_bytes(data)
            try:
                read_file(probe, probe.name, limit)
            except UnusableFile as exc:
                raise InvalidInput(f"{name}: {exc}.") from exc
        with self._lock:
            corpus = Path(self.settings.corpus_dir)
            corpus.mkdir(parents=True, exist_ok=True)
            target = corpus / (stem + suffix)
            n = 2
            while target.exists():
                target = corpus / f"{stem}-{n}{suffix}"
                n += 1
            target.write_bytes(data)
            # An upload that cannot be indexed must not stay in corpus/: unindexed, it would
            # fail every later index update (and upload) too.
            try:
                report = self.index()
            except Exception as exc:  # noqa: BLE001 - any failure: the upload is refused, named
                target.unlink(missing_ok=True)
                raise InvalidInput(f"{name} was not added: indexing failed ({exc}).") from exc
            reason = next((why for path, why in report.skipped if path == target.name), None)
            if reason is not None:  # read by the probe, yet skipped: the index is without it
                target.unlink(missing_ok=True)
                raise InvalidInput(f"{name} was not added: {reason}.")
            return report

    def remove_article(self, article_id: str) -> IndexReport:
        """Take an article out of the index. Its file moves to ``corpus/.removed/`` (kept, not
        deleted, and ignored by indexing) so nothing is lost.

        ``article_id`` may also be the path of a corpus file that indexing skipped (see
        `IndexReport.skipped`), so a file that cannot be indexed can be taken out the same way.
        When the index update fails, the file is put back.
        """
        with self._lock:
            corpus = Path(self.settings.corpus_dir)
            info = next((a for a in self.articles() if a.id == article_id), None)
            if info is not None and info.id != info.path:
                raise InvalidInput(
                    f"{article_id!r} is one record of {info.path}; edit that file to remove it."
                )
            rel = info.path if info is not None else article_id
            source = find_file(corpus, rel)
            if source is None:
                if info is None:
                    raise InvalidInput(f"No indexed article and no corpus file has the id {article_id!r}.")
                raise InvalidInput(f"The file of {article_id!r} is no longer in {corpus}.")
            trash = corpus / ".removed"
            trash.mkdir(exist_ok=True)
            dest = trash / source.name
            if dest.exists():
                dest = trash / f"{time.strftime('%Y%m%d-%H%M%S')}-{source.name}"
            shutil.move(source, dest)
            try:
                return self.index()
            except BaseException:
                shutil.move(dest, source)  # the article is still indexed: keep its file too
                raise

    # -- answering --------------------------------------------------------------------------

    def ask(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        """Answer ``question`` from the articles, citing where the answer was read.

        ``history`` holds the earlier turns of the conversation: a follow-up ("And when?") is
        resolved against it into a standalone search query (`Answer.query`).

        Raises:
            InvalidQuestion: empty, longer than ``settings.max_question_chars``, or longer in
                tokens than the reader's window allows (`qa.reader.Reader.question_budget`).
            NoArticles / IndexProblem / ModelProblem: with what to do about it.
        """
        question = self._check_question(question)
        t0 = time.perf_counter()
        snapshot = self.snapshot()
        query = resolve_query(question, history)
        t1 = time.perf_counter()
        passages = self.retriever.retrieve(snapshot, query)
        t2 = time.perf_counter()
        # The reader reads the resolved query: "And how many could eventually be sent?" alone
        # does not say what is sent (measured on the sample article: the right span's confidence
        # 0.33 from the question as typed, 0.39 from the resolved query).
        output = self.reader.read(query, [p.text for p in passages])
        t3 = time.perf_counter()
        answer = self._compose(snapshot, question, query, passages, output)
        t4 = time.perf_counter()
        timings = {
            "resolve": (t1 - t0) * 1000, "retrieve": (t2 - t1) * 1000,
            "read": (t3 - t2) * 1000, "compose": (t4 - t3) * 1000, "total": (t4 - t0) * 1000,
        }
        return _replace_timings(answer, timings)

    def _check_question(self, question: str) -> str:
        """The question, cleaned (see `qa.corpus.clean_unicode`: half an emoji becomes U+FFFD,
        control characters go) and checked; raises `InvalidQuestion` with what to do."""
        if not isinstance(question, str) or not question.strip():
            raise InvalidQuestion("The question is empty. Type a question about the articles.")
        question = " ".join(clean_unicode(question).split())
        if not question:
            raise InvalidQuestion("The question is empty. Type a question about the articles.")
        limit = self.settings.max_question_chars
        if len(question) > limit:  # checked first: tokenizing megabytes is slow
            raise InvalidQuestion(
                f"The question is {len(question)} characters long; the limit is {limit}. "
                "Ask a shorter, single question."
            )
        self.reader.check_question(question)
        return question

    def _compose(
        self, snapshot: IndexSnapshot, question: str, query: str,
        passages: list[Passage], output: ReaderOutput,
    ) -> Answer:
        """Turn reader spans into candidates: merge equal answers, drop overlapping variants,
        and decide between an answer and "not in the articles"."""
        s = self.settings
        texts: dict[str, str] = {}

        def cite(passage: Passage, start: int, end: int) -> Citation:
            rec = passage.record
            if rec.chunk.article_id not in texts:
                texts[rec.chunk.article_id] = snapshot.article_text(rec.chunk.article_id)
            a_start = rec.chunk.start + start
            return Citation(
                article_id=rec.chunk.article_id, title=rec.title, start=a_start,
                end=rec.chunk.start + end, passage=rec.chunk.text, passage_start=rec.chunk.start,
                chunk_id=rec.chunk.id, paragraph=paragraph_number(texts[rec.chunk.article_id], a_start),
                url=rec.url, date=rec.date, source=rec.source,
            )

        groups: dict[str, dict] = {}
        for span in output.spans:
            key = normalize_answer(span.text)
            if not key:
                continue
            conf = self.reader.confidence(span)
            passage = passages[span.context_index]
            g = groups.setdefault(key, {"text": span.text, "score": conf, "places": {}})
            if conf > g["score"]:
                g["score"], g["text"] = conf, span.text
            place = (passage.record.chunk.article_id, passage.record.chunk.start + span.start,
                     passage.record.chunk.start + span.end)
            if place not in g["places"] or g["places"][place][0] < conf:
                g["places"][place] = (conf, passage, span)
        ranked = sorted(groups.values(), key=lambda g: g["score"], reverse=True)

        kept: list[Candidate] = []
        claimed: list[tuple[str, int, int]] = []
        for g in ranked:
            places: list = []
            for place, value in sorted(g["places"].items(), key=lambda kv: -kv[1][0]):
                if not any(_overlaps(place, p) for p, _ in places):
                    places.append((place, value))  # one citation per place in the article
            if any(_overlaps(p, c) for p, _ in places for c in claimed):
                # A variant of an answer already kept ("13,000" / "as many as 13,000"), or a
                # fragment of the very sentence it was read from ("many"): not another report.
                continue
            citations = tuple(cite(passage, span.start, span.end) for _, (_, passage, span) in places)
            kept.append(Candidate(g["text"], g["score"], citations))
            claimed.extend(_sentence_of(place, passage) for place, (_, passage, _) in places)
            if len(kept) > s.max_alternatives:
                break

        retrieved = tuple(
            RetrievedPassage(p.record.chunk.article_id, p.record.title, p.record.chunk.id,
                             p.record.chunk.start, p.record.chunk.end, p.text, p.similarity)
            for p in passages
        )
        threshold = self.no_answer_threshold
        best = kept[0] if kept else None
        if best is None or best.score < threshold:
            return Answer(question=question, query=query, answer=None, found=False,
                          score=best.score if best else 0.0, passages=retrieved, best_guess=best)
        floor = max(s.min_alternative_ratio * best.score, s.min_alternative_score)
        alternatives = tuple(c for c in kept[1:] if c.score >= floor)[: s.max_alternatives]
        return Answer(
            question=question, query=query, answer=best.answer, found=True, score=best.score,
            citations=best.citations, alternatives=alternatives, passages=retrieved, best_guess=best,
            tentative=best.score < self.confident_threshold,
        )

    @property
    def no_answer_threshold(self) -> float:
        """Below this confidence the articles "do not say": from the settings if set, else the
        reader's calibrated floor (`qa.reader.Calibration.answer_floor`)."""
        if self.settings.no_answer_threshold is not None:
            return self.settings.no_answer_threshold
        self.reader.warm_up()
        return self.reader.calibration.answer_floor

    @property
    def confident_threshold(self) -> float:
        """From this confidence up an answer is not tentative: the reader's calibrated
        threshold (never below the no-answer threshold)."""
        self.reader.warm_up()
        return max(self.reader.calibration.threshold, self.no_answer_threshold)


def resolve_query(question: str, history: Sequence[Turn]) -> str:
    """The search query for ``question`` in the context of ``history`` (see `qa.followup`)."""
    if not history:
        return question
    try:
        from qa.followup import resolve_query as resolve
    except ImportError:  # pragma: no cover - qa.followup is part of the package
        return question
    return resolve(question, history)


def _sentence_of(place: tuple[str, int, int], passage: Passage) -> tuple[str, int, int]:
    """The sentence of ``passage`` holding the answer at ``place``, in article offsets."""
    article_id, start, end = place
    base = passage.record.chunk.start
    for s_start, s_end in sentence_spans(passage.text):
        if s_start <= start - base < s_end:
            return article_id, base + s_start, max(base + s_end, end)
    return place


def _overlaps(a: tuple[str, int, int], b: tuple[str, int, int]) -> bool:
    return a[0] == b[0] and a[1] < b[2] and b[1] < a[2]


def _replace_timings(answer: Answer, timings: dict[str, float]) -> Answer:
    from dataclasses import replace

    return replace(answer, timings_ms=timings)

