"""The index on disk: vectors in FAISS, chunk and article metadata in SQLite, a JSON manifest.

Layout of ``index/``::

    manifest.json        format version, embedding model, dimension, chunking settings,
                         article fingerprints, and the name of the current generation folder
    gen-000007/
        vectors.faiss    FAISS IndexIDMap2(IndexFlatIP) over L2-normalised vectors
        meta.sqlite      articles (id, title, text, url, date, source, fingerprint) and
                         chunks (faiss id, article id, index, start, end)

Why generations: an update writes a complete new generation folder and only then replaces
``manifest.json`` (``os.replace``, atomic on POSIX). A crash at any point leaves the previous
manifest pointing at the previous, complete generation, so the index is never half-written.

The vector part sits behind `VectorStore` (add, remove, search, save, load) so another engine
can take FAISS's place for corpora that outgrow one machine. No pickle anywhere.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.chunking import Chunk
from qa.corpus import Article
from qa.errors import IndexProblem

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_GEN = re.compile(r"^gen-(\d{6})$")


class VectorStore(Protocol):
    """What qa needs from a vector index. Ids are int64 chunk ids."""

    dimension: int

    def __len__(self) -> int: ...
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...
    def remove(self, ids: np.ndarray) -> None: ...
    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...
    def save(self, path: Path) -> None: ...


class FaissVectorStore:
    """Exact inner-product search (cosine on normalised vectors) with removable ids.

    Exact search is the right default for news corpora (100k chunks search in a few ms); an
    IVF or HNSW index could replace it here without touching the callers.
    """

    FILE = "vectors.faiss"

    def __init__(self, dimension: int, index=None):
        import faiss

        self.dimension = dimension
        self._index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))

    @classmethod
    def load(cls, folder: Path) -> FaissVectorStore:
        import faiss

        index = faiss.read_index(str(folder / cls.FILE))
        return cls(index.d, index)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dimension:
            raise ValueError(f"expected vectors of dimension {self.dimension}, got {vectors.shape}")
        self._index.add_with_ids(vectors, np.ascontiguousarray(ids, dtype=np.int64))

    def remove(self, ids: np.ndarray) -> None:
        if len(ids):
            self._index.remove_ids(np.ascontiguousarray(ids, dtype=np.int64))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, len(self))
        if k <= 0:
            n = len(queries)
            return np.zeros((n, 0), np.float32), np.zeros((n, 0), np.int64)
        return self._index.search(np.ascontiguousarray(queries, dtype=np.float32), k)

    def save(self, folder: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(folder / self.FILE))


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


_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL, path TEXT NOT NULL,
    url TEXT, date TEXT, source TEXT, fingerprint TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, article_id TEXT NOT NULL REFERENCES articles(id),
    idx INTEGER NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
"""


class IndexSnapshot:
    """One complete, loaded generation of the index: read-only, safe to share across threads."""

    def __init__(self, folder: Path, manifest: dict, vectors: VectorStore):
        self.folder = folder
        self.manifest = manifest
        self.vectors = vectors
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            uri = (self.folder / "meta.sqlite").resolve().as_uri() + "?mode=ro"
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self._local.conn = conn
        return conn

    def __len__(self) -> int:
        return len(self.vectors)

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


def read_manifest(index_dir: Path) -> dict | None:
    """The manifest, or None when there is no index yet. Raises IndexProblem if unreadable."""
    path = index_dir / MANIFEST
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or "generation" not in manifest:
            raise ValueError("not a qa manifest")
        return manifest
    except (ValueError, OSError) as exc:
        raise IndexProblem(
            f"The index in {index_dir} is corrupt ({path.name}: {exc}). Rebuild it from the "
            f"articles with: qa index --rebuild --index {index_dir}"
        ) from exc


def check_compatible(manifest: dict, embedding_model: str, chunking: dict, index_dir: Path) -> None:
    """Refuse an index built with another format, embedding model or chunking."""
    problems = []
    if manifest.get("format_version") != FORMAT_VERSION:
        problems.append(f"format version {manifest.get('format_version')} (this qa uses {FORMAT_VERSION})")
    if manifest.get("embedding_model") != embedding_model:
        problems.append(f"embedding model {manifest.get('embedding_model')!r} (settings say {embedding_model!r})")
    if manifest.get("chunking") != chunking:
        problems.append(f"chunking {manifest.get('chunking')} (settings say {chunking})")
    if problems:
        raise IndexProblem(
            f"The index in {index_dir} was built with {'; '.join(problems)}. Rebuild it with: "
            f"qa index --rebuild --index {index_dir}"
        )


