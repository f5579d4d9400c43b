"""Judgement on news, as a hand-checked specification (issue 10).

The cases are data, written and checked by people:

- ``tests/data/other_reports.jsonl``: one question on one article (the sample article or a
  Wikinews 2019-20 article), the acceptable answers and the acceptable "other reports", every one
  copied verbatim from the article(s). An other report answers the SAME question (another
  source's figure for the same quantity, an earlier estimate of the same count); anything else
  shown beside the answer is a failure. Several articles are about events of the same kind (two
  elections, bus crashes, earthquakes, rugby rounds), so a question about one must not be
  answered from another: the answer must be cited from the case's article.
- ``tests/data/near_topic.jsonl``: questions close to the sample article's topic that it never
  answers; they must get no figure.

All of it runs against ONE real index (FAISS, the real embedder, the trained reader) holding the
sample article and every Wikinews article the cases use, as qa is used on news: many articles,
one question. The Wikinews records are read from ``../shared/data`` (or ``$QA_DATA_DIR``),
which is not part of the repository; without it these tests are skipped.
"""

from __future__ import annotations

import json
import os
import re
from functools import cache
from pathlib import Path

import pytest

from qa.answer import Answer
from qa.assistant import Assistant
from qa.corpus import read_file
from qa.evaluation import normalize_answer
from qa.settings import Settings
from tests.conftest import ROOT, SAMPLE_ARTICLE

DATA = Path(__file__).resolve().parent / "data"
SHARED_DATA = Path(os.environ.get("QA_DATA_DIR", ROOT.parent / "shared" / "data"))
WIKINEWS = SHARED_DATA / "news" / "wikinews-2019-2020.jsonl"
WIKINEWS_FILE = "wikinews.jsonl"  # its name in the test corpus: article ids are "wikinews.jsonl#<id>"


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


CASES = _jsonl(DATA / "other_reports.jsonl")
NEAR_TOPIC = _jsonl(DATA / "near_topic.jsonl")


def _article_id(case: dict) -> str:
    """The id qa gives the case's article in the test corpus (see qa.corpus)."""
    return SAMPLE_ARTICLE.name if case["article"] == "sample" else f"{WIKINEWS_FILE}#{case['article']}"


def _wikinews_records() -> dict[str, dict]:
    if not WIKINEWS.exists():
        pytest.skip(f"Wikinews data missing: {WIKINEWS} (the shared data folder ../shared/data next to "
                    "the repository, or a copy named by QA_DATA_DIR)")
    return {r["id"]: r for r in _jsonl(WIKINEWS)}


def _tokens(text: str | None) -> list[str]:
    return normalize_answer(text).split() if text else []


def _contains(longer: list[str], shorter: list[str]) -> bool:
    n = len(shorter)
    return n > 0 and any(longer[i:i + n] == shorter for i in range(len(longer) - n + 1))


_NUMBER_WORDS = re.compile(
    r"(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    r"hundreds?|thousands?|millions?|billions?|dozens?|monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday|january|february|march|april|may|june|july|august|september|october|"
    r"november|december)", re.IGNORECASE)


def _is_figure(token: str) -> bool:
    return any(ch.isdigit() for ch in token) or bool(_NUMBER_WORDS.fullmatch(token))


def matches(text: str | None, acceptable: list[str]) -> bool:
    """True when ``text`` and one acceptable string contain each other, either way, after SQuAD
    normalisation, on whole words ("1,500" in "as many as 1,500"; "Budanov" in "Kyrylo Budanov";
    never "1" in "11,000"). A shorter ``text`` must keep every figure of the acceptable string:
    "40.2 seconds" is a fragment of "1 hour 59 minutes 40.2 seconds", not an answer."""
    t = _tokens(text)
    for a in map(_tokens, acceptable):
        if _contains(t, a):
            return True
        if _contains(a, t) and all(tok in t for tok in a if _is_figure(tok)):
            return True
    return False


def has_figure(text: str | None) -> bool:
    """Whether an answer gives a figure: a digit, a number word or a date word."""
    return any(_is_figure(tok) for tok in _tokens(text))


def crosses_sentence_end(text: str | None) -> bool:
    """Whether a span runs over a paragraph break or a sentence end ("...2:05:45. He was...");
    abbreviations such as "a.m. Thursday" or "U.S. House" are not sentence ends."""
    return bool(text) and ("\n" in text or re.search(r"[a-z0-9]{2}[.!?][\"\u201d']?\s+[A-Z]", text) is not None)


def _show(answer: Answer) -> str:
    """What qa answered, for failure messages."""
    return json.dumps({
        "answer": answer.answer, "found": answer.found, "tentative": answer.tentative,
        "score": round(answer.score, 3),
        "cited": [c.article_id for c in answer.citations],
        "alternatives": [(a.answer, round(a.score, 3), [c.article_id for c in a.citations])
                         for a in answer.alternatives],
    }, ensure_ascii=False)


# ---- the data itself and how answers are compared with it ----------------------------------------

