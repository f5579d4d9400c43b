"""Articles and chunks in SQLite, one ``meta.sqlite`` per generation folder.

Tables: ``articles`` (id, title, text, path, url, date, source, fingerprint) and ``chunks``
(chunk id, article id, index, start, end). A chunk's text is cut from its article's text by
offsets, so it is stored once. The vector and lexical stores key their rows by the same chunk id.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.chunking import Chunk
from qa.corpus import Article

FILE = "meta.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL, path TEXT NOT NULL,
    url TEXT, date TEXT, source TEXT, fingerprint TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, article_id TEXT NOT NULL REFERENCES articles(id),
    idx INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
"""


@dataclass(frozen=True)
class ChunkRecord:
    """A chunk as stored, joined with what citations need from its article."""

    id: int
    chunk: Chunk
    title: str
    url: str | None
    date: str | None
    source: str | None


@dataclass(frozen=True)
class ArticleInfo:
    """An indexed article, as listed to users (no text)."""

    id: str
    title: str
    path: str
    url: str | None
    date: str | None
    source: str | None
    chunks: int


class MetadataReader:
    """Read-only access to one generation's ``meta.sqlite``, safe to share across threads: the
    file is opened lazily, once per thread."""

    def __init__(self, folder: Path):
        self.path = folder / FILE
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            uri = self.path.resolve().as_uri() + "?mode=ro"
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self._local.conn = conn
        return conn

    def count_chunks(self) -> int:
        return self._db().execute("SELECT COUNT(*) FROM chunks").fetchone()[0]

    def chunk_ids_of(self, article_ids: Iterable[str]) -> np.ndarray:
        """The chunk ids of the given articles (int64; empty when none is indexed)."""
        article_ids = list(article_ids)
        if not article_ids:
            return np.zeros(0, np.int64)
        marks = ",".join("?" * len(article_ids))
        rows = self._db().execute(f"SELECT id FROM chunks WHERE article_id IN ({marks})", article_ids).fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64)

    def chunk_records(self, ids: Iterable[int]) -> dict[int, ChunkRecord]:
        """Chunks by id, with their text cut from the stored article text."""
        ids = [int(i) for i in ids]
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db().execute(
            f"SELECT c.id, c.article_id, c.idx, c.start, c.end, a.title, a.url, a.date, a.source, "
            f"substr(a.text, c.start + 1, c.end - c.start) FROM chunks c JOIN articles a "
            f"ON a.id = c.article_id WHERE c.id IN ({marks})",
            ids,
        ).fetchall()
        return {
            r[0]: ChunkRecord(r[0], Chunk(r[1], r[2], r[3], r[4], r[9]), r[5], r[6], r[7], r[8])
            for r in rows
        }

    def article_text(self, article_id: str) -> str:
        row = self._db().execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            raise KeyError(article_id)
        return row[0]

    def articles(self) -> list[ArticleInfo]:
        rows = self._db().execute(
            "SELECT a.id, a.title, a.path, a.url, a.date, a.source, COUNT(c.id) FROM articles a "
            "LEFT JOIN chunks c ON c.article_id = a.id GROUP BY a.id ORDER BY a.title"
        ).fetchall()
        return [ArticleInfo(*r) for r in rows]


class MetadataWriter:
    """The next generation's ``meta.sqlite``: a copy of the base generation's, changed, then
    committed. Chunk ids are never reused while an older generation may still hold them (see
    `next_id`)."""

    def __init__(self, folder: Path, base: Path | None, first_id: int = 1):
        """``first_id``: the lowest id new chunks may take (the manifest's ``next_chunk_id``)."""
        self.path = folder / FILE
        if base is not None:
            shutil.copy2(base / FILE, self.path)
        self.db = sqlite3.connect(self.path)
        self.db.executescript(_SCHEMA)
        self.next_id = max(first_id, (self.db.execute("SELECT MAX(id) FROM chunks").fetchone()[0] or 0) + 1)

    def remove_article(self, article_id: str) -> list[int]:
        """Delete an article and its chunks; returns the chunk ids it had."""
        ids = [r[0] for r in self.db.execute("SELECT id FROM chunks WHERE article_id = ?", (article_id,))]
        self.db.execute("DELETE FROM chunks WHERE article_id = ?", (article_id,))
        self.db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
        return ids

    def add_article(self, article: Article) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (article.id, article.title, article.text, article.path, article.url, article.date,
             article.source, article.fingerprint),
        )

    def add_chunks(self, chunks: Sequence[Chunk]) -> list[int]:
        """Record chunks (of articles already added); returns the ids given to them, in order."""
        ids = list(range(self.next_id, self.next_id + len(chunks)))
        self.next_id += len(chunks)
        self.db.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?)",
            [(i, c.article_id, c.index, c.start, c.end) for i, c in zip(ids, chunks)],
        )
        return ids

    def chunk_texts(self) -> tuple[list[int], list[str]]:
        """(ids, texts) of every chunk, by id."""
        rows = self.db.execute(
            "SELECT c.id, substr(a.text, c.start + 1, c.end - c.start) FROM chunks c "
            "JOIN articles a ON a.id = c.article_id ORDER BY c.id"
        ).fetchall()
        return [r[0] for r in rows], [r[1] for r in rows]

    def commit(self) -> None:
        self.db.commit()

    def close(self) -> None:
        self.db.close()
