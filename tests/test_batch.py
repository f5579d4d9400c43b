"""qa batch: reading question files, writing answers row by row, resuming, scoring."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa.answer import Answer, Citation, RetrievedPassage
from qa.batch import (
    AnswerWriter,
    BatchQuestion,
    answer_file,
    default_report_path,
    format_summary,
    read_questions,
    run_batch,
)
from qa.errors import InvalidInput, InvalidQuestion

ROOT = Path(__file__).resolve().parent.parent


class FakeAssistant:
    """Answers with the question's last word, found in a passage that holds it.

    A question containing "unknown" gets "not in the articles", one containing "maybe" a
    tentative answer; one containing "refuse" is refused as an invalid question. Every call is recorded with the history it came with.
    """

    def __init__(self):
        self.calls: list[tuple[str, list[str]]] = []

    def ask(self, question, history=()):
        self.calls.append((question, [t.question for t in history]))
        if "refuse" in question:
            raise InvalidQuestion("The question is too long.")
        word = question.rstrip("?").split()[-1]
        passages = (
            RetrievedPassage("a1", "Title", "a1#0", 0, 30, "Nothing useful here.", 0.9),
            RetrievedPassage("a1", "Title", "a1#1", 30, 60, f"The word is {word}.", 0.8),
        )
        if "unknown" in question:
            return Answer(question, question, None, False, 0.1, passages=passages)
        cite = Citation("a1", "Title", 42, 42 + len(word), f"The word is {word}.", 30, "a1#1", 1)
        tentative = "maybe" in question  # a low-confidence answer
        return Answer(question, question, word, True, 0.35 if tentative else 0.9, citations=(cite,),
                      passages=passages, timings_ms={"total": 1.0}, tentative=tentative)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- reading questions -----------------------------------------------------------------------


def test_txt_questions_are_numbered_from_1_and_blank_lines_skipped(tmp_path):
    questions, problems = read_questions(write(tmp_path / "q.txt", "Who won?\n\n  When was it?  \n"))
    assert [(q.id, q.question) for q in questions] == [("1", "Who won?"), ("2", "When was it?")]
    assert [q.line for q in questions] == [1, 3]  # problems still name the line
    assert questions[0].answers is None and problems == []


def test_csv_questions_take_ids_and_answers_from_their_columns(tmp_path):
    path = write(tmp_path / "q.csv", 'id,question,answers\nq1,Who won?,"Paris|the city"\n'
                 ',Where?,"[""Lyon""]"\nq3,When?,\n')
    questions, problems = read_questions(path)
    assert [(q.id, q.answers) for q in questions] == [
        ("q1", ("Paris", "the city")), ("2", ("Lyon",)), ("q3", None),
    ]
    assert problems == []


def test_csv_without_id_column_numbers_the_rows_from_1_even_after_multiline_cells(tmp_path):
    path = write(tmp_path / "q.csv", 'Question\n"Who\nwon?"\nWhere?\n')
    questions, _ = read_questions(path)
    assert [(q.id, q.question) for q in questions] == [("1", "Who\nwon?"), ("2", "Where?")]
    assert [q.line for q in questions] == [2, 4]


def test_the_same_questions_get_the_same_ids_from_txt_and_csv(tmp_path):
    txt, _ = read_questions(write(tmp_path / "q.txt", "Who won?\nWhere?\n\nWhen?\n"))
    csv_, _ = read_questions(write(tmp_path / "q.csv", "question\nWho won?\nWhere?\n\nWhen?\n"))
    assert [(q.id, q.question) for q in txt] == [(q.id, q.question) for q in csv_] == [
        ("1", "Who won?"), ("2", "Where?"), ("3", "When?")]


@pytest.mark.parametrize("column", ["answer", "Answer", "ANSWERS"])
def test_an_answer_column_in_any_case_is_read_as_the_references(tmp_path, column, caplog):
    questions, _ = read_questions(write(tmp_path / "q.csv", f"question,{column}\nWho won?,Paris\n"))
    assert questions[0].answers == ("Paris",)
    said = "reading the column" in caplog.text
    assert said == (column.lower() == "answer")  # the singular is a guess, and says so


def test_csv_malformed_rows_are_reported_with_their_line_and_skipped(tmp_path):
    path = write(tmp_path / "q.csv", "id,question\na,Who?\nb,\nc,What?,extra\nd,Where?\n")
    questions, problems = read_questions(path)
    assert [q.id for q in questions] == ["a", "d"]
    assert [(p.line, p.message) for p in problems] == [
        (3, "empty question"), (4, "3 fields but the header has 2"),
    ]


def test_csv_without_question_column_is_refused(tmp_path):
    with pytest.raises(InvalidInput, match="'question' column"):
        read_questions(write(tmp_path / "q.csv", "id,text\n1,Who?\n"))


def test_jsonl_questions_and_conversations(tmp_path):
    lines = [
        {"id": "a", "question": "Who won?", "answers": ["Paris"]},
        {"id": 7, "question": "Where?", "answers": "Lyon"},
        {"id": "c", "turns": [{"question": "Who leads?"}, {"question": "Since when?", "answers": ["2019"]}]},
        {"question": "No id?", "answers": []},
    ]
    path = write(tmp_path / "q.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")
    questions, problems = read_questions(path)
    assert [(q.id, q.answers) for q in questions] == [
        ("a", ("Paris",)), ("7", ("Lyon",)), ("c:1", None), ("c:2", ("2019",)), ("4", ()),
    ]
    assert [(q.conversation, q.turn) for q in questions[2:4]] == [("c", 1), ("c", 2)]
    assert problems == []


def test_jsonl_malformed_rows_are_reported_with_their_line_and_skipped(tmp_path):
    path = write(tmp_path / "q.jsonl", "\n".join([
        '{"id": "a", "question": "Who?"}',
        '{"id": "b", "question": ',
        '["not", "an", "object"]',
        '{"id": "c"}',
        '{"id": "d", "question": "What?", "answers": [1, 2]}',
        '{"id": "a", "question": "Again?"}',
        '{"id": "e", "turns": [{"question": "Ok?"}, {"text": "no question"}]}',
        '{"id": "f", "turns": []}',
    ]))
    questions, problems = read_questions(path)
    assert [q.id for q in questions] == ["a", "e:1"]
    assert [p.line for p in problems] == [2, 3, 4, 5, 6, 7, 8]
    assert "not valid JSON" in problems[0].message
    assert "duplicate id 'a' (first used on line 1)" in problems[4].message
    assert "turn 2" in problems[5].message


@pytest.mark.parametrize("name", ["q.json", "q.docx", "q"])
def test_unknown_question_formats_are_refused(tmp_path, name):
    with pytest.raises(InvalidInput, match=".txt, .csv or .jsonl"):
        read_questions(write(tmp_path / name, "Who?\n"))


def test_a_file_without_any_valid_question_is_refused(tmp_path):
    with pytest.raises(InvalidInput, match="no question"):
        read_questions(write(tmp_path / "q.jsonl", "{}\n"))


def test_a_missing_questions_file_is_refused(tmp_path):
    with pytest.raises(InvalidInput, match="no such"):
        read_questions(tmp_path / "missing.txt")


# --- writing and resuming ---------------------------------------------------------------------


def test_jsonl_rows_hold_the_id_and_every_field_of_ask_json(tmp_path):
    questions, _ = read_questions(write(tmp_path / "q.txt", "Who is Paris?\nWhat is unknown?\n"))
    with AnswerWriter(tmp_path / "a.jsonl") as writer:
        run_batch(FakeAssistant(), questions, writer, progress=False)
    rows = read_jsonl(tmp_path / "a.jsonl")
    expected = FakeAssistant().ask("Who is Paris?").to_dict()
    assert rows[0] == {"id": "1"} | expected | {"answers": None}
    assert rows[1]["id"] == "2" and rows[1]["found"] is False and rows[1]["answer"] is None


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_the_answers_keep_the_reference_answers_of_the_questions(tmp_path, suffix):
    questions, _ = read_questions(write(tmp_path / "q.csv", 'question,answers\nWho is Paris?,"Paris|the city"\n'
                                        "What is unknown?,\n"))
    answer_file(FakeAssistant(), tmp_path / "q.csv", tmp_path / f"a{suffix}", progress=False)
    if suffix == ".csv":
        with (tmp_path / "a.csv").open(newline="", encoding="utf-8") as f:
            rows = [r | {"answers": json.loads(r["answers"]) if r["answers"] else None} for r in csv.DictReader(f)]
    else:
        rows = read_jsonl(tmp_path / "a.jsonl")
    assert [r["answers"] for r in rows] == [["Paris", "the city"], None]
    assert rows[0]["answer"] == "Paris"


def test_csv_rows_store_lists_as_json_and_read_back(tmp_path):
    questions, _ = read_questions(write(tmp_path / "q.txt", "Who is Paris?\nWhat is unknown?\n"))
    with AnswerWriter(tmp_path / "a.csv") as writer:
        run_batch(FakeAssistant(), questions, writer, progress=False)
    with (tmp_path / "a.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:4] == ["id", "question", "answer", "found"]
    assert rows[0]["answer"] == "Paris" and json.loads(rows[0]["citations"])[0]["article_id"] == "a1"
    assert rows[1]["answer"] == "" and rows[1]["found"] == "false"
    reopened = AnswerWriter(tmp_path / "a.csv", resume=True)
    reopened.close()
    assert reopened.done["1"]["passages"][1]["text"] == "The word is Paris."
    assert reopened.done["2"]["found"] is False


def test_tentative_answers_are_counted_and_read_back_from_csv(tmp_path):
    text = "Who is Paris?\nWho is maybe Rome?\nWhat is unknown?\n"
    result = answer_file(FakeAssistant(), write(tmp_path / "q.txt", text), tmp_path / "a.csv", progress=False)
    assert (result.found, result.tentative) == (2, 1)
    assert "2 answered (1 tentatively, with low confidence), 1 not found" in format_summary(result)
    reopened = AnswerWriter(tmp_path / "a.csv", resume=True)
    reopened.close()
    assert [reopened.done[i]["tentative"] for i in "123"] == [False, True, False]


def test_an_existing_answers_file_is_not_overwritten_by_accident(tmp_path):
    write(tmp_path / "a.jsonl", '{"id": "1"}\n')
    with pytest.raises(InvalidInput, match="--resume"):
        AnswerWriter(tmp_path / "a.jsonl")
    AnswerWriter(tmp_path / "a.jsonl", overwrite=True).close()
    assert (tmp_path / "a.jsonl").read_text() == ""


def test_answers_never_overwrite_the_questions(tmp_path):
    questions = write(tmp_path / "q.jsonl", '{"question": "Who?"}\n')
    with pytest.raises(InvalidInput, match="overwrite the questions"):
        answer_file(FakeAssistant(), questions, questions, overwrite=True, progress=False)
    assert questions.read_text() == '{"question": "Who?"}\n'


def test_unknown_answer_formats_are_refused(tmp_path):
    with pytest.raises(InvalidInput, match=".jsonl or .csv"):
        AnswerWriter(tmp_path / "a.txt")


def test_resume_skips_written_ids_and_redoes_a_half_written_row(tmp_path):
    questions, _ = read_questions(write(tmp_path / "q.txt", "Is it one?\nIs it two?\nIs it three?\n"))
    out = tmp_path / "a.jsonl"
    first = json.dumps({"id": "1"} | FakeAssistant().ask("Is it one?").to_dict())
    out.write_text(first + "\n" + '{"id": "2", "question": "Is it t', encoding="utf-8")
    assistant = FakeAssistant()
    with AnswerWriter(out, resume=True) as writer:
        result = run_batch(assistant, questions, writer, progress=False)
    assert [q for q, _ in assistant.calls] == ["Is it two?", "Is it three?"]
    assert [r["id"] for r in read_jsonl(out)] == ["1", "2", "3"]
    assert (result.resumed, result.written) == (1, 2)


def test_resume_of_a_csv_drops_a_half_written_row(tmp_path):
    questions, _ = read_questions(write(tmp_path / "q.txt", "Is it one?\nIs it two?\n"))
    out = tmp_path / "a.csv"
    with AnswerWriter(out) as writer:
        run_batch(FakeAssistant(), questions[:1], writer, progress=False)
    with out.open("a", encoding="utf-8") as f:
        f.write('2,"Is it two?,"Pa')  # cut inside a quoted cell
    with AnswerWriter(out, resume=True) as writer:
        run_batch(FakeAssistant(), questions, writer, progress=False)
    with out.open(newline="", encoding="utf-8") as f:
        assert [r["id"] for r in csv.DictReader(f)] == ["1", "2"]


def test_a_corrupt_row_in_the_middle_blocks_resume(tmp_path):
    out = write(tmp_path / "a.jsonl", '{"id": "1"}\nnot json\n{"id": "3"}\n')
    with pytest.raises(InvalidInput, match="cannot be resumed"):
        AnswerWriter(out, resume=True)


# --- running ---------------------------------------------------------------------------------


def test_conversation_turns_are_asked_in_order_with_history(tmp_path):
    path = write(tmp_path / "q.jsonl", json.dumps(
        {"id": "c", "turns": [{"question": "Who is Kim?"}, {"question": "And his aim?"}]}) + "\n"
        + json.dumps({"id": "x", "question": "Alone?"}) + "\n")
    questions, _ = read_questions(path)
    assistant = FakeAssistant()
    with AnswerWriter(tmp_path / "a.jsonl") as writer:
        run_batch(assistant, questions, writer, progress=False)
    assert assistant.calls == [
        ("Who is Kim?", []), ("And his aim?", ["Who is Kim?"]), ("Alone?", []),
    ]
    assert [r["id"] for r in read_jsonl(tmp_path / "a.jsonl")] == ["c:1", "c:2", "x"]


def test_a_conversation_turn_may_be_the_question_alone(tmp_path):
    path = write(tmp_path / "q.jsonl", json.dumps(
        {"id": "c", "turns": ["How many died?", {"question": "And when?", "answers": ["Monday"]}, 7]}) + "\n")
    questions, problems = read_questions(path)
    assert [(q.id, q.question) for q in questions] == [("c:1", "How many died?"), ("c:2", "And when?")]
    assert [p.message for p in problems] == [
        "turn 3: neither a question (a non-empty string) nor an object with 'question'; turn skipped"]


def test_resuming_a_conversation_replays_earlier_turns_without_rewriting_them(tmp_path):
    path = write(tmp_path / "q.jsonl", json.dumps(
        {"id": "c", "turns": [{"question": "Who is Kim?"}, {"question": "And his aim?"}]}) + "\n")
    questions, _ = read_questions(path)
    out = tmp_path / "a.jsonl"
    with AnswerWriter(out) as writer:
        run_batch(FakeAssistant(), questions[:1], writer, progress=False)
    assistant = FakeAssistant()
    with AnswerWriter(out, resume=True) as writer:
        result = run_batch(assistant, questions, writer, progress=False)
    assert assistant.calls == [("Who is Kim?", []), ("And his aim?", ["Who is Kim?"])]
    assert [r["id"] for r in read_jsonl(out)] == ["c:1", "c:2"]
    assert result.written == 1


def test_a_refused_question_is_reported_and_the_run_goes_on(tmp_path):
    questions, _ = read_questions(write(tmp_path / "q.txt", "Please refuse this?\nWho is Paris?\n"))
    seen = []
    with AnswerWriter(tmp_path / "a.jsonl") as writer:
        result = run_batch(FakeAssistant(), questions, writer, progress=False, on_problem=seen.append)
    assert [r["id"] for r in read_jsonl(tmp_path / "a.jsonl")] == ["2"]
    assert seen[0].line == 1 and "too long" in seen[0].message
    assert result.problems == seen


# --- scoring ---------------------------------------------------------------------------------


def _gold_file(tmp_path) -> Path:
    lines = [
        {"id": "right", "question": "Who is Paris?", "answers": ["Paris"]},
        {"id": "wrong", "question": "Who is Lyon?", "answers": ["Marseille", "Lyon city"]},
        {"id": "abstained", "question": "Is it unknown?", "answers": ["unknown"]},
        {"id": "nogold", "question": "Who is Nice?"},
        {"id": "noanswer", "question": "What is unknown?", "answers": []},
    ]
    return write(tmp_path / "q.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")


def test_gold_answers_give_em_f1_hits_and_misses_in_a_json_report(tmp_path):
    out = tmp_path / "a.jsonl"
    result = answer_file(FakeAssistant(), _gold_file(tmp_path), out, progress=False)
    s = result.scores
    assert s["scored"] == 4 and s["answerable"] == 3 and s["unanswerable"] == 1
    # right: EM 1; wrong: EM 0, F1 2/3 against "Lyon city" (in no passage); abstained: 0;
    # noanswer: 1.
    assert s["exact_match"] == 50.0
    assert s["f1"] == pytest.approx(100 * (1 + 2 / 3 + 0 + 1) / 4, abs=0.01)
    assert s["hit@1"] == 0.0 and s["hit@2"] == pytest.approx(66.67)
    assert s["no_answer_accuracy"] == 100.0
    assert s["misses"] == {"retrieval": 1, "reader_no_answer": 1, "reader_wrong": 0, "false_answer": 0}
    report = json.loads(default_report_path(out).read_text())
    assert report["scores"] == s and report["written"] == 5
    text = format_summary(result)
    assert "exact match 50.00" in text and "1 retrieval" in text


def test_scores_cover_rows_written_before_a_resume(tmp_path):
    questions_path = _gold_file(tmp_path)
    out = tmp_path / "a.jsonl"
    questions, _ = read_questions(questions_path)
    with AnswerWriter(out) as writer:
        run_batch(FakeAssistant(), questions[:2], writer, progress=False)
    result = answer_file(FakeAssistant(), questions_path, out, resume=True, progress=False)
    assert result.resumed == 2 and result.written == 3 and result.scores["scored"] == 4


def test_no_report_without_gold_answers(tmp_path):
    out = tmp_path / "a.jsonl"
    result = answer_file(FakeAssistant(), write(tmp_path / "q.txt", "Who is Paris?\n"), out, progress=False)
    assert result.scores is None and not default_report_path(out).exists()
    assert "exact match" not in format_summary(result)


def test_batch_question_defaults():
    q = BatchQuestion(id="1", question="Who?", line=1)
    assert q.answers is None and q.conversation is None


# --- killed for real, then resumed -------------------------------------------------------------

_SLOW_RUN = """
import sys, time
sys.path.insert(0, {root!r})
sys.path.insert(0, {tests!r})
from test_batch import FakeAssistant
from qa.batch import answer_file

