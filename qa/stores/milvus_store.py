"""Vectors in Milvus: a Milvus Lite file (``milvus:PATH.db``, embedded, for one machine and for
tests) or a Milvus server or cluster (``milvus:http://host:19530``), through the same pymilvus
client.

One collection per index holds every generation's rows, with the generation span in which each
row is visible::

    id (chunk id, primary key) | gen_from | gen_to | vector (float32, IP metric)

A row belongs to generation G when ``gen_from <= G < gen_to`` (``gen_to`` is `LIVE` until the
chunk is removed). So building generation G+1 never disturbs G's readers: new chunks are inserted
with ``gen_from = G+1`` (invisible to G), removed ones get ``gen_to = G+1`` (still visible to G);
the switch is the manifest's atomic replacement, as with FAISS. A writer that dies half-way leaves
rows that no committed generation sees; the next update takes them back first
(`MilvusVectorStore.load_for_update`), and rows that no remaining generation sees are deleted
when their generations are collected. Chunk ids are never reused (the manifest keeps the next
free one), so a primary key is one chunk for ever.

Each generation folder holds ``vectors.json``: the server or file, the collection and the
generation, which is what a reader opens. The collection is created with Strong consistency, so
a reader that follows a committed manifest sees every row the writer inserted.

Milvus Lite serves one process per file (it takes a lock): while ``qa chat`` holds a Lite file,
``qa index`` in another process is refused with a message saying so. Several processes sharing
one index need a Milvus server (``milvus-lite`` also runs one locally), or the FAISS default.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from pathlib import Path

import numpy as np

from qa.errors import IndexProblem

LIVE = 2**62  # gen_to of a row no generation has removed
POINTER = "vectors.json"
_BATCH = 2000  # rows per insert / upsert / get call (well under gRPC's 64 MB message limit)
_clients: dict[str, object] = {}
_clients_lock = threading.Lock()


def _is_server(uri: str) -> bool:
    return uri.startswith(("http://", "https://", "tcp://", "grpc://"))


def client(uri: str):
    """One pymilvus client per server or Lite file, shared by the process (a Lite file admits
    one process, and opening it again in the same process would start a second server).

    Raises:
        IndexProblem: the Lite file is held by another process, or the server does not answer.
    """
    with _clients_lock:
        found = _clients.get(uri)
        if found is not None:
            return found
        from pymilvus import MilvusClient

        # Milvus Lite's in-process gRPC server logs a traceback for each client call it does not
        # implement (AllocTimestamp, asked by pymilvus when it opens a collection) and then
        # answers without it: noise under every `qa` command, not an error.
        logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
        try:
            made = MilvusClient(uri=uri)
        except Exception as exc:  # noqa: BLE001 - pymilvus raises its own, and grpc's
            if _is_server(uri):
                raise IndexProblem(f"The Milvus server at {uri} does not answer ({exc}). "
                                   f"Start it, or choose another --vector-store.") from exc
            raise IndexProblem(
                f"The Milvus Lite file {uri} could not be opened ({exc}). Milvus Lite serves one "
                f"process at a time: stop the other qa process using it, or serve the index from a "
                f"Milvus server (--vector-store milvus:http://host:19530)."
            ) from exc
        _clients[uri] = made
        return made


def close_clients() -> None:
    """Close every client this process opened (a Lite file is released for other processes)."""
    with _clients_lock:
        for c in _clients.values():
            try:
                c.close()
            except Exception:  # noqa: BLE001, S110 - closing at exit: nothing to do about it
                pass
        _clients.clear()


class MilvusVectorStore:
    """The rows of one generation of one collection (see the module docstring)."""

    def __init__(self, uri: str, collection: str, generation: int, dimension: int, created: bool = False):
        """``created``: this store made the collection (so `discard` drops it)."""
        self.uri = uri
        self.collection = collection
        self.generation = generation
        self.dimension = dimension
        self._client = client(uri)
        self._created = created
        self._visible = f"gen_from <= {generation} and gen_to > {generation}"

    # -- the engine (`qa.stores.vectors.VectorEngine`) ------------------------------------

    @staticmethod
    def normalize(location: str) -> str:
        if not location:
            raise IndexProblem("--vector-store milvus needs a place: milvus:PATH.db (Milvus Lite) "
                               "or milvus:http://host:19530 (a server)")
        return location if _is_server(location) else str(Path(location).expanduser().resolve())

    @classmethod
    def create(cls, location: str, dimension: int, generation: int) -> MilvusVectorStore:
        from pymilvus import DataType

        uri = cls.normalize(location)
        if not _is_server(uri):
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
        c = client(uri)
        name = f"qa_{uuid.uuid4().hex[:16]}"
        schema = c.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("gen_from", DataType.INT64)
        schema.add_field("gen_to", DataType.INT64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
        params = c.prepare_index_params()
        # Lite: exact search, as the FAISS default. A server: its AUTOINDEX (HNSW-based),
        # which is what makes 100M rows searchable (README "Scale-out").
        params.add_index(field_name="vector", metric_type="IP",
                         index_type="AUTOINDEX" if _is_server(uri) else "FLAT")
        c.create_collection(name, schema=schema, index_params=params, consistency_level="Strong")
        return cls(uri, name, generation, dimension, created=True)

    @classmethod
    def load(cls, folder: Path) -> MilvusVectorStore:
        p = json.loads((folder / POINTER).read_text(encoding="utf-8"))
        store = cls(p["uri"], p["collection"], int(p["generation"]), int(p["dimension"]))
        if not store._client.has_collection(p["collection"]):
            raise LookupError(f"the Milvus collection {p['collection']} is gone from {p['uri']}")
        store._client.load_collection(p["collection"])  # into memory (a no-op when it is)
        return store

    @classmethod
    def load_for_update(cls, folder: Path, generation: int) -> MilvusVectorStore:
        base = cls.load(folder)
        base._take_back_strays()
        return cls(base.uri, base.collection, generation, base.dimension)

    @classmethod
    def collect_garbage(cls, released: list[Path], live: list[Path]) -> None:
        """Delete the rows no live generation sees; drop collections no live generation uses."""
        pointers = {}
        for folder in live:
            try:
                pointers[folder] = json.loads((folder / POINTER).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # a FAISS generation (after a rebuild with another store), or broken
        oldest: dict[tuple[str, str], int] = {}
        for p in pointers.values():
            key = (p["uri"], p["collection"])
            oldest[key] = min(oldest.get(key, LIVE), int(p["generation"]))
        for (uri, collection), gen in oldest.items():
            client(uri).delete(collection, filter=f"gen_to <= {gen}")
        for folder in released:
            try:
                p = json.loads((folder / POINTER).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if (p["uri"], p["collection"]) not in oldest:
                c = client(p["uri"])
                if c.has_collection(p["collection"]):
                    c.drop_collection(p["collection"])

    # -- the store --------------------------------------------------------------------------

    def __len__(self) -> int:
        rows = self._client.query(self.collection, filter=self._visible, output_fields=["count(*)"])
        return int(rows[0]["count(*)"])

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dimension:
            raise ValueError(f"expected vectors of dimension {self.dimension}, got {vectors.shape}")
        ids = np.asarray(ids, dtype=np.int64)
        for s in range(0, len(ids), _BATCH):
            self._client.insert(self.collection, [
                {"id": int(i), "gen_from": self.generation, "gen_to": LIVE, "vector": v.tolist()}
                for i, v in zip(ids[s : s + _BATCH], vectors[s : s + _BATCH])
            ])

    def remove(self, ids: np.ndarray) -> None:
        """End the rows of ``ids`` at this generation (older generations still see them); rows
        this generation itself added are deleted."""
        ids = [int(i) for i in ids]
        for s in range(0, len(ids), _BATCH):
            rows = self._client.get(self.collection, ids=ids[s : s + _BATCH],
                                    output_fields=["gen_from", "gen_to", "vector"])
            mine = [r["id"] for r in rows if r["gen_from"] >= self.generation]
            ended = [dict(r, gen_to=self.generation) for r in rows
                     if r["gen_from"] < self.generation and r["gen_to"] > self.generation]
            if mine:
                self._client.delete(self.collection, ids=mine)
            if ended:
                self._client.upsert(self.collection, [_row(r) for r in ended])

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each ``(len(queries), <= k)``; ``allowed``: search only these ids (a
        filter expression, applied by Milvus during the search)."""
        n = len(queries)
        if allowed is not None:
            k = min(k, len(allowed))
        if k <= 0 or n == 0:
            return np.zeros((n, 0), np.float32), np.zeros((n, 0), np.int64)
        where = self._visible
        if allowed is not None:
            where = f"({where}) and id in [{', '.join(str(int(i)) for i in allowed)}]"
        hits = self._client.search(
            self.collection, data=np.asarray(queries, dtype=np.float32).tolist(), limit=k,
            filter=where, output_fields=["id"], search_params={"metric_type": "IP"},
        )
        width = max((len(h) for h in hits), default=0)
        scores = np.full((n, width), -np.inf, np.float32)
        ids = np.full((n, width), -1, np.int64)
        for row, found in enumerate(hits):
            for col, hit in enumerate(found):
                scores[row, col] = hit["distance"]
                ids[row, col] = hit["id"]
        return scores, ids

    def vectors_of(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of ``ids``, shape ``(len(ids), dimension)``.

        Raises:
            KeyError: an id this generation does not hold."""
        ids = [int(i) for i in ids]
        found = {}
        for s in range(0, len(ids), _BATCH):
            for r in self._client.get(self.collection, ids=ids[s : s + _BATCH],
                                      output_fields=["gen_from", "gen_to", "vector"]):
                if r["gen_from"] <= self.generation < r["gen_to"]:
                    found[r["id"]] = r["vector"]
        missing = [i for i in ids if i not in found]
        if missing:
            raise KeyError(f"chunk ids not in generation {self.generation}: {missing[:5]}")
        return np.array([found[i] for i in ids], dtype=np.float32).reshape(len(ids), self.dimension)

    def save(self, folder: Path) -> None:
        """Flush the rows (durable in Milvus), then write the pointer readers open."""
        self._client.flush(self.collection)
        (folder / POINTER).write_text(json.dumps({
            "engine": "milvus", "uri": self.uri, "collection": self.collection,
            "generation": self.generation, "dimension": self.dimension,
        }, indent=1), encoding="utf-8")

    def files(self, folder: Path) -> list[Path]:
        return [folder / POINTER]

    def discard(self) -> None:
        """An update that failed: drop the collection if this update made it (a rebuild);
        otherwise the rows stay until the next update takes them back."""
        if self._created:
            self._client.drop_collection(self.collection)

    def _take_back_strays(self) -> None:
        """Undo what a writer that died after this generation left: rows it added (``gen_from``
        above this generation) are deleted, rows it ended come back to life."""
        g = self.generation
        self._client.delete(self.collection, filter=f"gen_from > {g}")
        while True:
            rows = self._client.query(self.collection, filter=f"gen_to > {g} and gen_to < {LIVE}",
                                      output_fields=["id", "gen_from", "gen_to", "vector"], limit=_BATCH)
            if not rows:
                return
            self._client.upsert(self.collection, [_row(dict(r, gen_to=LIVE)) for r in rows])


def _row(r: dict) -> dict:
    """A row as returned by get/query, ready to be written back."""
    return {"id": int(r["id"]), "gen_from": int(r["gen_from"]), "gen_to": int(r["gen_to"]),
            "vector": [float(x) for x in r["vector"]]}


ENGINE = MilvusVectorStore