def test_matching_takes_whole_words_and_keeps_figures():
    assert matches("as many as 1,500", ["1,500"]) and matches("Budanov", ["Kyrylo Budanov"])
    assert not matches("1", ["11,000"]) and not matches("11,000", ["1,500"])
    assert not matches("40.2 seconds", ["1 hour 59 minutes 40.2 seconds"])
    assert not matches("eight", ["eight million"]) and not matches(None, ["39"])
    assert has_figure("as many as 13,000") and has_figure("eight million") and not has_figure("recently")
    assert crosses_sentence_end("Cherono, posted a time of 2:05:45. He was followed")
    assert crosses_sentence_end("22 were Cuban.\n\nForeign nationals")
    assert not crosses_sentence_end("10:39 a.m. local time") and not crosses_sentence_end("U.S. House")


def test_case_files_have_the_size_the_issue_asks_for():
    assert len(CASES) >= 40 and len({c["id"] for c in CASES}) == len(CASES)
    assert sum(c["article"] == "sample" for c in CASES) >= 10
    assert sum(c["article"] != "sample" for c in CASES) >= 35
    assert len(NEAR_TOPIC) >= 10


def test_every_answer_and_other_report_is_verbatim_in_the_articles(tmp_path):
    records = _wikinews_records()
    used = sorted({c["article"] for c in CASES if c["article"] != "sample"})
    missing = [i for i in used if i not in records]
    assert not missing, f"cases name articles that are not in {WIKINEWS}: {missing}"
    path = tmp_path / WIKINEWS_FILE
    path.write_text("".join(json.dumps(records[i]) + "\n" for i in used), encoding="utf-8")
    # The text qa can cite (cleaned by qa.corpus), not only the raw record.
    texts = {a.id: a.text for a in read_file(path, WIKINEWS_FILE)}
    texts[SAMPLE_ARTICLE.name] = read_file(SAMPLE_ARTICLE, SAMPLE_ARTICLE.name)[0].text
    everything = "\n".join(texts.values())
    for case in CASES:
        for span in case["answers"]:
            assert span in texts[_article_id(case)], (case["id"], span)
        for span in case["other_reports"]:
            assert span in everything, (case["id"], span)


# ---- qa on one index of all the articles ---------------------------------------------------------

@pytest.fixture(scope="module")
def ask(trained_reader, tmp_path_factory):
    """``ask(question) -> Answer`` over one index of the sample and the cases' Wikinews articles
    (memoised: the answer test and the other-reports test read the same answer)."""
    records = _wikinews_records()
    corpus = tmp_path_factory.mktemp("corpus")
    (corpus / SAMPLE_ARTICLE.name).write_bytes(SAMPLE_ARTICLE.read_bytes())
    used = sorted({c["article"] for c in CASES if c["article"] != "sample"})
    fields = ("id", "title", "text", "date", "source", "url")
    (corpus / WIKINEWS_FILE).write_text(
        "".join(json.dumps({k: records[i][k] for k in fields if k in records[i]}) + "\n" for i in used),
        encoding="utf-8")
    assistant = Assistant(Settings(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("index"),
                                   reader_model=str(trained_reader)))
    return cache(assistant.ask)


SAMPLE_CASES = [c for c in CASES if c["article"] == "sample"]
WIKINEWS_CASES = [c for c in CASES if c["article"] != "sample"]
# Sample-article cases qa still gets wrong, with what it does (measured); strict, so a fix
# shows up as an unexpected pass and the mark must go.
KNOWN = {
    ("other", "sample-eventual-troops"): "lists 2,600 (the first batch, set to arrive): a figure expected, like the eventual number, but of a part of the force",
}
# Floors for the Wikinews cases, judged together: the share answered right from the case's
# article, and the share with no unrelated other report (measured when set: 54/74 and 67/74;
# before issue 10's work: 54/74 and 16/74; raised to 57/74 right when 59/74 were, session 14).
# A fall below them is a regression.
WIKINEWS_ANSWERED_RIGHT = 0.77
WIKINEWS_OTHER_REPORTS_CLEAN = 0.88
ARTIFACTS = ROOT / "tests" / "artifacts"


def _known(kind: str, cases: list[dict]) -> list:
    return [pytest.param(c, id=c["id"], marks=pytest.mark.xfail(strict=True, reason=KNOWN[(kind, c["id"])]))
            if (kind, c["id"]) in KNOWN else pytest.param(c, id=c["id"]) for c in cases]


def answered_right(answer: Answer, case: dict) -> bool:
    return (answer.found and matches(answer.answer, case["answers"])
            and any(c.article_id == _article_id(case) for c in answer.citations))


def unrelated_reports(answer: Answer, case: dict) -> list[str]:
    acceptable = case["answers"] + case["other_reports"]
    return [a.answer for a in answer.alternatives if not matches(a.answer, acceptable)]


@pytest.mark.reader
@pytest.mark.parametrize("case", _known("answer", SAMPLE_CASES))
def test_sample_answer_is_found_and_cited_from_the_sample(ask, case):
    answer = ask(case["question"])
    assert answered_right(answer, case), _show(answer)


