"""The index on disk: vectors in FAISS, BM25 in bm25s, chunk and article metadata in SQLite,
a JSON manifest.

Layout of ``index/``::

    manifest.json        format version, embedding model, dimension, chunking settings,
                         article fingerprints, and the name of the current generation folder
    gen-000007/
        vectors.faiss    FAISS IndexIDMap2(IndexFlatIP) over L2-normalised vectors
        meta.sqlite      articles (id, title, text, url, date, source, fingerprint) and
                         chunks (faiss id, article id, index, start, end)
        lexical/         BM25 over the chunk texts (`qa.lexical.Bm25Store`: JSON and .npy
                         arrays written without pickle; ids.npy maps its rows to chunk ids)

    writer.lock          held by the one process updating the index (`writer_lock`)

Why generations: an update writes a complete new generation folder and only then replaces
``manifest.json`` (``os.replace``, atomic on POSIX; the file and the folder are fsync'd). A crash
at any point leaves the previous manifest pointing at the previous, complete generation, so the
index is never half-written.

Many processes share one index (the chat server, ``qa index``, ``qa ask``, a batch):

- Writers take ``writer.lock`` (`filelock`) for the whole update, so two updates never interleave;
  the second waits, then updates from what the first committed.
- Readers hold a shared ``flock`` on the folder of the generation they loaded (a lease) for as
  long as the `IndexSnapshot` lives: its SQLite file is opened lazily, per thread, so the folder
  must outlive the snapshot, not just the load. A writer removes an old generation only when it
  can take that lock exclusively (`collect_garbage`), so a generation in use is never deleted;
  it goes at a later update, once its readers have moved on.
- Readers notice a newer manifest with one ``stat`` (`IndexSnapshot.is_current`) and reopen.
- Removal renames a generation to ``gen-NNNNNN.deleting-*`` before deleting it, so a removal cut
  short by a kill never leaves something that looks like a generation; the next update finishes it.

The vector part sits behind `VectorStore` (add, remove, search, save, load), the lexical part
behind `qa.lexical.LexicalStore` (search, save, load), so other engines can take FAISS's and
bm25s's places for corpora that outgrow one machine. No pickle anywhere.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sqlite3
import threading
import time
import uuid
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.chunking import Chunk
from qa.corpus import Article
from qa.errors import IndexProblem
from qa.lexical import Bm25Store, LexicalStore

try:  # POSIX; without it (Windows) there are no leases, and an open generation cannot be renamed
    import fcntl
except ImportError:  # pragma: no cover - depends on the platform
    fcntl = None

log = logging.getLogger(__name__)

# 2: chunks measured in the embedder's word pieces; BM25 in lexical/ (version 1 had neither).
FORMAT_VERSION = 2
MANIFEST = "manifest.json"
WRITER_LOCK = "writer.lock"
_GEN = re.compile(r"^gen-(\d{6})$")
_DELETING = re.compile(r"^gen-\d{6}\.deleting-[0-9a-f]+$")
_MANIFEST_TMP = re.compile(r"^manifest\.json\..+\.tmp$")


class VectorStore(Protocol):
    """What qa needs from a vector index. Ids are int64 chunk ids."""

    dimension: int

    def __len__(self) -> int: ...
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...
    def remove(self, ids: np.ndarray) -> None: ...
    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]: ...
    def vectors_of(self, ids: np.ndarray) -> np.ndarray: ...
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

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each ``(len(queries), k)``; ``allowed``: search only these ids (a FAISS
        ID selector, so the k best *of them* come back, not the k best filtered afterwards)."""
        import faiss

        k = min(k, len(self) if allowed is None else len(allowed))
        if k <= 0:
            n = len(queries)
            return np.zeros((n, 0), np.float32), np.zeros((n, 0), np.int64)
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if allowed is None:
            return self._index.search(queries, k)
        selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
        return self._index.search(queries, k, params=faiss.SearchParameters(sel=selector))

    def vectors_of(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of ``ids``, shape ``(len(ids), dimension)`` (to score chunks that
        another ranking found). Raises RuntimeError (FAISS's) for an id not in the index."""
        out = np.zeros((len(ids), self.dimension), dtype=np.float32)
        for row, i in enumerate(ids):
            out[row] = self._index.reconstruct(int(i))
        return out

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


ManifestStamp = tuple[int, int, int, int]  # (device, inode, mtime ns, size) of manifest.json


def manifest_stamp(index_dir: Path) -> ManifestStamp | None:
    """What identifies the current manifest, from one ``stat``; None when there is none.

    Every commit replaces the file by a new one (a new inode), so a changed stamp means a
    newer index."""
    try:
        st = os.stat(index_dir / MANIFEST)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size


class IndexSnapshot:
    """One complete, loaded generation of the index: read-only, safe to share across threads.

    While the snapshot lives it holds a lease on its generation folder (see the module
    docstring), so no writer in any process deletes the files it still reads.
    """

    def __init__(self, folder: Path, manifest: dict, vectors: VectorStore, lexical: LexicalStore,
                 stamp: ManifestStamp | None = None, lease: int | None = None):
        """``lease``: a descriptor from `_lease`; the snapshot owns it and closes it when
        it is garbage-collected, which ends the lease."""
        self.folder = folder
        self.manifest = manifest
        self.vectors = vectors
        self.lexical = lexical
        self.stamp = stamp
        self._local = threading.local()
        if lease is not None:
            weakref.finalize(self, os.close, lease)

    @property
    def index_dir(self) -> Path:
        return self.folder.parent

    def is_current(self) -> bool:
        """Whether the manifest on disk is still the one this snapshot was loaded from."""
        return self.stamp is not None and manifest_stamp(self.index_dir) == self.stamp

    def check_dimension(self, dimension: int) -> None:
        """Refuse query vectors of another size than the index's (the model folder was changed).

        Raises:
            IndexProblem: with the rebuild command.
        """
        if dimension != self.vectors.dimension:
            raise rebuild_problem(
                self.index_dir, f"was built with embedding dimension {self.vectors.dimension} "
                f"(the embedding model {self.manifest.get('embedding_model')!r} now gives {dimension})",
            )

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

    def chunk_ids_of(self, article_ids: Iterable[str]) -> np.ndarray:
        """The chunk ids of the given articles (int64; empty when none is indexed)."""
        article_ids = list(article_ids)
        if not article_ids:
            return np.zeros(0, np.int64)
        marks = ",".join("?" * len(article_ids))
        rows = self._db().execute(f"SELECT id FROM chunks WHERE article_id IN ({marks})", article_ids).fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64)

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


def rebuild_problem(index_dir: Path, what: str) -> IndexProblem:
    """The one message for an index qa cannot use as it is: what is wrong, and the command
    that rebuilds it from the articles."""
    return IndexProblem(
        f"The index in {index_dir} {what}. Rebuild it from the articles with: "
        f"qa index --rebuild --index {index_dir}"
    )


def read_manifest(index_dir: Path) -> dict | None:
    """The manifest, or None when there is no index yet. Raises IndexProblem if unreadable."""
    path = index_dir / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or not isinstance(manifest.get("generation"), str):
            raise ValueError("not a qa manifest")
        return manifest
    except FileNotFoundError:
        return None
    except (ValueError, OSError) as exc:
        raise rebuild_problem(index_dir, f"is corrupt ({path.name}: {exc})") from exc


def check_compatible(manifest: dict, embedding_model: str, chunking: dict, index_dir: Path,
                     dimension: int | None = None) -> None:
    """Refuse an index built with another format, embedding model, chunking or (when given)
    embedding dimension.

    Raises:
        IndexProblem: "... was built with ...", with the rebuild command.
    """
    problems = []
    if manifest.get("format_version") != FORMAT_VERSION:
        problems.append(f"format version {manifest.get('format_version')} (this qa uses {FORMAT_VERSION})")
    if manifest.get("embedding_model") != embedding_model:
        problems.append(f"embedding model {manifest.get('embedding_model')!r} (settings say {embedding_model!r})")
    if manifest.get("chunking") != chunking:
        problems.append(f"chunking {manifest.get('chunking')} (settings say {chunking})")
    if dimension is not None and manifest.get("dimension") != dimension:
        problems.append(f"embedding dimension {manifest.get('dimension')} (the embedding model "
                        f"{embedding_model!r} now gives {dimension})")
    if problems:
        raise rebuild_problem(index_dir, f"was built with {'; '.join(problems)}")


def load_snapshot(index_dir: Path, manifest: dict, stamp: ManifestStamp | None = None) -> IndexSnapshot:
    """Open the generation the manifest names, checking that its parts agree.

    ``stamp`` is `manifest_stamp` taken before ``manifest`` was read; the snapshot compares it
    with the file on disk to tell when a newer index was committed.

    Raises:
        IndexProblem: the generation is missing, corrupt or inconsistent. A caller that read
            the manifest while a writer replaced it sees this too, and may read it again.
    """
    folder = index_dir / manifest["generation"]
    try:
        lease = _lease(folder)  # first, so that nothing is removed while we read it
        try:
            vectors = FaissVectorStore.load(folder)
            lexical = Bm25Store.load(folder)
        except BaseException:
            if lease is not None:
                os.close(lease)
            raise
        snap = IndexSnapshot(folder, manifest, vectors, lexical, stamp, lease)
        n_chunks = snap._db().execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
    except IndexProblem:
        raise
    except Exception as exc:  # noqa: BLE001 - faiss raises RuntimeError, sqlite its own, numpy OSError
        raise rebuild_problem(index_dir, f"is corrupt or incomplete ({exc})") from exc
    vectors = snap.vectors
    if (n_chunks != len(vectors) or n_chunks != len(snap.lexical)
            or vectors.dimension != manifest.get("dimension")):
        raise rebuild_problem(
            index_dir, f"is inconsistent ({len(vectors)} vectors of dimension {vectors.dimension}, "
            f"{len(snap.lexical)} BM25 documents, {n_chunks} chunk records)",
        )
    return snap


@contextmanager
def writer_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index's writer lock: one update at a time, across processes.

    Waits (saying so in the log) while another process updates the index. The lock is an
    ``flock`` (`filelock`), so a killed writer never leaves it held.
    """
    from filelock import FileLock, Timeout

    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(index_dir / WRITER_LOCK)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.warning("Another qa process is updating the index in %s; waiting for it to finish.", index_dir)
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def collect_garbage(index_dir: Path) -> list[str]:
    """Remove what no reader holds and the manifest does not name: old generations, generations
    of killed writers, removals cut short, temporary manifests. Call with `writer_lock` held.

    Returns the names removed.
    """
    try:
        current = (read_manifest(index_dir) or {}).get("generation")
    except IndexProblem:
        return []  # the manifest cannot say what is in use: leave everything for the rebuild
    removed = []
    for p in sorted(index_dir.iterdir()) if index_dir.is_dir() else []:
        if p.name == current:
            continue
        try:
            if _DELETING.match(p.name):
                shutil.rmtree(p, ignore_errors=True)  # renamed only when no reader held it
            elif _MANIFEST_TMP.match(p.name):
                p.unlink(missing_ok=True)  # written by a writer that died before its swap
            elif not (_GEN.match(p.name) and p.is_dir() and _remove_unleased(p)):
                continue
        except OSError as exc:  # tidying up never fails an update; the next one tries again
            log.warning("Could not remove %s: %s", p, exc)
            continue
        removed.append(p.name)
    return removed


def _remove_unleased(folder: Path) -> bool:
    """Delete a generation folder unless a reader holds its lease; True if it is gone."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                log.debug("Keeping %s: a reader still uses it.", folder)
                return False
        trash = folder.with_name(f"{folder.name}.deleting-{uuid.uuid4().hex[:12]}")
        try:
            os.rename(folder, trash)  # atomic: from here on it is garbage, whatever happens next
        except OSError as exc:  # e.g. Windows, where an open generation cannot be renamed
            log.debug("Keeping %s: %s", folder, exc)
            return False
    finally:
        os.close(fd)
    shutil.rmtree(trash, ignore_errors=True)
    return True


def _lease(folder: Path) -> int | None:
    """A shared lock on a generation folder, held by an open descriptor; None without flock.

    Raises:
        FileNotFoundError: the folder is gone, or was taken for deletion while we waited.
    """
    if fcntl is None:
        return None
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        # A writer may have renamed it for deletion between our open and our lock.
        if not os.path.samestat(os.fstat(fd), os.stat(folder)):
            raise FileNotFoundError(f"{folder} was replaced")
    except BaseException:
        os.close(fd)
        raise
    return fd


class IndexWriter:
    """Builds the next generation from the current one (or from nothing), then commits it.

    The caller holds `writer_lock` (`qa.indexer.update_index` does), so generation numbers are
    not contended; the folder is still created exclusively (an existing one is an error, never
    overwritten).
    """

    def __init__(self, index_dir: Path, base: IndexSnapshot | None, dimension: int):
        self.index_dir = index_dir
        index_dir.mkdir(parents=True, exist_ok=True)
        existing = [int(m.group(1)) for p in index_dir.iterdir() if (m := _GEN.match(p.name))]
        self.generation = f"gen-{max(existing, default=0) + 1:06d}"
        self.folder = index_dir / self.generation
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
        """Write everything durably, then switch the manifest to this generation.

        Older generations stay: `collect_garbage` removes those no reader holds.
        """
        self.db.commit()
        lexical = self._build_lexical()
        self.db.close()
        self.vectors.save(self.folder)
        lexical.save(self.folder)
        for path in [self.folder / "meta.sqlite", self.folder / FaissVectorStore.FILE,
                     *lexical.files(self.folder)]:
            _fsync(path)
        _fsync(self.folder / Bm25Store.FOLDER)
        _fsync(self.folder)
        _fsync(self.index_dir)  # the generation's folder entry, before the manifest names it
        manifest = dict(manifest, generation=self.generation, format_version=FORMAT_VERSION,
                        dimension=self.vectors.dimension, chunks=len(self.vectors),
                        updated=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        # A name of its own ("x": never someone else's file), even though writers are locked.
        tmp = self.index_dir / f"{MANIFEST}.{uuid.uuid4().hex[:12]}.tmp"
        try:
            with open(tmp, "x", encoding="utf-8") as f:
                f.write(json.dumps(manifest, indent=1, sort_keys=True))
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.index_dir / MANIFEST)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync(self.index_dir)  # the swap itself survives a power loss
        stamp = manifest_stamp(self.index_dir)
        return load_snapshot(self.index_dir, manifest, stamp)

    def _build_lexical(self) -> Bm25Store:
        """BM25 over every chunk of this generation, rebuilt rather than patched: its
        statistics are corpus-wide (the cost is measured in benchmarks/results/lexical_update.md)."""
        rows = self.db.execute(
            "SELECT c.id, substr(a.text, c.start + 1, c.end - c.start) FROM chunks c "
            "JOIN articles a ON a.id = c.article_id ORDER BY c.id"
        ).fetchall()
        return Bm25Store.build([r[0] for r in rows], [r[1] for r in rows])

    def abort(self) -> None:
        try:
            self.db.close()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def _fsync(path: Path) -> None:
    """fsync a file or a folder (a folder's fsync makes the names in it durable)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        if path.is_dir():
            return  # Windows cannot open a folder; its renames are durable without this
        raise
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
