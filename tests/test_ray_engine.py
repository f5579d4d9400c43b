"""qa index and qa batch on Ray: a real local Ray (2 CPUs), real workers, real models; the
same index and the same answers as one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from qa import ray_engine
from qa.assistant import Assistant
from qa.batch import AnswerWriter, answer_file, read_questions, run_batch
from qa.errors import InvalidInput
from qa.indexer import update_index
from qa.settings import Settings
from tests.conftest import ROOT, SAMPLE_ARTICLE

OTHERS = {
    "valencia.txt": "Floods in Valencia\n\nFlash floods in Valencia killed at least 223 people in October "
                    "2024, officials said. Rescue teams searched cars swept into the ravines.\n",
    "rates.txt": "Rates held\n\nThe central bank kept its main rate at 4.25 percent on Thursday, its "
                 "governor said, citing sticky services inflation.\n",
}
QUESTIONS = (
    '{"id": "q1", "question": "How many people did the floods in Valencia kill?"}\n'
    '{"id": "q2", "question": "What rate did the central bank keep?"}\n'
    '{"id": "c", "turns": [{"question": "Who is sending troops to Russia?"}, {"question": "How many?"}]}\n'
    '{"id": "q3", "question": "How many containers of munitions has North Korea shipped to Russia?"}\n'
)


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for the module (2 CPUs, 2 workers), shut down at its end."""
    settings = Settings(engine="ray", workers=2)
    with ray_engine.connected(settings):
        yield settings


@pytest.fixture
def corpus3(corpus_dir):
    for name, text in OTHERS.items():
        (corpus_dir / name).write_text(text)
    return corpus_dir


def chunk_table(snap) -> dict[tuple[str, int], tuple[int, int, np.ndarray]]:
    """(article id, chunk index) -> (start, end, vector), whatever ids the chunks got."""
    out = {}
    for a in snap.articles():
        ids = [r[0] for r in snap.metadata._db().execute("SELECT id FROM chunks WHERE article_id = ?", (a.id,))]
        for cid, rec in snap.chunk_records(ids).items():
            out[(a.id, rec.chunk.index)] = (rec.chunk.start, rec.chunk.end, snap.vectors.vectors_of(np.array([cid]))[0])
    return out


def test_indexing_on_ray_workers_gives_the_index_one_process_gives(cfg, corpus3, embedder, local_ray):
    local, local_report = update_index(cfg.with_(index_dir=cfg.index_dir.parent / "local"), embedder)
    on_ray, report = update_index(cfg.with_(engine="ray", workers=2), embedder)
    assert report.added == local_report.added and report.embedded_chunks == local_report.embedded_chunks == len(local)
    a, b = chunk_table(local), chunk_table(on_ray)
    assert a.keys() == b.keys()
    for key, (start, end, vector) in a.items():
        assert b[key][:2] == (start, end)
        assert np.allclose(b[key][2], vector, atol=1e-5)


def test_an_update_on_ray_embeds_only_the_new_article(cfg, corpus_dir, embedder, local_ray):
    ray_cfg = cfg.with_(engine="ray", workers=2)
    first, _ = update_index(ray_cfg, embedder)
    (corpus_dir / "valencia.txt").write_text(OTHERS["valencia.txt"])
    snap, report = update_index(ray_cfg, embedder)
    assert report.added == ["valencia.txt"] and report.embedded_chunks == 1 and len(snap) == len(first) + 1


def test_a_batch_on_ray_writes_every_answer_one_process_writes(settings, corpus3, tmp_path, local_ray):
    questions_file = tmp_path / "questions.jsonl"
    questions_file.write_text(QUESTIONS)
    assistant = Assistant(settings)
    local = answer_file(assistant, questions_file, tmp_path / "local.jsonl", progress=False)
    result = answer_file(Assistant(settings.with_(engine="ray", workers=2)), questions_file,
                         tmp_path / "ray.jsonl", progress=False, engine="ray")
    assert result.written == local.written == 5 and not result.problems
    rows = {r["id"]: r for r in map(json.loads, (tmp_path / "ray.jsonl").read_text().splitlines())}
    expected = {r["id"]: r for r in map(json.loads, (tmp_path / "local.jsonl").read_text().splitlines())}
    assert rows.keys() == expected.keys() == {"q1", "q2", "c:1", "c:2", "q3"}
    for qid, row in rows.items():
        assert (row["answer"], row["found"], [p["text"] for p in row["passages"]]) == (
            expected[qid]["answer"], expected[qid]["found"], [p["text"] for p in expected[qid]["passages"]]), qid
    assert rows["c:2"]["query"] == expected["c:2"]["query"]  # the follow-up saw the first turn's answer


def test_a_batch_on_ray_resumes_where_an_interrupted_run_stopped(settings, corpus3, tmp_path, local_ray):
    questions_file = tmp_path / "questions.jsonl"
    questions_file.write_text(QUESTIONS)
    questions, _ = read_questions(questions_file)
    answers = tmp_path / "answers.jsonl"
    assistant = Assistant(settings.with_(engine="ray", workers=2))
    with AnswerWriter(answers) as writer:  # an earlier run that stopped after the conversation's first turn
        run_batch(assistant, questions[:3], writer, progress=False)
    with AnswerWriter(answers, resume=True) as writer:
        result = run_batch(assistant, questions, writer, progress=False, engine="ray")
    assert result.resumed == 3 and result.written == 2
    ids = [json.loads(line)["id"] for line in answers.read_text().splitlines()]
    assert sorted(ids) == ["c:1", "c:2", "q1", "q2", "q3"]


def test_a_batch_on_ray_refuses_a_milvus_lite_file_up_front(settings, tmp_path):
    questions_file = tmp_path / "questions.txt"
    questions_file.write_text("How many?\n")
    lite = Assistant(settings.with_(vector_store=f"milvus:{tmp_path / 'v.db'}"))
    with pytest.raises(InvalidInput, match="Milvus Lite file serves one"):
        answer_file(lite, questions_file, tmp_path / "a.jsonl", progress=False, engine="ray")


def test_qa_index_engine_ray_starts_its_own_ray_and_builds_the_index(corpus3, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    common = ["--corpus", str(corpus3), "--index", str(tmp_path / "idx")]
    done = subprocess.run([sys.executable, "-m", "qa.cli", "index", "--engine", "ray", "--workers", "2", *common],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "3 added" in done.stdout
    listed = subprocess.run([sys.executable, "-m", "qa.cli", "articles", "--json", *common], env=env,
                            capture_output=True, text=True, timeout=300)
    assert sorted(json.loads(line)["id"] for line in listed.stdout.splitlines()) == sorted(
        [SAMPLE_ARTICLE.name, *OTHERS])