@pytest.mark.reader
@pytest.mark.parametrize("case", _known("other", SAMPLE_CASES))
def test_sample_other_reports_answer_the_same_question(ask, case):
    answer = ask(case["question"])
    unrelated = unrelated_reports(answer, case)
    assert not unrelated, f"unrelated other reports {unrelated}: {_show(answer)}"


@pytest.mark.reader
def test_wikinews_cases_are_answered_from_their_article_and_list_only_related_reports(ask):
    results = []
    for case in WIKINEWS_CASES:
        answer = ask(case["question"])
        results.append({"id": case["id"], "question": case["question"], "right": answered_right(answer, case),
                        "unrelated": unrelated_reports(answer, case), "qa": json.loads(_show(answer))})
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "news_judgement.json").write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    n = len(results)
    right = sum(r["right"] for r in results)
    clean = sum(not r["unrelated"] for r in results)
    wrong = [(r["id"], r["qa"]["answer"]) for r in results if not r["right"]]
    noisy = [(r["id"], r["unrelated"]) for r in results if r["unrelated"]]
    assert right >= WIKINEWS_ANSWERED_RIGHT * n, f"{right}/{n} answered right; wrong: {wrong}"
    assert clean >= WIKINEWS_OTHER_REPORTS_CLEAN * n, f"{clean}/{n} without unrelated reports; noisy: {noisy}"


@pytest.mark.reader
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_no_answer_or_other_report_crosses_a_sentence_end(ask, case):
    answer = ask(case["question"])
    spans = [answer.answer] + [a.answer for a in answer.alternatives]
    assert not [s for s in spans if crosses_sentence_end(s)], _show(answer)


@pytest.mark.reader
@pytest.mark.parametrize("question", [q["question"] for q in NEAR_TOPIC])
def test_near_topic_question_the_sample_does_not_answer_gets_no_figure(ask, question):
    answer = ask(question)
    assert not answer.found or (answer.tentative and not has_figure(answer.answer)), _show(answer)


# ---- an answer stated plainly is not hedged ------------------------------------------------------

PLAIN_ARTICLE = """Landslide buries homes in Kettering Vale

A landslide buried eleven homes in the hill town of Kettering Vale on Sunday night after three days \
of heavy rain. A total of 27 are confirmed dead, officials told state media, adding that the search \
for survivors ended on Tuesday. Rescuers pulled nine people alive from the mud.

The regional council said that rebuilding would start in the spring. It also approved a 6% pay rise \
for the town's 35 rescue workers, whose numbers fell 18% over the last decade. The town's school, \
which lost its roof, employs 40 teachers.
"""


@pytest.fixture(scope="module")
def plain_assistant(trained_reader, tmp_path_factory):
    corpus = tmp_path_factory.mktemp("plain-corpus")
    (corpus / "kettering-vale-landslide.txt").write_text(PLAIN_ARTICLE, encoding="utf-8")
    (corpus / SAMPLE_ARTICLE.name).write_bytes(SAMPLE_ARTICLE.read_bytes())
    return Assistant(Settings(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("plain-index"),
                              reader_model=str(trained_reader)))


@pytest.mark.reader
@pytest.mark.parametrize(("question", "expected"), [
    ("How many people are confirmed dead in the Kettering Vale landslide?", "27"),
    ("What pay rise did the Kettering Vale council approve for its rescue workers?", "6%"),
    ("By how much did the number of Kettering Vale's rescue workers fall over the last decade?", "18%"),
    ("How many teachers does the Kettering Vale school employ?", "40"),
])
def test_answer_stated_plainly_is_not_hedged(plain_assistant, question, expected):
    # The issue's "A total of 39 are confirmed dead, officials told state media" -> "Possibly 39".
    answer = plain_assistant.ask(question)
    assert answer.found and expected in answer.answer and not answer.tentative, _show(answer)


FESTIVAL_ARTICLE = """Apple festival in Millbrook draws record crowd

The annual apple festival in the village of Millbrook drew a record crowd of 27,000 visitors this \
weekend. Organiser Priya Nand said farmers sold more than 90 tonnes of apples over the two days.
"""


@pytest.mark.reader
@pytest.mark.parametrize(("question", "expected"), [
    ("How many visitors came to the Millbrook apple festival?", "27,000"),
    ("How many people attended the Millbrook apple festival?", "27,000"),
])
def test_a_figure_is_not_refused_because_the_question_words_its_verb_otherwise(
        trained_reader, tmp_path_factory, question, expected):
    """"came" and "attended" are not in qa's table of news events, so qa cannot tell "drew 27,000
    visitors" from another event and must not refuse it for lacking the question's verb (a new
    user's case: "not in the articles, best 0.00" with the figure in the top passage)."""
    corpus = tmp_path_factory.mktemp("festival-corpus")
    (corpus / "millbrook.txt").write_text(FESTIVAL_ARTICLE, encoding="utf-8")
    (corpus / SAMPLE_ARTICLE.name).write_bytes(SAMPLE_ARTICLE.read_bytes())
    assistant = Assistant(Settings(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("festival-index"),
                                   reader_model=str(trained_reader)))
    answer = assistant.ask(question)
    assert answer.found and expected in answer.answer, _show(answer)
