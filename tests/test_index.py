"""The index: built from the corpus, incremental, atomic, and refusing what it cannot trust."""

import json
import shutil

import numpy as np
import pytest

from qa.errors import IndexProblem, NoArticles
from qa.indexer import chunking_settings, open_index, update_index
from qa.stores.faiss_store import FaissVectorStore
from qa.stores.generations import FORMAT_VERSION, MANIFEST

SECOND = "Floods in Valencia\n\nFlash floods in Valencia killed at least 200 people in October 2024, officials said.\n"



def test_first_build_embeds_every_article_and_writes_a_manifest(cfg, embedder):
    snap, report = update_index(cfg, embedder)
    assert report.added == ["north-korean-troops-russia.txt"] and report.embedded_chunks == len(snap) > 0
    manifest = json.loads((cfg.index_dir / MANIFEST).read_text())
    assert manifest["embedding_model"] == embedder.name and manifest["dimension"] == 384
    assert manifest["chunking"] == chunking_settings(cfg) and manifest["format_version"] == FORMAT_VERSION
    assert manifest["chunking"]["unit"] == "embedder word pieces"
    assert set(manifest["articles"]) == {"north-korean-troops-russia.txt"}


def test_adding_an_article_embeds_only_that_article(cfg, embedder, corpus_dir):
    first, _ = update_index(cfg, embedder)
    (corpus_dir / "valencia.txt").write_text(SECOND)
    snap, report = update_index(cfg, embedder)
    assert report.added == ["valencia.txt"]
    assert report.unchanged == ["north-korean-troops-russia.txt"]
    assert report.embedded_chunks == 1 and len(snap) == len(first) + 1
    assert "1 unchanged (not embedded again)" in report.summary()


def test_unchanged_corpus_embeds_nothing(cfg, embedder):
    update_index(cfg, embedder)
    _, report = update_index(cfg, embedder)
    assert not report.changed and report.embedded_chunks == 0


def test_changed_and_removed_articles_are_updated(cfg, embedder, corpus_dir):
    (corpus_dir / "valencia.txt").write_text(SECOND)
    update_index(cfg, embedder)
    (corpus_dir / "valencia.txt").write_text(SECOND.replace("200", "223"))
    snap, report = update_index(cfg, embedder)
    assert report.updated == ["valencia.txt"]
    assert "223" in snap.article_text("valencia.txt")
    (corpus_dir / "valencia.txt").unlink()
    snap, report = update_index(cfg, embedder)
    assert report.removed == ["valencia.txt"]
    assert [a.id for a in snap.articles()] == ["north-korean-troops-russia.txt"]
    assert len(snap) == snap.articles()[0].chunks


def test_search_finds_the_passage_about_containers(cfg, embedder):
    snap, _ = update_index(cfg, embedder)
    scores, ids = snap.vectors.search(embedder.encode(["containers of munitions shipped to Russia"]), 1)
    record = snap.chunk_records(ids[0])[int(ids[0][0])]
    assert "13,000 containers" in record.chunk.text and scores[0][0] > 0.4


def test_binary_file_is_skipped_and_the_index_still_builds(cfg, embedder, corpus_dir):
    (corpus_dir / "garbage.txt").write_bytes(bytes(range(256)) * 40)
    snap, report = update_index(cfg, embedder)
    assert report.skipped and report.skipped[0][0] == "garbage.txt"
    assert "Skipped garbage.txt" in report.summary() and len(snap) > 0


def test_no_articles_is_a_clear_error_and_keeps_the_old_index(cfg, embedder, corpus_dir):
    update_index(cfg, embedder)
    manifest = (cfg.index_dir / MANIFEST).read_text()
    for p in corpus_dir.iterdir():
        p.unlink()
    with pytest.raises(NoArticles, match="No readable articles"):
        update_index(cfg, embedder)
    assert (cfg.index_dir / MANIFEST).read_text() == manifest


def test_index_built_with_another_embedding_model_is_refused(cfg, embedder):
    update_index(cfg, embedder)
    manifest = json.loads((cfg.index_dir / MANIFEST).read_text())
    manifest["embedding_model"] = "some/other-model"
    (cfg.index_dir / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexProblem, match="qa index --rebuild"):
        open_index(cfg, embedder)
    with pytest.raises(IndexProblem, match="other-model"):
        update_index(cfg, embedder)
    _, report = update_index(cfg, embedder, rebuild=True)
    assert report.rebuilt and open_index(cfg, embedder) is not None


def test_index_of_another_format_version_is_refused(cfg, embedder):
    update_index(cfg, embedder)
    manifest = json.loads((cfg.index_dir / MANIFEST).read_text())
    manifest["format_version"] = 999
    (cfg.index_dir / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IndexProblem, match="format version 999"):
        open_index(cfg, embedder)


@pytest.mark.parametrize("damage", ["manifest", "vectors", "sqlite"])
def test_corrupt_index_files_give_a_clear_error_and_indexing_rebuilds(cfg, embedder, damage):
    snap, _ = update_index(cfg, embedder)
    target = {"manifest": cfg.index_dir / MANIFEST, "vectors": snap.folder / FaissVectorStore.FILE,
              "sqlite": snap.folder / "meta.sqlite"}[damage]
    target.write_bytes(b"\x00garbage" * 10)
    with pytest.raises(IndexProblem, match="corrupt|inconsistent"):
        open_index(cfg, embedder)
    snap, report = update_index(cfg, embedder)
    assert report.rebuilt and len(snap) > 0 and open_index(cfg, embedder) is not None


def test_a_crash_mid_write_leaves_the_previous_index_usable(cfg, embedder, corpus_dir, monkeypatch):
    before, _ = update_index(cfg, embedder)
    n_before = len(before)
    (corpus_dir / "valencia.txt").write_text(SECOND)

    def crash(self, folder):
        raise OSError("disk full")

    monkeypatch.setattr(FaissVectorStore, "save", crash)
    with pytest.raises(OSError):
        update_index(cfg, embedder)
    monkeypatch.undo()
    snap = open_index(cfg, embedder)
    assert len(snap) == n_before and [a.id for a in snap.articles()] == ["north-korean-troops-russia.txt"]
    assert len([p for p in cfg.index_dir.iterdir() if p.name.startswith("gen-")]) == 1
    snap, report = update_index(cfg, embedder)
    assert report.added == ["valencia.txt"]


def test_vectors_are_normalised_so_inner_product_is_cosine(embedder):
    v = embedder.encode(["one sentence", "another, longer sentence about troops"])
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)


def test_old_generations_are_removed(cfg, embedder, corpus_dir):
    update_index(cfg, embedder)
    (corpus_dir / "valencia.txt").write_text(SECOND)
    update_index(cfg, embedder)
    gens = [p.name for p in cfg.index_dir.iterdir() if p.name.startswith("gen-")]
    assert gens == [json.loads((cfg.index_dir / MANIFEST).read_text())["generation"]]
    shutil.rmtree(cfg.index_dir)


def test_the_files_an_update_could_not_use_are_recorded_beside_the_manifest(cfg, embedder, corpus_dir):
    """For every process showing the index (the chat beside `qa index`), even when nothing else
    changed and no new generation is written."""
    from qa.stores.generations import recorded_skipped

    update_index(cfg, embedder)
    assert recorded_skipped(cfg.index_dir) == []
    (corpus_dir / "noise.json").write_text("{broken")
    _, report = update_index(cfg, embedder)
    assert not report.changed
    assert [path for path, _ in recorded_skipped(cfg.index_dir)] == ["noise.json"]
