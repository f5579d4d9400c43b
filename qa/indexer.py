"""Bringing the index up to date with the corpus folder, incrementally.

Articles are compared by fingerprint: new and changed articles are chunked and embedded,
removed ones leave the index, unchanged ones are not embedded again. Embedding is the expensive
step (seconds per article on a CPU), so adding one article to a large corpus costs one article.
It runs in this process, or on Ray workers (``Settings.engine`` "ray", `qa.ray_engine`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qa.chunking import Chunk, chunk_article
from qa.corpus import Article, scan_corpus
from qa.embedding import Embedder
from qa.errors import IndexProblem, InvalidInput, NoArticles
from qa.reader import context_budget
from qa.settings import Settings
from qa.stores.generations import (
    IndexSnapshot,
    IndexWriter,
    check_compatible,
    collect_garbage,
    load_snapshot,
    manifest_stamp,
    read_manifest,
    record_skipped,
    writer_lock,
)

log = logging.getLogger(__name__)

# progress(stage, done, total); total 0: a stage without figures ("reading the articles")
Progress = Callable[[str, int, int], None]
# The counted stages as people read them, and what they count.
STAGES = {"embed": "embedding passages", "chunk": "cutting articles into passages"}
STAGE_UNITS = {"embed": "passage", "chunk": "article"}


@dataclass
class IndexReport:
    """What an index update did, article by article."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, reason)
    chunks: int = 0  # chunks in the index after the update
    embedded_chunks: int = 0
    seconds: float = 0.0
    rebuilt: bool = False
    saved_as: str | None = None  # an upload (`Assistant.add_article`): the corpus file it was saved as

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        parts = [
            f"{len(self.added)} added",
            f"{len(self.updated)} updated",
            f"{len(self.removed)} removed",
            f"{len(self.unchanged)} unchanged (not embedded again)",
        ]
        def n(k: int) -> str:
            return f"{k} chunk{'s' if k != 1 else ''}"

        text = (f"Index: {', '.join(parts)}; {n(self.embedded_chunks)} embedded, "
                f"{n(self.chunks)} in the index ({self.seconds:.1f}s).")
        for path, reason in self.skipped:
            text += f"\nSkipped {path}: {reason}"
        return text


def chunking_settings(settings: Settings) -> dict:
    """What the manifest records about chunking; an index chunked otherwise must be rebuilt.

    ``max_tokens`` 0 means the models' limit, which the embedding model (recorded beside it)
    and the reader's window (recorded here) fix."""
    return {
        "unit": "embedder word pieces",
        "max_tokens": settings.chunk_tokens,
        "overlap_tokens": settings.chunk_overlap_tokens,
        "reader_context_tokens": context_budget(settings.reader_max_length, settings.reader_stride),
    }


def chunk_tokens(settings: Settings, embedder: Embedder) -> int:
    """The longest chunk in word pieces: what the embedder reads (`Embedder.max_tokens`), what
    the reader reads in one window beside the longest question (`qa.reader.context_budget`),
    and ``settings.chunk_tokens`` when set. Loads the embedder."""
    limits = [embedder.max_tokens, context_budget(settings.reader_max_length, settings.reader_stride)]
    return min(limits + ([settings.chunk_tokens] if settings.chunk_tokens > 0 else []))


def open_index(settings: Settings, embedder: Embedder, dimension: int | None = None) -> IndexSnapshot | None:
    """The current index, checked against the settings; None when none was built yet.

    ``dimension``: the embedder's, when it is loaded anyway (checking it loads the model).
    A manifest replaced by another process while it is being opened is read again.

    Raises:
        IndexProblem: incompatible ("... was built with ..."), corrupt or incomplete; every
            message ends with the rebuild command.
    """
    index_dir = settings.index_dir
    for attempt in range(5):
        stamp = manifest_stamp(index_dir)
        manifest = read_manifest(index_dir)
        if manifest is None:
            return None
        check_compatible(manifest, embedder.name, chunking_settings(settings), index_dir, dimension,
                         vector_store=settings.vector_store)
        try:
            return load_snapshot(index_dir, manifest, stamp)
        except IndexProblem:
            # A writer committed (and removed the generation we were about to open) between
            # our reading of the manifest and our lease: read it again. Otherwise it is broken.
            if attempt == 4 or manifest_stamp(index_dir) == stamp:
                raise
    raise AssertionError("unreachable")


