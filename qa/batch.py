"""Answer a file of questions: the engine behind ``qa batch``.

Input files (the format is chosen by extension):

- ``.txt``: one question per line; blank lines are skipped.
- ``.csv``: a header with a ``question`` column and optional ``id`` and ``answers`` columns
  (any case; a column ``answer`` is read as ``answers`` when there is none, with a warning).
  ``answers`` holds the reference answers, separated by ``|`` or as a JSON list; an empty cell
  means "no reference".

In both, a question without an id of its own gets its number in the file: 1 for the first
question, counting non-blank lines (.txt) or non-blank rows under the header (.csv), so the
same questions get the same ids in either format. Problems are reported by line number.
- ``.jsonl``: one JSON object per line, either ``{"id", "question", "answers"?}`` or a
  conversation ``{"id", "turns": [{"question", "answers"?}, ...]}`` (a turn may also be the
  question alone, a string) whose turns are asked in order,
  each with the earlier turns as history; turn n gets the id ``<id>:<n>``. ``answers`` is a list
  of strings (or one string); an empty list means "the articles do not hold the answer", so
  qa should say so.

A malformed row (bad JSON, JSON nested too deeply, no question, a duplicate id, ...) is reported
with its line number and skipped; the run goes on. Text is cleaned as articles are
(`qa.corpus.clean_unicode`): a lone surrogate (``"\\ud83d"``, half an emoji) becomes U+FFFD and
control characters are removed, so such a row is asked, and written, rather than stopping the run.

Output files (``.jsonl`` or ``.csv``) get one row per question, written and flushed as soon as it
is answered: ``id`` plus every field of ``qa ask --json`` (`qa.answer.Answer.to_dict`), plus
``answers``: the reference answers the questions file gave (null / an empty cell when none). In
CSV, fields that are lists or dicts (citations, alternatives, passages, timings_ms, answers) are
JSON text.
Because rows are flushed one by one, a run that is killed loses nothing it finished, and
``resume=True`` skips the ids already written (a row cut in half by the kill is dropped and
asked again).

When the questions carry reference answers, the run is scored: exact match and F1 (official
SQuAD normalisation), hit@k of retrieval (a reference answer inside one of the first k retrieved
passages) and misses split into retrieval and reader misses (see `qa.evaluation`).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from qa.answer import Turn
from qa.corpus import clean_unicode
from qa.errors import InvalidInput, InvalidQuestion
from qa.evaluation import ScoredQuestion, score_answer, summarize

log = logging.getLogger(__name__)

INPUT_FORMATS = (".txt", ".csv", ".jsonl")
OUTPUT_FORMATS = (".jsonl", ".csv")
# Answer fields that are lists or dicts: stored as JSON text in CSV cells.
_JSON_FIELDS = ("citations", "alternatives", "passages", "timings_ms")


@dataclass(frozen=True)
class BatchQuestion:
    """One question to ask.

    ``answers`` is None when the file gives no reference, () when it says the question has no
    answer in the articles. Turns of a conversation share ``conversation`` (the conversation's
    id) and are numbered from 1 by ``turn``.
    """

    id: str
    question: str
    line: int
    answers: tuple[str, ...] | None = None
    conversation: str | None = None
    turn: int = 0


@dataclass(frozen=True)
class Problem:
    """A row of the questions file that was skipped, and why."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class BatchResult:
    """What a batch run did; `to_dict` is the JSON report."""

    questions_file: str
    answers_file: str
    questions: int = 0  # valid questions in the file (conversation turns counted one by one)
    written: int = 0  # rows written by this run
    resumed: int = 0  # rows already in the answers file, skipped
    found: int = 0  # rows (this run and resumed) where qa gave an answer
    tentative: int = 0  # ... of which marked tentative (low confidence)
    problems: list[Problem] = field(default_factory=list)
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    scores: dict | None = None  # `qa.evaluation.summarize` output when references exist

    def to_dict(self) -> dict:
        lat = sorted(self.latencies_ms)
        return {
            "questions_file": self.questions_file,
            "answers_file": self.answers_file,
            "questions": self.questions,
            "written": self.written,
            "resumed": self.resumed,
            "found": self.found,
            "tentative": self.tentative,
            "not_found": self.written + self.resumed - self.found,
            "problems": [{"line": p.line, "message": p.message} for p in self.problems],
            "seconds": round(self.seconds, 2),
            "latency_ms": {
                "p50": round(percentile(lat, 50), 1),
                "p95": round(percentile(lat, 95), 1),
                "mean": round(statistics.fmean(lat), 1),
            } if lat else None,
            "scores": self.scores,
        }


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (linear interpolation, as numpy's default) of sorted values."""
    if not sorted_values:
        return 0.0
    pos = (len(sorted_values) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


# ---------------------------------------------------------------------------------------------
# Reading questions
# ---------------------------------------------------------------------------------------------


def read_questions(path: str | Path) -> tuple[list[BatchQuestion], list[Problem]]:
    """Parse a questions file (.txt, .csv or .jsonl; see the module docstring).

    Returns:
        The valid questions in file order, and the problems of the rows that were skipped.

    Raises:
        InvalidInput: the file is missing, has another extension, is not UTF-8, has no
            ``question`` column (CSV), or holds no valid question at all.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in INPUT_FORMATS:
        raise InvalidInput(
            f"{path}: questions must be a .txt, .csv or .jsonl file (got '{suffix or 'no extension'}')."
        )
    if not path.is_file():
        raise InvalidInput(f"{path}: no such questions file.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8.") from exc
    parse = {".txt": _parse_txt, ".csv": _parse_csv, ".jsonl": _parse_jsonl}[suffix]
    questions: list[BatchQuestion] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for item in parse(text, path):
        if isinstance(item, Problem):
            problems.append(item)
        elif item.id in seen:
            problems.append(Problem(item.line, f"duplicate id '{item.id}' (first used on line {seen[item.id]})"))
        else:
            seen[item.id] = item.line
            questions.append(item)
    if not questions:
        detail = f" ({len(problems)} malformed rows, first: {problems[0]})" if problems else ""
        raise InvalidInput(f"{path}: no question to ask{detail}.")
    return questions, problems


def _parse_txt(text: str, path: Path) -> Iterator[BatchQuestion | Problem]:
    number = 0
    for line_no, line in enumerate(text.splitlines(), start=1):
        question = line.strip()
        if question:
            number += 1
            yield BatchQuestion(id=str(number), question=question, line=line_no)


def _parse_csv(text: str, path: Path) -> Iterator[BatchQuestion | Problem]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise InvalidInput(f"{path}: unreadable CSV header ({exc}).") from exc
    columns = [h.strip().lower() for h in header]
    if "question" not in columns:
        raise InvalidInput(
            f"{path}: the CSV header needs a 'question' column (optional: 'id', 'answers'); "
            f"found {', '.join(repr(h) for h in header) or 'nothing'}."
        )
    q_col = columns.index("question")
    id_col = columns.index("id") if "id" in columns else None
    a_col = columns.index("answers") if "answers" in columns else None
    if a_col is None and "answer" in columns:
        a_col = columns.index("answer")
        log.warning("%s: reading the column '%s' as the reference answers ('answers')", path, header[a_col])
    line_no = reader.line_num + 1  # the line where the next record starts
    number = 0  # non-blank rows so far: the id of a row without one
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Problem(line_no, f"unreadable CSV row ({exc})")
            line_no = reader.line_num + 1
            continue
        start, line_no = line_no, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue  # blank line
        number += 1
        if len(row) > len(columns):
            yield Problem(start, f"{len(row)} fields but the header has {len(columns)}")
            continue
        row = [clean_unicode(cell) for cell in row] + [""] * (len(columns) - len(row))
        question = row[q_col].strip()
        if not question:
            yield Problem(start, "empty question")
            continue
        try:
            answers = _csv_answers(row[a_col]) if a_col is not None else None
        except ValueError as exc:
            yield Problem(start, str(exc))
            continue
        qid = row[id_col].strip() if id_col is not None else ""
        yield BatchQuestion(id=qid or str(number), question=question, line=start, answers=answers)


def _csv_answers(cell: str) -> tuple[str, ...] | None:
    cell = cell.strip()
    if not cell:
        return None
    if cell.startswith("["):
        try:
            return _answer_list(_clean(json.loads(cell)))
        except json.JSONDecodeError as exc:
            raise ValueError(f"'answers' looks like a JSON list but is not valid JSON ({exc.msg})") from exc
        except RecursionError:
            raise ValueError("'answers' is nested too deeply to read") from None
    return tuple(a.strip() for a in cell.split("|") if a.strip())


def _answer_list(value) -> tuple[str, ...] | None:
    """Reference answers from JSON: null, a string, or a list of strings."""
    if value is None:
        return None
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(a, str) for a in value):
        return tuple(value)
    raise ValueError("'answers' must be a list of strings")


def _parse_jsonl(text: str, path: Path) -> Iterator[BatchQuestion | Problem]:
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = _clean(json.loads(line))
        except json.JSONDecodeError as exc:
            yield Problem(line_no, f"not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        except RecursionError:
            yield Problem(line_no, "nested too deeply to read")
            continue
        if not isinstance(obj, dict):
            yield Problem(line_no, "not a JSON object")
            continue
        raw_id = obj.get("id")
        if raw_id is not None and not isinstance(raw_id, (str, int)):
            yield Problem(line_no, "'id' must be a string or a number")
            continue
        qid = str(raw_id) if raw_id not in (None, "") else str(line_no)
        if "turns" in obj:
            yield from _conversation(obj["turns"], qid, line_no)
            continue
        question = obj.get("question")
        if not isinstance(question, str) or not question.strip():
            yield Problem(line_no, "no 'question' (a non-empty string) and no 'turns'")
            continue
        try:
            answers = _answer_list(obj.get("answers"))
        except ValueError as exc:
            yield Problem(line_no, str(exc))
            continue
        yield BatchQuestion(id=qid, question=question.strip(), line=line_no, answers=answers)


def _clean(value):
    """Parsed JSON with every string cleaned (`qa.corpus.clean_unicode`); raises RecursionError
    for structures nested too deeply, like ``json.loads``."""
    if isinstance(value, str):
        return clean_unicode(value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {clean_unicode(k): _clean(v) for k, v in value.items()}
    return value


def _conversation(turns, conv_id: str, line_no: int) -> Iterator[BatchQuestion | Problem]:
    if not isinstance(turns, list) or not turns:
        yield Problem(line_no, "'turns' must be a non-empty list of {\"question\", \"answers\"?} objects")
        return
    for n, turn in enumerate(turns, start=1):
        if isinstance(turn, str):
            turn = {"question": turn}  # "turns": ["How many ...?", "And when?"]: questions alone
        question = turn.get("question") if isinstance(turn, dict) else None
        if not isinstance(question, str) or not question.strip():
            yield Problem(line_no, f"turn {n}: neither a question (a non-empty string) nor an object with "
                                   "'question'; turn skipped")
            continue
        try:
            answers = _answer_list(turn.get("answers"))
        except ValueError as exc:
            yield Problem(line_no, f"turn {n}: {exc}; turn skipped")
            continue
        yield BatchQuestion(
            id=f"{conv_id}:{n}", question=question.strip(), line=line_no, answers=answers,
            conversation=conv_id, turn=n,
        )


# ---------------------------------------------------------------------------------------------
# Writing answers
# ---------------------------------------------------------------------------------------------


class AnswerWriter:
    """Appends answer rows to a .jsonl or .csv file, flushing each one.

    Opening with ``resume=True`` first reads the rows already there (`done`), dropping a last
    row that a killed run left half written.
    """

    def __init__(self, path: str | Path, resume: bool = False, overwrite: bool = False):
        self.path = Path(path)
        self.format = self.path.suffix.lower()
        if self.format not in OUTPUT_FORMATS:
            raise InvalidInput(f"{self.path}: answers are written as .jsonl or .csv (got '{self.format}').")
        if self.path.exists() and self.path.stat().st_size and not (resume or overwrite):
            raise InvalidInput(
                f"{self.path} already exists: pass --resume to continue it, or --overwrite to start over."
            )
        self.done: dict[str, dict] = {}
        self._header: list[str] | None = None
        if resume and self.path.exists():
            self._load_existing()
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_bytes(b"")
        self._file = self.path.open("a", encoding="utf-8", newline="")

    def write(self, qid: str, answer: dict) -> None:
        """Append one row (``id`` + an `Answer.to_dict`) and flush it to disk."""
        row = {"id": qid} | answer
        if self.format == ".jsonl":
            data = json.dumps(row, ensure_ascii=False) + "\n"
        else:
            if self._header is None:
                self._header = list(row)
                data = _csv_line(self._header)
            else:
                data = ""
            data += _csv_line([_csv_cell(row.get(key)) for key in self._header])
        self._file.write(data)
        self._file.flush()
        self.done[qid] = row

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> AnswerWriter:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _load_existing(self) -> None:
        raw = self.path.read_bytes()
        if self.format == ".jsonl":
            good = 0  # byte offset just past the last complete row
            for line in raw.splitlines(keepends=True):
                try:
                    if not line.endswith(b"\n"):
                        raise ValueError("cut short")
                    row = json.loads(line)
                    self.done[str(row["id"])] = row
                except (ValueError, KeyError, TypeError):
                    if good + len(line) < len(raw):
                        raise InvalidInput(
                            f"{self.path}: row {len(self.done) + 1} is not a JSON answer row; "
                            "this is not a file qa batch wrote, so it cannot be resumed."
                        ) from None
                    break
                good += len(line)
            if good < len(raw):
                with self.path.open("r+b") as f:
                    f.truncate(good)
        else:
            text = raw.decode("utf-8", errors="replace")
            records = []
            reader = csv.reader(io.StringIO(text, newline=""))
            try:
                records.extend(reader)
            except csv.Error:  # a quoted cell cut short at the end of the file
                pass
            if not records:
                return
            self._header = records[0]
            rows = records[1:]
            complete = text.endswith("\n")
            kept = []
            for i, rec in enumerate(rows):
                row = _csv_row(self._header, rec)
                if row is None or (i == len(rows) - 1 and not complete):
                    if i < len(rows) - 1:
                        raise InvalidInput(
                            f"{self.path}: row {i + 1} is not an answer row; this is not a file "
                            "qa batch wrote, so it cannot be resumed."
                        )
                    break
                kept.append(rec)
                self.done[row["id"]] = row
            if len(kept) < len(rows) or not complete:
                self.path.write_text(
                    "".join(_csv_line(r) for r in [self._header, *kept]), encoding="utf-8"
                )


def _csv_line(values: list[str]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue()


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _csv_row(header: list[str], record: list[str]) -> dict | None:
    """Decode one CSV record written by `AnswerWriter`; None when it is not one."""
    if len(record) != len(header) or "id" not in header:
        return None
    row: dict = dict(zip(header, record, strict=True))
    try:
        for key in _JSON_FIELDS:
            if key in row:
                row[key] = json.loads(row[key]) if row[key] else None
        for key in ("found", "tentative"):  # booleans, written as JSON
            if key in row:
                row[key] = json.loads(row[key])
        if "score" in row:
            row["score"] = float(row["score"])
    except ValueError:
        return None
    if "answer" in row:
        row["answer"] = row["answer"] or None
    return row


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Asked:
    """What asking one question gave: its answer row (`qa.answer.Answer.to_dict`), or the
    problem that refused it. ``row`` is None too for a turn asked again only to rebuild a
    resumed conversation's history."""

    question: BatchQuestion
    row: dict | None
    problem: Problem | None = None
    ms: float = 0.0


def ask_group(assistant, group: Sequence[BatchQuestion], done: set[str] | dict, filters=None) -> Iterator[Asked]:
    """Ask a single question, or a conversation's turns in order with the earlier turns as
    history; yields each outcome as soon as it is known. Turns whose id is in ``done`` are asked
    (for the history) but yield no row. ``filters``: a `qa.filters.Filters` every question is
    scoped to (None: all articles)."""
    history: list[Turn] = []
    for q in group:
        started = time.perf_counter()
        try:
            answer = (assistant.ask(q.question, history=tuple(history), filters=filters) if filters
                      else assistant.ask(q.question, history=tuple(history)))
        except InvalidQuestion as exc:
            yield Asked(q, None, Problem(q.line, f"question '{q.id}' refused: {exc}"))
            continue
        history.append(Turn(q.question, answer))
        if q.id not in done:
            # Without the models' loading (the first question's): that is start-up, not answering.
            ms = (time.perf_counter() - started) * 1000 - answer.timings_ms.get("load", 0.0)
            row = answer.to_dict() | {"answers": None if q.answers is None else list(q.answers)}
            yield Asked(q, row, ms=max(0.0, ms))


def run_batch(
    assistant,
    questions: Sequence[BatchQuestion],
    writer: AnswerWriter,
    progress: bool = True,
    on_problem: Callable[[Problem], None] | None = None,
    filters=None,
    engine: str = "local",
) -> BatchResult:
    """Ask every question not yet in ``writer.done`` and write the answers as they come.

    Conversation turns are asked in order with the earlier turns as history; when a resumed
    conversation is partly written, its earlier turns are asked again (not written again) to
    rebuild that history.

    Args:
        assistant: `qa.assistant.Assistant` (anything with ``ask(question, history)``).
        questions: from `read_questions`.
        writer: an open `AnswerWriter`.
        progress: show a progress bar on stderr.
        on_problem: called with each question the assistant refused (e.g. too long); such
            questions are skipped, as malformed rows are.
        filters: a `qa.filters.Filters` every question is scoped to (None: all articles).
        engine: "local" (this process, in file order) or "ray": questions and conversations
            spread over Ray workers, each with its own Assistant built from
            ``assistant.settings`` (`qa.ray_engine`); rows are written in the order they
            finish, so ``--resume`` holds the same way.

    Returns:
        A `BatchResult` (``questions_file`` is left empty for the caller to fill in); scores are
        computed over every row written, by this run or an earlier one.
    """
    from tqdm.auto import tqdm

    result = BatchResult(questions_file="", answers_file=str(writer.path), questions=len(questions))
    result.resumed = sum(1 for q in questions if q.id in writer.done)
    pending = [g for g in _groups(questions) if not all(q.id in writer.done for q in g)]
    bar = tqdm(
        total=len(questions), initial=result.resumed, unit="q", desc="questions",
        disable=not progress, dynamic_ncols=True,
    )
    t0 = time.perf_counter()
    try:
        with _outcomes(assistant, pending, set(writer.done), engine, filters) as outcomes:
            for asked in outcomes:
                q = asked.question
                if asked.problem is not None:
                    result.problems.append(asked.problem)
                    if on_problem:
                        on_problem(asked.problem)
                    if q.id not in writer.done:
                        bar.update(1)
                    continue
                writer.write(q.id, asked.row)
                result.latencies_ms.append(asked.ms)
                result.written += 1
                bar.update(1)
    finally:
        bar.close()
        result.seconds = time.perf_counter() - t0
    rows = [writer.done[q.id] for q in questions if q.id in writer.done]
    result.found = sum(1 for row in rows if row.get("found"))
    result.tentative = sum(1 for row in rows if row.get("found") and row.get("tentative"))
    result.scores = score_rows(questions, writer.done)
    return result


@contextmanager
def _outcomes(assistant, groups: list[list[BatchQuestion]], done: set[str], engine: str,
              filters=None) -> Iterator[Iterator[Asked]]:
    """The outcomes of asking ``groups``, here or on Ray workers (see `run_batch`)."""
    if engine == "local":
        yield (asked for group in groups for asked in ask_group(assistant, group, done, filters))
        return
    if engine != "ray":
        raise InvalidInput(f"--engine must be local or ray, not {engine!r}")
    from qa import ray_engine

    settings = assistant.settings
    if settings.vector_store.startswith("milvus:") and "://" not in settings.vector_store:
        raise InvalidInput(
            "qa batch --engine ray opens the index in several processes, and a Milvus Lite file "
            "serves one: use --engine local, a Milvus server (--vector-store milvus:http://host:19530) "
            "or the FAISS default.")
    if groups:
        assistant.snapshot()  # built here, once, if there is none yet (not by every worker)
    with ray_engine.connected(settings):
        answered = ray_engine.ask_groups_on_ray(settings, groups, done, filters)
        try:
            yield (asked for outcome in answered for asked in outcome)
        finally:
            answered.close()  # its workers stop now, while Ray is still up


def _groups(questions: Sequence[BatchQuestion]) -> Iterator[list[BatchQuestion]]:
    """Single questions alone, conversation turns together (they are consecutive in the file)."""
    group: list[BatchQuestion] = []
    for q in questions:
        if group and (q.conversation is None or q.conversation != group[0].conversation):
            yield group
            group = []
        group.append(q)
    if group:
        yield group


def score_rows(questions: Sequence[BatchQuestion], rows: dict[str, dict]) -> dict | None:
    """Score the answer rows of the questions that have references (None when none has).

    hit@k is given for k = 1, 3, 5, 10, 20 below the number of passages retrieved, and for
    that number itself.
    """
    scored: list[ScoredQuestion] = []
    for q in questions:
        row = rows.get(q.id)
        if q.answers is None or row is None:
            continue
        passages = [p.get("text", "") for p in row.get("passages") or ()]
        scored.append(score_answer(q.id, q.answers, row.get("answer"), bool(row.get("found")), passages))
    if not scored:
        return None
    depth = max((s.retrieved for s in scored), default=0)
    ks = [k for k in (1, 3, 5, 10, 20) if k < depth] + ([depth] if depth else [])
    return summarize(scored, ks=ks)


def default_report_path(answers_path: str | Path) -> Path:
    """Where the JSON report goes by default: next to the answers, ``<name>.report.json``."""
    answers_path = Path(answers_path)
    return answers_path.with_name(answers_path.stem + ".report.json")


def answer_file(
    assistant,
    questions_path: str | Path,
    answers_path: str | Path,
    resume: bool = False,
    overwrite: bool = False,
    report_path: str | Path | None = None,
    progress: bool = True,
    on_problem: Callable[[Problem], None] | None = None,
    filters=None,
    engine: str = "local",
) -> BatchResult:
    """Read a questions file, answer it into ``answers_path`` and write the JSON report
    (``filters``, ``engine``: see `run_batch`).

    The report is written to ``report_path`` (default: `default_report_path`) when the
    questions carry reference answers or when ``report_path`` is given.

    Raises:
        InvalidInput: unusable questions file, unknown answers format, or an answers file that
            exists while neither ``resume`` nor ``overwrite`` is set.
    """
    if Path(questions_path).resolve() == Path(answers_path).resolve():
        raise InvalidInput(f"{answers_path}: the answers would overwrite the questions; choose another -o file.")
    questions, problems = read_questions(questions_path)
    for problem in problems:
        if on_problem:
            on_problem(problem)
    with AnswerWriter(answers_path, resume=resume, overwrite=overwrite) as writer:
        result = run_batch(assistant, questions, writer, progress=progress, on_problem=on_problem,
                           filters=filters, engine=engine)
    result.questions_file = str(questions_path)
    result.problems = problems + result.problems
    if result.scores is not None or report_path is not None:
        path = Path(report_path) if report_path is not None else default_report_path(answers_path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    return result


def format_summary(result: BatchResult) -> str:
    """A few lines for people: counts, problems, latency and, with references, the scores."""
    d = result.to_dict()
    lines = [
        f"{d['questions']} questions: {d['written']} answered now, {d['resumed']} already done; "
        f"{d['found']} answered ({d['tentative']} tentatively, with low confidence), "
        f"{d['not_found']} not found in the articles.",
    ]
    if result.problems:
        lines.append(f"{len(result.problems)} rows skipped (see the messages above).")
    if d["latency_ms"]:
        lat = d["latency_ms"]
        lines.append(f"latency per question: p50 {lat['p50']:.0f} ms, p95 {lat['p95']:.0f} ms")
    s = result.scores
    if s:
        lines.append(f"scored against references: {s['scored']} questions")
        lines.append(f"  exact match {s['exact_match']:.2f}   F1 {s['f1']:.2f}")
        hits = [f"{k} {v:.1f}" for k, v in s.items() if k.startswith("hit@")]
        if hits:
            lines.append("  retrieval " + "   ".join(hits))
        if "no_answer_accuracy" in s:
            lines.append(f"  'not in the articles' accuracy {s['no_answer_accuracy']:.1f} ({s['unanswerable']} questions)")
        m = s["misses"]
        lines.append(
            f"  misses: {m['retrieval']} retrieval (answer in no retrieved passage), "
            f"{m['reader_wrong']} reader picked another span, {m['reader_no_answer']} reader said "
            f"not found, {m['false_answer']} answered an unanswerable question"
        )
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Command line: ``qa batch`` (registered by qa.cli)
# ---------------------------------------------------------------------------------------------


def register_cli(sub) -> None:
    """Add ``qa batch`` to the ``qa`` command's subparsers."""
    from qa.cli import add_common_options, add_engine_options, add_filter_options

    p = sub.add_parser(
        "batch", help="answer a file of questions (.txt, .csv, .jsonl)",
        description="Answer every question of a file and write one row per question, as it is "
        "answered. Questions: .txt (one per line), .csv (question column, optional id and "
        "answers columns; a question without an id gets its number in the file, from 1) or .jsonl ({id, question, answers?} or {id, turns: [...]} for a "
        "conversation). Answers: .jsonl or .csv with the fields of 'qa ask --json' and the reference "
        "'answers'. With "
        "reference answers, exact match, F1, retrieval hit@k and a miss breakdown are printed "
        "and written to a JSON report.",
    )
    p.add_argument("questions", metavar="QUESTIONS", help="questions file: .txt, .csv or .jsonl")
    p.add_argument("-o", "--output", required=True, metavar="ANSWERS", help="answers file: .jsonl or .csv")
    add_common_options(p)
    add_filter_options(p)
    add_engine_options(p)
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run: skip the questions already in ANSWERS")
    p.add_argument("--overwrite", action="store_true", help="replace ANSWERS if it exists")
    p.add_argument("--report", metavar="PATH",
                   help="JSON report (default: ANSWERS' name + .report.json, written when the "
                   "questions have reference answers)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_batch)


def _cmd_batch(args) -> int:
    import sys

    from qa.assistant import Assistant
    from qa.cli import filters_from, settings_from, terminal_text

    def warn(problem: Problem) -> None:
        print(terminal_text(f"qa batch: {args.questions}, {problem}; skipped"), file=sys.stderr)

    if args.resume and args.overwrite:
        raise InvalidInput("--resume and --overwrite contradict each other: choose one.")
    assistant = Assistant(settings_from(args))
    result = answer_file(
        assistant, args.questions, args.output, resume=args.resume, overwrite=args.overwrite,
        report_path=args.report, progress=not args.no_progress, on_problem=warn,
        filters=filters_from(args),
        engine=assistant.settings.engine,
    )
    print(terminal_text(format_summary(result)))
    if result.scores is not None or args.report:
        print(f"report: {args.report or default_report_path(args.output)}")
    return 0
