"""qa's two heavy jobs on Ray: embedding articles for ``qa index --engine ray`` and answering a
questions file for ``qa batch --engine ray``.

- Indexing: the articles to embed become a Ray Dataset; ``map_batches`` runs `ChunkAndEmbed`
  on a pool of actors, each loading the embedder once, chunking its articles and embedding the
  chunks. The driver streams the results into the index writer (and so into the vector store)
  as they come, so it never holds every vector at once. What it does not change: one writer,
  the writer lock, generations, and the incremental diff (only new and changed articles go to
  Ray).
- Batches: a pool of `AskWorker` actors, each with its own `Assistant` over the same index;
  single questions and whole conversations (their turns need the earlier answers) go to the
  first free worker, and the driver writes each row as soon as it comes back, so ``--resume``
  holds as it does for one process.

``Settings.ray_address`` "" starts a Ray on this machine (``workers`` CPUs); an address
(``auto``, ``ray://head:10001``) joins a cluster, whose workers must have qa's dependencies
installed; qa's own code is shipped with the job (``py_modules``). See README "Scale-out".
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from qa.chunking import Chunk, chunk_article
from qa.corpus import Article
from qa.errors import ModelProblem
from qa.settings import Settings

log = logging.getLogger(__name__)

ENGINES = ("local", "ray")


def _ray():
    try:
        import ray
    except ImportError as exc:
        raise ModelProblem("--engine ray needs Ray: pip install 'qa[scale]'") from exc
    return ray


def worker_count(settings: Settings) -> int:
    """Workers to start: ``settings.workers``, else one per CPU Ray offers."""
    if settings.workers > 0:
        return settings.workers
    return max(1, int(_ray().cluster_resources().get("CPU", 1)))


@contextmanager
def connected(settings: Settings) -> Iterator[None]:
    """Ray, started (on this machine) or joined (``settings.ray_address``) for the block, and
    shut down after it when this call started it. A Ray the caller started is used as it is."""
    ray = _ray()
    if ray.is_initialized():
        yield
        return
    import qa

    runtime_env = {"py_modules": [str(Path(qa.__file__).parent)],
                   "env_vars": {"HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1"),
                                "TOKENIZERS_PARALLELISM": "false"}}
    # Ray's own INFO lines (start-up, Ray Data's progress log) would bury qa's output.
    quiet = {"log_to_driver": False, "logging_level": logging.WARNING}
    if settings.ray_address:
        ray.init(address=settings.ray_address, runtime_env=runtime_env, **quiet)
    else:
        ray.init(num_cpus=settings.workers or None, runtime_env=runtime_env, include_dashboard=False, **quiet)
    try:
        yield
    finally:
        ray.shutdown()


def _worker_settings(settings: Settings) -> Settings:
    """Each worker gets one CPU, so one torch thread (more would fight over the same core)."""
    return settings.with_(threads=settings.threads or 1)


# ---------------------------------------------------------------------------------------------
# Indexing
# ---------------------------------------------------------------------------------------------


class ChunkAndEmbed:
    """Ray Data's callable class: built once per actor (the embedder loads once), then called
    on batches of articles (columns ``id``, ``text``), returning one row per chunk (columns
    ``article_id``, ``index``, ``start``, ``end``, ``vector``)."""

    def __init__(self, settings: Settings, chunk_tokens: int):
        import torch

        from qa.embedding import Embedder

        settings = _worker_settings(settings)
        torch.set_num_threads(settings.threads)
        self.embedder = Embedder.from_settings(settings)
        self.embedder.warm_up()
        self.size = chunk_tokens
        self.overlap = settings.chunk_overlap_tokens

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        chunks = [c for aid, text in zip(batch["id"], batch["text"])
                  for c in chunk_article(str(aid), str(text), self.size, self.overlap, self.embedder.token_spans)]
        vectors = self.embedder.encode([c.text for c in chunks]) if chunks else np.zeros(
            (0, self.embedder.dimension), np.float32)
        return {
            "article_id": np.array([c.article_id for c in chunks], dtype=object),
            "index": np.array([c.index for c in chunks], dtype=np.int64),
            "start": np.array([c.start for c in chunks], dtype=np.int64),
            "end": np.array([c.end for c in chunks], dtype=np.int64),
            "vector": vectors,
        }


def chunk_and_embed(settings: Settings, articles: Sequence[Article], chunk_tokens: int,
                    articles_per_batch: int = 4) -> Iterator[tuple[list[Chunk], np.ndarray]]:
    """Chunk and embed ``articles`` on Ray workers; yields (chunks, their vectors) as batches
    finish. Call inside `connected`."""
    ray = _ray()
    if not articles:
        return
    # Ray Data draws progress bars on a terminal; elsewhere (a log, a test) it logs its
    # progress at INFO every few seconds, whatever ray.init was told: off there.
    ray.data.DataContext.get_current().enable_progress_bars = sys.stderr.isatty()
    texts = {a.id: a.text for a in articles}
    workers = min(worker_count(settings), len(articles))
    dataset = ray.data.from_items([{"id": a.id, "text": a.text} for a in articles])
    dataset = dataset.map_batches(
        ChunkAndEmbed, fn_constructor_args=(settings, chunk_tokens), batch_size=articles_per_batch,
        compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=1,
    )
    for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
        chunks = [Chunk(str(a), int(i), int(s), int(e), texts[str(a)][int(s):int(e)])
                  for a, i, s, e in zip(batch["article_id"], batch["index"], batch["start"], batch["end"])]
        if chunks:
            yield chunks, np.asarray(batch["vector"], dtype=np.float32).reshape(len(chunks), -1)


# ---------------------------------------------------------------------------------------------
# Batches of questions
# ---------------------------------------------------------------------------------------------


class AskWorker:
    """One worker's `Assistant` (its models load once), answering groups of questions."""

    def __init__(self, settings: Settings):
        import torch

        from qa.assistant import Assistant

        settings = _worker_settings(settings)
        torch.set_num_threads(settings.threads)
        self.assistant = Assistant(settings)
        self.assistant.warm_up()

    def ask(self, group, done: set[str], filters=None):
        from qa.batch import ask_group

        return list(ask_group(self.assistant, group, done, filters))


def ask_groups_on_ray(settings: Settings, groups: Sequence, done: set[str], filters=None) -> Iterator[list]:
    """Answer question groups on a pool of `AskWorker` actors; yields each group's outcomes
    (`qa.batch.ask_group`) as soon as it is answered, in no fixed order. Call inside
    `connected`."""
    ray = _ray()
    if not groups:
        return
    worker = ray.remote(num_cpus=1)(AskWorker)
    pool = [worker.remote(settings) for _ in range(min(worker_count(settings), len(groups)))]
    todo = list(reversed(groups))
    running = {}
    try:
        for actor in pool:  # two in flight per worker: the next group waits in its queue
            for _ in range(2):
                if todo:
                    running[actor.ask.remote(todo.pop(), done, filters)] = actor
        while running:
            (ready,), _ = ray.wait(list(running), num_returns=1)
            actor = running.pop(ready)
            if todo:
                running[actor.ask.remote(todo.pop(), done, filters)] = actor
            yield ray.get(ready)
    finally:
        for actor in pool:
            ray.kill(actor)