def update_index(
    settings: Settings,
    embedder: Embedder,
    progress: Progress | None = None,
    rebuild: bool = False,
) -> tuple[IndexSnapshot, IndexReport]:
    """Make the index match ``settings.corpus_dir``; return the new snapshot and a report.

    One process updates an index at a time: this waits for `qa.stores.generations.writer_lock` (logging
    that it waits), then works from what the previous writer committed. Old generations that
    no process reads any more are removed on the way.

    Raises:
        NoArticles: the corpus folder has no readable article (the old index is kept).
        IndexProblem: the existing index is incompatible (format, embedding model or its
            dimension, chunking) and ``rebuild`` is False.
    """
    corpus_dir = Path(settings.corpus_dir)
    if not corpus_dir.is_dir():
        raise NoArticles(f"The corpus folder {corpus_dir} does not exist. Create it and put articles in it.")
    with writer_lock(settings.index_dir):
        collect_garbage(settings.index_dir)  # what killed or earlier processes left behind
        snapshot, report = _update_locked(settings, embedder, progress, rebuild)
        collect_garbage(settings.index_dir)
    return snapshot, report


def _update_locked(
    settings: Settings, embedder: Embedder, progress: Progress | None, rebuild: bool,
) -> tuple[IndexSnapshot, IndexReport]:
    """`update_index`'s work, with the writer lock held."""
    t0 = time.perf_counter()
    report = IndexReport()
    corpus_dir = Path(settings.corpus_dir)
    if progress:
        progress("reading the articles", 0, 0)
    scan = scan_corpus(corpus_dir, settings.max_file_bytes)
    report.skipped = [(s.path, s.reason) for s in scan.skipped]
    record_skipped(settings.index_dir, report.skipped)
    if not scan.articles:
        raise NoArticles(
            f"No readable articles in {corpus_dir}. Add .txt, .md, .html, .json or .jsonl files"
            + (". Skipped: " + "; ".join(f"{s.path}: {s.reason}" for s in scan.skipped) if scan.skipped else ".")
        )

    base = None
    if not rebuild:
        try:
            # The dimension too: a model folder may have been replaced by one of another size.
            base = open_index(settings, embedder, dimension=embedder.dimension)
        except IndexProblem as exc:
            if "built with" in str(exc):
                raise  # an incompatible index is the user's call: they must ask for a rebuild
            log.warning("%s\nRebuilding the index from the articles.", exc)
            report.rebuilt = True
    else:
        report.rebuilt = True
    old = dict(base.manifest.get("articles", {})) if base else {}
    new = {a.id: a for a in scan.articles}
    to_embed = []
    for aid, article in new.items():
        if aid not in old:
            report.added.append(aid)
            to_embed.append(article)
        elif old[aid] != article.fingerprint:
            report.updated.append(aid)
            to_embed.append(article)
        else:
            report.unchanged.append(aid)
    report.removed = [aid for aid in old if aid not in new]

    if base is not None and not report.changed:
        report.chunks = len(base)
        report.seconds = time.perf_counter() - t0
        return base, report

    if progress:
        progress("loading the embedding model", 0, 0)
    embedder.warm_up()
    size = chunk_tokens(settings, embedder)
    with _embedding(settings, embedder, to_embed, size, progress) as batches:
        writer = IndexWriter(settings.index_dir, base, embedder.dimension, settings.vector_store)
        try:
            for aid in report.removed + report.updated:
                writer.remove_article(aid)
            for article in to_embed:
                writer.add_article(article)
            for chunks, vectors in batches:  # streamed into the vector store as they come
                writer.add_chunks(chunks, vectors)
                report.embedded_chunks += len(chunks)
            snapshot = writer.commit({
                "embedding_model": embedder.name,
                "chunking": chunking_settings(settings),
                "articles": {aid: a.fingerprint for aid, a in new.items()},
            })
        except BaseException:
            writer.abort()
            raise
    del base  # our own lease on the old generation ends here, so it can be collected
    report.chunks = len(snapshot)
    report.seconds = time.perf_counter() - t0
    return snapshot, report


@contextmanager
def _embedding(settings: Settings, embedder: Embedder, articles: list[Article], size: int,
               progress: Progress | None) -> Iterator[Iterator[tuple[list[Chunk], np.ndarray]]]:
    """(chunks, vectors) batches of ``articles``: embedded here (``settings.engine`` "local"),
    or on Ray workers ("ray", `qa.ray_engine.chunk_and_embed`)."""
    if settings.engine not in ("local", "ray"):
        raise InvalidInput(f"--engine must be local or ray, not {settings.engine!r}")
    if settings.engine == "local" or not articles:  # nothing to embed: no Ray to start
        chunked = []
        for n, a in enumerate(articles, 1):
            chunked.extend(chunk_article(a.id, a.text, size, settings.chunk_overlap_tokens, embedder.token_spans))
            if progress:
                progress("chunk", n, len(articles))
        vectors = embedder.encode([c.text for c in chunked],
                                  progress=(lambda d, t: progress("embed", d, t)) if progress else None)
        if progress:
            progress("saving the index", 0, 0)
        yield iter([(chunked, vectors)] if chunked else [])
        return
    from qa import ray_engine

    with ray_engine.connected(settings):
        yield ray_engine.chunk_and_embed(settings, articles, size)
