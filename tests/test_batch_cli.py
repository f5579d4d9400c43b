"""`qa batch` and `qa eval reader` end to end: real Assistant, real index, tiny random reader.

The reader's answers are meaningless (random weights); these tests check the plumbing: files
in, rows out, resume after a real kill, reports and summaries.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _options(settings) -> list[str]:
    return ["--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir),
            "--reader", settings.reader_model]


@pytest.fixture
def indexed(settings):
    from qa.assistant import Assistant

    Assistant(settings).index()
    return settings


def test_qa_batch_answers_a_csv_with_references_and_writes_a_report(indexed, tmp_path, capsys):
    questions = tmp_path / "q.csv"
    questions.write_text(
        "id,question,answers\n"
        "card,How many containers of munitions has North Korea shipped to Russia?,\"13,000|13000\"\n"
        "bad,,\n"
        "who,Who sent troops to Russia?,North Korea\n",
        encoding="utf-8",
    )
    out = tmp_path / "answers.jsonl"
    rc = main(["batch", str(questions), "-o", str(out), "--no-progress", *_options(indexed)])
    captured = capsys.readouterr()
    assert rc == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["card", "who"]
    assert {"answer", "found", "score", "citations", "alternatives", "query", "timings_ms"} <= set(rows[0])
    assert "line 3: empty question; skipped" in captured.err
    assert "exact match" in captured.out and "misses:" in captured.out
    report = json.loads((tmp_path / "answers.report.json").read_text())
    assert report["scores"]["scored"] == 2 and "hit@1" in report["scores"]
    assert report["problems"] == [{"line": 3, "message": "empty question"}]


def test_qa_batch_refuses_to_overwrite_answers_without_resume(indexed, tmp_path, capsys):
    questions = tmp_path / "q.txt"
    questions.write_text("Who sent troops?\n")
    out = tmp_path / "answers.csv"
    out.write_text("id,answer\n1,x\n")
    assert main(["batch", str(questions), "-o", str(out), "--no-progress", *_options(indexed)]) == 2
    assert "--resume" in capsys.readouterr().err


def _wait_for_rows(path: Path, proc: subprocess.Popen, n: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= n:
            return
        if proc.poll() is not None:
            pytest.fail(f"qa batch ended before writing {n} rows: {proc.stderr.read().decode()}")
        time.sleep(0.02)
    pytest.fail(f"qa batch wrote no {n} rows in {timeout} s")


def test_qa_batch_killed_mid_run_resumes_with_every_question_once(indexed, tmp_path):
    n = 30
    questions = tmp_path / "q.jsonl"
    questions.write_text("".join(
        json.dumps({"id": f"q{i}", "question": f"What happened in week {i}?"}) + "\n" for i in range(n)
    ))
    out = tmp_path / "answers.jsonl"
    command = [sys.executable, "-m", "qa.cli", "batch", str(questions), "-o", str(out),
               "--no-progress", *_options(indexed)]
    env = os.environ | {"HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for_rows(out, proc, 3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert 3 <= len(before) < n

    done = subprocess.run([*command, "--resume"], cwd=ROOT, env=env, capture_output=True, timeout=600)
    assert done.returncode == 0, done.stderr.decode()
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert ids == [f"q{i}" for i in range(n)]
    assert f"{len(before)} already done" in done.stdout.decode()


def _squad_file(path: Path) -> Path:
    context = "North Korea has shipped 13,000 containers of munitions to Russia, officials said."
    data = {"version": "v2.0", "data": [{"title": "T", "paragraphs": [{"context": context, "qas": [
        {"id": "a", "question": "How many containers?", "is_impossible": False,
         "answers": [{"text": "13,000", "answer_start": 24}]},
        {"id": "b", "question": "Who won the cup?", "is_impossible": True, "answers": []},
    ]}]}]}
    path.write_text(json.dumps(data))
    return path


def test_qa_eval_reader_prints_a_json_summary_and_writes_predictions(tiny_reader, tmp_path, capsys):
    squad = _squad_file(tmp_path / "dev.json")
    out = tmp_path / "pred.jsonl"
    rc = main(["eval", "reader", str(squad), "--reader", str(tiny_reader), "--out", str(out), "--no-progress"])
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["questions"] == 2
    for key in ("exact_match", "f1", "HasAns_f1", "NoAns_accuracy", "best_f1_thresh", "questions_per_second"):
        assert key in summary
    predictions = [json.loads(line) for line in out.read_text().splitlines()]
    assert [p["id"] for p in predictions] == ["a", "b"]


def test_qa_eval_reader_says_where_squad_lives_when_the_file_is_missing(tiny_reader, tmp_path, capsys):
    assert main(["eval", "reader", str(tmp_path / "nope.json"), "--reader", str(tiny_reader)]) == 2
    assert "../shared/data" in capsys.readouterr().err