class Slow(FakeAssistant):
    def ask(self, question, history=()):
        time.sleep(0.05)
        return super().ask(question, history)

answer_file(Slow(), sys.argv[1], sys.argv[2], resume="--resume" in sys.argv, progress=False)
"""


def _wait_for_rows(path: Path, proc: subprocess.Popen, n: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= n:
            return
        if proc.poll() is not None:
            pytest.fail(f"the run ended before writing {n} rows: {proc.stderr.read().decode()}")
        time.sleep(0.02)
    pytest.fail(f"no {n} rows after {timeout} s")


@pytest.mark.parametrize("fmt", [".jsonl", ".csv"])
def test_a_run_killed_mid_way_resumes_where_it_stopped(tmp_path, fmt):
    script = write(tmp_path / "slow_run.py", _SLOW_RUN.format(root=str(ROOT), tests=str(ROOT / "tests")))
    n = 60
    questions = write(tmp_path / "q.txt", "".join(f"Is it number{i}?\n" for i in range(n)))
    out = tmp_path / f"a{fmt}"
    proc = subprocess.Popen([sys.executable, str(script), str(questions), str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for_rows(out, proc, 10)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    written_before = out.read_bytes().count(b"\n")
    assert written_before < n  # really killed mid-way

    done = subprocess.run([sys.executable, str(script), str(questions), str(out), "--resume"],
                          capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    if fmt == ".jsonl":
        ids = [r["id"] for r in read_jsonl(out)]
    else:
        with out.open(newline="", encoding="utf-8") as f:
            ids = [r["id"] for r in csv.DictReader(f)]
    assert ids == [str(i) for i in range(1, n + 1)]  # every question once, in order