def load_snapshot(index_dir: Path, manifest: dict) -> IndexSnapshot:
    """Open the generation the manifest names, checking that its parts agree."""
    folder = index_dir / manifest["generation"]
    try:
        vectors = FaissVectorStore.load(folder)
        snap = IndexSnapshot(folder, manifest, vectors)
        n_chunks = snap._db().execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    except Exception as exc:  # noqa: BLE001 - faiss raises RuntimeError, sqlite its own
        raise IndexProblem(
            f"The index in {index_dir} is corrupt or incomplete ({exc}). Rebuild it from the "
            f"articles with: qa index --rebuild --index {index_dir}"
        ) from exc
    if n_chunks != len(vectors) or vectors.dimension != manifest.get("dimension"):
        raise IndexProblem(
            f"The index in {index_dir} is inconsistent ({len(vectors)} vectors of dimension "
            f"{vectors.dimension}, {n_chunks} chunk records). Rebuild it with: qa index --rebuild"
        )
    return snap


class IndexWriter:
    """Builds the next generation from the current one (or from nothing), then commits it."""

    def __init__(self, index_dir: Path, base: IndexSnapshot | None, dimension: int):
        self.index_dir = index_dir
        index_dir.mkdir(parents=True, exist_ok=True)
        existing = [int(m.group(1)) for p in index_dir.iterdir() if (m := _GEN.match(p.name))]
        self.generation = f"gen-{max(existing, default=0) + 1:06d}"
        self.folder = index_dir / self.generation
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir()
        if base is not None:
            shutil.copy2(base.folder / "meta.sqlite", self.folder / "meta.sqlite")
            self.vectors = FaissVectorStore.load(base.folder)
        else:
            self.vectors = FaissVectorStore(dimension)
        self.db = sqlite3.connect(self.folder / "meta.sqlite")
        self.db.executescript(_SCHEMA)
        self._next_id = (self.db.execute("SELECT MAX(id) FROM chunks").fetchone()[0] or 0) + 1

    def remove_article(self, article_id: str) -> None:
        ids = [r[0] for r in self.db.execute("SELECT id FROM chunks WHERE article_id = ?", (article_id,))]
        self.vectors.remove(np.array(ids, dtype=np.int64))
        self.db.execute("DELETE FROM chunks WHERE article_id = ?", (article_id,))
        self.db.execute("DELETE FROM articles WHERE id = ?", (article_id,))

    def add_article(self, article: Article, chunks: list[Chunk], vectors: np.ndarray) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (article.id, article.title, article.text, article.path, article.url, article.date,
             article.source, article.fingerprint),
        )
        ids = np.arange(self._next_id, self._next_id + len(chunks), dtype=np.int64)
        self._next_id += len(chunks)
        self.db.executemany(
            "INSERT INTO chunks VALUES (?, ?, ?, ?, ?)",
            [(int(i), c.article_id, c.index, c.start, c.end) for i, c in zip(ids, chunks)],
        )
        if len(chunks):
            self.vectors.add(ids, vectors)

    def commit(self, manifest: dict) -> IndexSnapshot:
        """Write everything, switch the manifest to this generation, drop older generations."""
        self.db.commit()
        self.db.close()
        self.vectors.save(self.folder)
        for name in ("meta.sqlite", FaissVectorStore.FILE):
            _fsync(self.folder / name)
        manifest = dict(manifest, generation=self.generation, format_version=FORMAT_VERSION,
                        dimension=self.vectors.dimension, chunks=len(self.vectors),
                        updated=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        tmp = self.index_dir / (MANIFEST + ".tmp")
        tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
        _fsync(tmp)
        os.replace(tmp, self.index_dir / MANIFEST)
        for p in self.index_dir.iterdir():
            if _GEN.match(p.name) and p.name != self.generation:
                shutil.rmtree(p, ignore_errors=True)
        return load_snapshot(self.index_dir, manifest)

    def abort(self) -> None:
        try:
            self.db.close()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def _fsync(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())
