"""Generations of the index: the manifest, one folder per generation, the writer lock,
readers' leases and garbage collection.

Layout of ``index/``::

    manifest.json        format version, embedding model, dimension, chunking settings,
                         vector store, article fingerprints, the next free chunk id, and the
                         name of the current generation folder
    gen-000007/
        vectors.faiss    FAISS IndexIDMap2(IndexFlatIP) over L2-normalised vectors
                         (`qa.stores.faiss_store`), or vectors.json: where another engine
                         holds this generation's vectors (`qa.stores.milvus_store`)
        meta.sqlite      articles (id, title, text, url, date, source, fingerprint) and
                         chunks (chunk id, article id, index, start, end) (`qa.stores.metadata`)
        lexical/         BM25 over the chunk texts (`qa.stores.lexical.Bm25Store`: JSON and .npy
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

The vector part sits behind `qa.stores.vectors.VectorStore` (add, remove, search, save, load;
FAISS or Milvus, chosen by ``Settings.vector_store``), the lexical part behind
`qa.stores.lexical.LexicalStore` (search, save, load), so other engines can take FAISS's and
bm25s's places for corpora that outgrow one machine. No pickle anywhere.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
import uuid
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from qa.chunking import Chunk
from qa.corpus import Article
from qa.errors import IndexProblem
from qa.stores import vectors as vector_engines
from qa.stores.lexical import Bm25Store, LexicalStore
from qa.stores.metadata import ArticleInfo, ChunkRecord, MetadataReader, MetadataWriter
from qa.stores.vectors import VectorStore

try:  # POSIX; without it (Windows) there are no leases, and an open generation cannot be renamed
    import fcntl
except ImportError:  # pragma: no cover - depends on the platform
    fcntl = None

log = logging.getLogger(__name__)

# 2: chunks measured in the embedder's word pieces; BM25 in lexical/ (version 1 had neither).
FORMAT_VERSION = 2
MANIFEST = "manifest.json"
WRITER_LOCK = "writer.lock"
SKIPPED = "skipped.json"  # `record_skipped`
_GEN = re.compile(r"^gen-(\d{6})$")
_DELETING = re.compile(r"^gen-\d{6}\.deleting-[0-9a-f]+$")
_MANIFEST_TMP = re.compile(r"^(?:manifest|skipped)\.json\..+\.tmp$")


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
        self.metadata = MetadataReader(folder)
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

    def __len__(self) -> int:
        return len(self.vectors)

    def chunk_records(self, ids: Iterable[int]) -> dict[int, ChunkRecord]:
        """Chunks by id, with their text cut from the stored article text."""
        return self.metadata.chunk_records(ids)

    def chunk_ids_of(self, article_ids: Iterable[str]) -> np.ndarray:
        """The chunk ids of the given articles (int64; empty when none is indexed)."""
        return self.metadata.chunk_ids_of(article_ids)

    def article_text(self, article_id: str) -> str:
        """Raises KeyError for an id not in the index."""
        return self.metadata.article_text(article_id)

    def articles(self) -> list[ArticleInfo]:
        return self.metadata.articles()


def rebuild_problem(index_dir: Path, what: str, vector_store: str = vector_engines.DEFAULT) -> IndexProblem:
    """The one message for an index qa cannot use as it is: what is wrong, and the command
    that rebuilds it from the articles (with the vector store the settings ask for)."""
    store = "" if vector_store == vector_engines.DEFAULT else f" --vector-store {vector_store}"
    return IndexProblem(
        f"The index in {index_dir} {what}. Rebuild it from the articles with: "
        f"qa index --rebuild --index {index_dir}{store}"
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
                     dimension: int | None = None, vector_store: str = vector_engines.DEFAULT) -> None:
    """Refuse an index built with another format, embedding model, chunking, vector store or
    (when given) embedding dimension.

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
    built_in = manifest.get("vector_store", vector_engines.DEFAULT)  # older manifests: FAISS
    wanted = vector_engines.normalize(vector_store)
    if built_in != wanted:
        problems.append(f"vector store {built_in!r} (settings say {wanted!r})")
    if dimension is not None and manifest.get("dimension") != dimension:
        problems.append(f"embedding dimension {manifest.get('dimension')} (the embedding model "
                        f"{embedding_model!r} now gives {dimension})")
    if problems:
        raise rebuild_problem(index_dir, f"was built with {'; '.join(problems)}", wanted)


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
            vectors = vector_engines.engine(manifest.get("vector_store", vector_engines.DEFAULT)).load(folder)
            lexical = Bm25Store.load(folder)
        except BaseException:
            if lease is not None:
                os.close(lease)
            raise
        snap = IndexSnapshot(folder, manifest, vectors, lexical, stamp, lease)
        n_chunks = snap.metadata.count_chunks()
        n_vectors = len(snap.vectors)  # a query, for a store in a server
    except IndexProblem:
        raise
    except Exception as exc:  # noqa: BLE001 - faiss raises RuntimeError, sqlite, numpy, pymilvus their own
        raise rebuild_problem(index_dir, f"is corrupt or incomplete ({exc})") from exc
    vectors = snap.vectors
    if (n_chunks != n_vectors or n_chunks != len(snap.lexical)
            or vectors.dimension != manifest.get("dimension")):
        raise rebuild_problem(
            index_dir, f"is inconsistent ({n_vectors} vectors of dimension {vectors.dimension}, "
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


def record_skipped(index_dir: Path, skipped: list[tuple[str, str]]) -> None:
    """Write ``skipped`` ((file, reason) pairs: the corpus files the last index update could
    not use) for every process showing this index, in `SKIPPED` beside the manifest (not in
    it: skipping one more broken file changes no index data, so makes no new generation).
    Atomic: a reader sees the old list or the new one. Call with `writer_lock` held."""
    _replace_file(Path(index_dir) / SKIPPED,
                  json.dumps({"skipped": [list(pair) for pair in skipped]}, ensure_ascii=False))


def _replace_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` durably and atomically: a temporary file beside it (collected by
    `collect_garbage` if the writer dies), fsynced, swapped in, and the swap fsynced."""
    # A name of its own ("x": never someone else's file), even though writers are locked.
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with open(tmp, "x", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync(path.parent)  # the swap itself survives a power loss


def recorded_skipped(index_dir: Path) -> list[tuple[str, str]] | None:
    """The files the last index update could not use, as `record_skipped` wrote them; None when
    no update recorded any list (an index older than this file) or it cannot be read."""
    try:
        data = json.loads((Path(index_dir) / SKIPPED).read_text(encoding="utf-8"))
        return [(str(path), str(reason)) for path, reason in data["skipped"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


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
    released: dict[str, list[Path]] = {}  # vector engine -> pointers of generations removed
    for p in sorted(index_dir.iterdir()) if index_dir.is_dir() else []:
        if p.name == current:
            continue
        try:
            if _DELETING.match(p.name):  # renamed only when no reader held it
                if (pointer := _vector_pointer(p)) is None:
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    released.setdefault(pointer, []).append(p)
            elif _MANIFEST_TMP.match(p.name):
                p.unlink(missing_ok=True)  # written by a writer that died before its swap
            elif not (_GEN.match(p.name) and p.is_dir() and _remove_unleased(p, released)):
                continue
        except OSError as exc:  # tidying up never fails an update; the next one tries again
            log.warning("Could not remove %s: %s", p, exc)
            continue
        removed.append(p.name)
    if released:
        live = [p for p in sorted(index_dir.iterdir()) if _GEN.match(p.name) and p.is_dir()]
        for spec, folders in released.items():
            try:
                vector_engines.engine(spec).collect_garbage(folders, live)
            except Exception as exc:  # noqa: BLE001 - a server away now: the next update retries
                log.warning("Could not free the vectors of removed generations: %s", exc)
                continue
            for folder in folders:
                shutil.rmtree(folder, ignore_errors=True)
    return removed


def _remove_unleased(folder: Path, released: dict[str, list[Path]]) -> bool:
    """Delete a generation folder unless a reader holds its lease; True if it is gone (or, when
    its vectors live in another engine, renamed for deletion and added to ``released`` under the
    engine's name, for `collect_garbage` to free them first)."""
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
    pointer = _vector_pointer(trash)
    if pointer is None:
        shutil.rmtree(trash, ignore_errors=True)
    else:
        released.setdefault(pointer, []).append(trash)
    return True


def _vector_pointer(folder: Path) -> str | None:
    """The engine of a generation whose vectors live outside its folder (its ``vectors.json``
    names it), or None."""
    try:
        return json.loads((folder / "vectors.json").read_text(encoding="utf-8"))["engine"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


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

    def __init__(self, index_dir: Path, base: IndexSnapshot | None, dimension: int,
                 vector_store: str = vector_engines.DEFAULT):
        """``vector_store``: the engine of a new index (``Settings.vector_store``); an update
        keeps the base generation's."""
        self.index_dir = index_dir
        index_dir.mkdir(parents=True, exist_ok=True)
        existing = [int(m.group(1)) for p in index_dir.iterdir() if (m := _GEN.match(p.name))]
        number = max(existing, default=0) + 1
        self.generation = f"gen-{number:06d}"
        self.folder = index_dir / self.generation
        self.folder.mkdir()
        self.vector_store = (base.manifest.get("vector_store", vector_engines.DEFAULT) if base is not None
                             else vector_engines.normalize(vector_store))
        engine = vector_engines.engine(self.vector_store)
        try:
            if base is not None:
                self.vectors = engine.load_for_update(base.folder, number)
            else:
                self.vectors = engine.create(vector_engines.parse(self.vector_store)[1], dimension, number)
            self.meta = MetadataWriter(self.folder, base.folder if base is not None else None,
                                       first_id=base.manifest.get("next_chunk_id", 1) if base is not None else 1)
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise

    def remove_article(self, article_id: str) -> None:
        ids = self.meta.remove_article(article_id)
        self.vectors.remove(np.array(ids, dtype=np.int64))

    def add_article(self, article: Article, chunks: list[Chunk] | None = None,
                    vectors: np.ndarray | None = None) -> None:
        """Record an article; with its chunks and their vectors (row i is chunk i's), those too
        (else add them with `add_chunks`)."""
        self.meta.add_article(article)
        if chunks:
            self.add_chunks(chunks, vectors)

    def add_chunks(self, chunks: list[Chunk], vectors: np.ndarray) -> None:
        """Chunks of articles already added, with their vectors (row i is chunk i's)."""
        if chunks:
            ids = self.meta.add_chunks(chunks)
            self.vectors.add(np.array(ids, dtype=np.int64), vectors)

    def commit(self, manifest: dict) -> IndexSnapshot:
        """Write everything durably, then switch the manifest to this generation.

        Older generations stay: `collect_garbage` removes those no reader holds.
        """
        self.meta.commit()
        lexical = self._build_lexical()
        self.meta.close()
        self.vectors.save(self.folder)
        lexical.save(self.folder)
        for path in [self.meta.path, *self.vectors.files(self.folder), *lexical.files(self.folder)]:
            _fsync(path)
        _fsync(self.folder / Bm25Store.FOLDER)
        _fsync(self.folder)
        _fsync(self.index_dir)  # the generation's folder entry, before the manifest names it
        manifest = dict(manifest, generation=self.generation, format_version=FORMAT_VERSION,
                        dimension=self.vectors.dimension, chunks=len(self.vectors),
                        vector_store=self.vector_store, next_chunk_id=self.meta.next_id,
                        updated=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        _replace_file(self.index_dir / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
        stamp = manifest_stamp(self.index_dir)
        return load_snapshot(self.index_dir, manifest, stamp)

    def _build_lexical(self) -> Bm25Store:
        """BM25 over every chunk of this generation, rebuilt rather than patched: its
        statistics are corpus-wide (the cost is measured in benchmarks/results/lexical_update.md)."""
        ids, texts = self.meta.chunk_texts()
        return Bm25Store.build(ids, texts)

    def abort(self) -> None:
        """Drop this generation; the base generation and its readers are untouched (rows another
        engine already holds for it are undone by the next update, or dropped now when the
        store is new)."""
        try:
            self.meta.close()
            discard = getattr(self.vectors, "discard", None)
            if discard is not None:
                discard()
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
