"""The Milvus vector store, on Milvus Lite files: the same guarantees as the FAISS default
(incremental, a failed update leaves the previous generation answering, mismatches refused)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from qa.errors import IndexProblem
from qa.indexer import open_index, update_index
from qa.retrieval import Retriever
from qa.stores import milvus_store
from qa.stores.generations import MANIFEST
from qa.stores.lexical import Bm25Store
from qa.stores.milvus_store import MilvusVectorStore
from tests.conftest import ROOT

SECOND = "Floods in Valencia\n\nFlash floods in Valencia killed at least 200 people in October 2024, officials said.\n"
QUESTION = "How many containers of munitions has North Korea shipped to Russia?"


@pytest.fixture(autouse=True)
def close_milvus():
    """Each test's Lite files are released when it ends (Lite serves one process per file)."""
    yield
    milvus_store.close_clients()


@pytest.fixture
def mcfg(cfg, tmp_path):
    return cfg.with_(vector_store=f"milvus:{tmp_path / 'vectors.db'}")


def unit(rows: int, dim: int = 8, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(rows, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_a_new_generation_never_changes_what_the_previous_one_sees(tmp_path):
    v = unit(6)
    (tmp_path / "g1").mkdir()
    (tmp_path / "g2").mkdir()
    first = MilvusVectorStore.create(str(tmp_path / "v.db"), 8, generation=1)
    first.add(np.array([1, 2, 3]), v[:3])
    first.save(tmp_path / "g1")
    second = MilvusVectorStore.load_for_update(tmp_path / "g1", generation=2)
    second.remove(np.array([2]))
    second.add(np.array([4, 5]), v[3:5])
    second.save(tmp_path / "g2")
    old = MilvusVectorStore.load(tmp_path / "g1")
    new = MilvusVectorStore.load(tmp_path / "g2")
    assert len(old) == 3 and len(new) == 4
    assert set(old.search(v, 6)[1].ravel()) - {-1} == {1, 2, 3}
    assert set(new.search(v, 6)[1].ravel()) - {-1} == {1, 3, 4, 5}
    assert np.allclose(new.vectors_of(np.array([5, 1])), v[[4, 0]], atol=1e-6)
    with pytest.raises(KeyError):
        new.vectors_of(np.array([2]))


def test_search_scores_are_inner_products_best_first(tmp_path):
    v = unit(50, seed=1)
    store = MilvusVectorStore.create(str(tmp_path / "v.db"), 8, generation=1)
    store.add(np.arange(100, 150), v)
    scores, ids = store.search(v[:3], 5)
    assert ids.shape == (3, 5) and list(ids[:, 0]) == [100, 101, 102]
    expected = np.sort(v[:3] @ v.T, axis=1)[:, ::-1][:, :5]
    assert np.allclose(scores, expected, atol=1e-5)


def test_milvus_lite_index_retrieves_what_faiss_retrieves(cfg, mcfg, embedder):
    faiss_snap, _ = update_index(cfg.with_(index_dir=cfg.index_dir.parent / "faiss-index"), embedder)
    milvus_snap, report = update_index(mcfg, embedder)
    assert report.added == ["north-korean-troops-russia.txt"] and len(milvus_snap) == len(faiss_snap)
    assert (milvus_snap.folder / "vectors.json").exists() and not (milvus_snap.folder / "vectors.faiss").exists()
    retriever = Retriever(embedder, top_k=4, mode="hybrid")
    a = retriever.retrieve(faiss_snap, QUESTION)
    b = retriever.retrieve(milvus_snap, QUESTION)
    assert [p.record.id for p in a] == [p.record.id for p in b]
    assert np.allclose([p.similarity for p in a], [p.similarity for p in b], atol=1e-5)
    manifest = json.loads((mcfg.index_dir / MANIFEST).read_text())
    assert manifest["vector_store"] == f"milvus:{cfg.index_dir.parent / 'vectors.db'}"


def test_articles_are_added_updated_and_removed_incrementally(mcfg, embedder, corpus_dir):
    n = len(update_index(mcfg, embedder)[0])
    (corpus_dir / "valencia.txt").write_text(SECOND)
    snap, report = update_index(mcfg, embedder)
    assert report.added == ["valencia.txt"] and report.embedded_chunks == 1 and len(snap) == n + 1
    (corpus_dir / "valencia.txt").write_text(SECOND.replace("200", "223"))
    snap, report = update_index(mcfg, embedder)
    assert report.updated == ["valencia.txt"] and report.embedded_chunks == 1 and len(snap) == n + 1
    top = Retriever(embedder, top_k=1).retrieve(snap, "How many died in the Valencia floods?")[0]
    assert "223" in top.text
    (corpus_dir / "valencia.txt").unlink()
    del snap, top  # no reader holds an older generation now
    snap, report = update_index(mcfg, embedder)
    assert report.removed == ["valencia.txt"] and len(snap) == n
    # rows that no remaining generation sees are deleted with their generations: one row per chunk
    c = milvus_store.client(str(mcfg.index_dir.parent / "vectors.db"))
    collection = json.loads((snap.folder / "vectors.json").read_text())["collection"]
    assert c.query(collection, filter="id >= 0", output_fields=["count(*)"])[0]["count(*)"] == len(snap)


def test_a_reader_keeps_its_generation_while_an_update_commits(mcfg, embedder, corpus_dir):
    before, _ = update_index(mcfg, embedder)
    ids_before = set(before.vectors.search(embedder.encode([QUESTION]), 50)[1].ravel()) - {-1}
    (corpus_dir / "valencia.txt").write_text(SECOND)
    (corpus_dir / "north-korean-troops-russia.txt").unlink()
    after, _ = update_index(mcfg, embedder)
    assert not before.is_current()
    assert set(before.vectors.search(embedder.encode([QUESTION]), 50)[1].ravel()) - {-1} == ids_before
    assert len(after) == 1 and not ids_before & set(after.vectors.search(embedder.encode([QUESTION]), 50)[1].ravel())


def test_an_update_that_fails_half_way_leaves_the_previous_generation_answering(mcfg, embedder, corpus_dir,
                                                                               monkeypatch):
    before, _ = update_index(mcfg, embedder)
    n_before = len(before)
    (corpus_dir / "valencia.txt").write_text(SECOND)
    (corpus_dir / "north-korean-troops-russia.txt").rename(corpus_dir / "renamed.txt")

    def crash(self, folder):
        raise OSError("disk full")

    # after the vectors are in Milvus (rows added and ended), before the manifest switch
    monkeypatch.setattr(Bm25Store, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        update_index(mcfg, embedder)
    monkeypatch.undo()
    snap = open_index(mcfg, embedder)
    assert snap.folder == before.folder and len(snap) == n_before
    assert [a.id for a in snap.articles()] == ["north-korean-troops-russia.txt"]
    assert Retriever(embedder, top_k=8).retrieve(snap, QUESTION)  # every row it names is there
    (corpus_dir / "renamed.txt").rename(corpus_dir / "north-korean-troops-russia.txt")
    snap, report = update_index(mcfg, embedder)  # takes the failed update's rows back first
    assert report.added == ["valencia.txt"] and not report.removed and len(snap) == n_before + 1
    found = Retriever(embedder, top_k=3).retrieve(snap, QUESTION)
    assert [p.record.chunk.article_id for p in found] == ["north-korean-troops-russia.txt"] * 3


def test_an_index_built_on_faiss_is_refused_with_milvus_and_the_reverse(cfg, mcfg, embedder):
    update_index(cfg, embedder)
    with pytest.raises(IndexProblem, match=r"vector store 'faiss' \(settings say 'milvus:.*qa index --rebuild --index \S+ --vector-store milvus:"):
        open_index(mcfg, embedder)
    snap, report = update_index(mcfg, embedder, rebuild=True)
    assert report.rebuilt and (snap.folder / "vectors.json").exists()
    with pytest.raises(IndexProblem, match=r"vector store 'milvus:.*\(settings say 'faiss'\).*qa index --rebuild"):
        open_index(cfg, embedder)


def test_a_rebuild_drops_the_old_collection(mcfg, embedder):
    first, _ = update_index(mcfg, embedder)
    old = json.loads((first.folder / "vectors.json").read_text())["collection"]
    del first
    snap, _ = update_index(mcfg, embedder, rebuild=True)
    new = json.loads((snap.folder / "vectors.json").read_text())["collection"]
    c = milvus_store.client(str(mcfg.index_dir.parent / "vectors.db"))
    assert new != old and c.list_collections() == [new]


def test_a_missing_collection_gives_the_rebuild_message(mcfg, embedder):
    snap, _ = update_index(mcfg, embedder)
    c = milvus_store.client(str(mcfg.index_dir.parent / "vectors.db"))
    c.drop_collection(json.loads((snap.folder / "vectors.json").read_text())["collection"])
    with pytest.raises(IndexProblem, match="is corrupt or incomplete.*qa index --rebuild"):
        open_index(mcfg, embedder)


def test_the_cli_indexes_and_lists_on_milvus_lite_and_says_when_another_process_holds_the_file(
        corpus_dir, tmp_path):
    db = tmp_path / "v.db"
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    common = ["--corpus", str(corpus_dir), "--index", str(tmp_path / "idx"), "--vector-store", f"milvus:{db}"]
    run = [sys.executable, "-m", "qa.cli"]
    done = subprocess.run(run + ["index", *common], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "1 added" in done.stdout and "Traceback" not in done.stderr
    listed = subprocess.run(run + ["articles", "--json", *common], env=env, capture_output=True, text=True,
                            timeout=300)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["id"] == "north-korean-troops-russia.txt"
    milvus_store.client(str(db))  # this process now holds the Lite file
    refused = subprocess.run(run + ["articles", *common], env=env, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2
    assert "Milvus Lite serves one process at a time" in refused.stderr
