"""The vector store interface and the choice of engine by name.

``Settings.vector_store`` (``--vector-store``) names the engine and where it keeps its vectors:

- ``faiss``: FAISS files in the index's generation folders (`qa.stores.faiss_store`; the
  default, embedded, no server);
- ``milvus:PATH.db``: a Milvus Lite file; ``milvus:http://host:19530``: a Milvus server or
  cluster (`qa.stores.milvus_store`).

An engine named ``NAME`` lives in the module ``qa.stores.NAME_store``, whose ``ENGINE`` class
implements `VectorEngine`: a third engine is one new file.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Protocol

import numpy as np

from qa.errors import IndexProblem

DEFAULT = "faiss"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class VectorStore(Protocol):
    """What qa needs from a vector index. Ids are int64 chunk ids; vectors are L2-normalised
    float32 rows, and scores inner products (cosine)."""

    dimension: int

    def __len__(self) -> int: ...
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...
    def remove(self, ids: np.ndarray) -> None: ...
    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each ``(len(queries), <= k)``, best first; id -1 pads a short row."""
        ...
    def vectors_of(self, ids: np.ndarray) -> np.ndarray: ...
    def save(self, folder: Path) -> None:
        """Make this generation durable and write what `VectorEngine.load` reads in ``folder``."""
        ...
    def files(self, folder: Path) -> list[Path]:
        """The files `save` wrote in ``folder`` (to fsync them)."""
        ...


class VectorEngine(Protocol):
    """How a vector store is created, opened and tidied; ``location`` is the part of the
    setting after ``NAME:`` ("" for ``faiss``)."""

    @staticmethod
    def normalize(location: str) -> str:
        """The location as recorded in the manifest (a path made absolute, ...)."""
        ...

    @classmethod
    def create(cls, location: str, dimension: int, generation: int) -> VectorStore:
        """A new, empty store whose rows will belong to ``generation``."""
        ...

    @classmethod
    def load(cls, folder: Path) -> VectorStore:
        """The store of the generation in ``folder``, to search (raises on a missing or broken
        store; the caller turns that into the rebuild message)."""
        ...

    @classmethod
    def load_for_update(cls, folder: Path, generation: int) -> VectorStore:
        """A store holding the vectors of the generation in ``folder``, whose changes make the
        new ``generation`` and leave the one in ``folder`` as it is for its readers."""
        ...

    @classmethod
    def collect_garbage(cls, released: list[Path], live: list[Path]) -> None:
        """Free what only the generation folders ``released`` (about to be deleted) used;
        ``live`` are the folders that stay."""
        ...


def parse(spec: str) -> tuple[str, str]:
    """``"milvus:x.db"`` -> ``("milvus", "x.db")``; ``"faiss"`` -> ``("faiss", "")``.

    Raises:
        ValueError: not of the form ``NAME`` or ``NAME:LOCATION``.
    """
    name, _, location = (spec or DEFAULT).partition(":")
    if not _NAME.match(name):
        raise ValueError(f"--vector-store must be faiss, milvus:PATH.db or milvus:http://host:19530, not {spec!r}")
    return name, location


def engine(spec: str) -> type[VectorEngine]:
    """The engine class a setting names (its module is imported now).

    Raises:
        IndexProblem: no such engine, or its client library is not installed (with the
            command that installs it).
    """
    try:
        name, _ = parse(spec)
    except ValueError as exc:
        raise IndexProblem(str(exc)) from exc
    module = f"qa.stores.{name}_store"
    try:
        return importlib.import_module(module).ENGINE
    except ModuleNotFoundError as exc:
        if exc.name == module:
            raise IndexProblem(
                f"Unknown vector store {name!r}: use faiss, milvus:PATH.db or milvus:http://host:19530."
            ) from exc
        raise IndexProblem(
            f"The {name} vector store needs the {exc.name} package: pip install 'qa[scale]'"
        ) from exc


def normalize(spec: str) -> str:
    """The setting as the manifest records it, so that two spellings of one store compare equal
    (``milvus:x.db`` run from /srv -> ``milvus:/srv/x.db``)."""
    name, location = parse(spec)
    location = engine(spec).normalize(location)
    return f"{name}:{location}" if location else name
