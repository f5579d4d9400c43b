"""The embedded default vector store: FAISS, one file per generation folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np


class FaissVectorStore:
    """Exact inner-product search (cosine on normalised vectors) with removable ids.

    Exact search is the right default for news corpora (100k chunks search in a few ms); an
    IVF or HNSW index could replace it here without touching the callers
    (benchmarks/results/scale.md measures both).
    """

    FILE = "vectors.faiss"

    def __init__(self, dimension: int, index=None):
        import faiss

        self.dimension = dimension
        self._index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))

    # -- the engine (`qa.stores.vectors.VectorEngine`) ------------------------------------

    @staticmethod
    def normalize(location: str) -> str:
        return ""  # the vectors live in the index folder: nothing to record

    @classmethod
    def create(cls, location: str, dimension: int, generation: int) -> FaissVectorStore:
        return cls(dimension)

    @classmethod
    def load(cls, folder: Path) -> FaissVectorStore:
        import faiss

        index = faiss.read_index(str(folder / cls.FILE))
        return cls(index.d, index)

    @classmethod
    def load_for_update(cls, folder: Path, generation: int) -> FaissVectorStore:
        return cls.load(folder)  # a copy in memory, saved into the new generation's folder

    @classmethod
    def collect_garbage(cls, released: list[Path], live: list[Path]) -> None:
        pass  # the file goes with its generation folder

    # -- the store --------------------------------------------------------------------------

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

    def files(self, folder: Path) -> list[Path]:
        """The files `save` wrote in ``folder`` (to fsync them)."""
        return [folder / self.FILE]


ENGINE = FaissVectorStore
