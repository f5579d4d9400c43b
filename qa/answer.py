"""What an answer is: the dataclasses that leave the `Assistant`, and their JSON form.

The JSON produced by `Answer.to_dict` is a stable interface (``qa ask --json``, ``qa batch``):
fields may be added, never renamed or removed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Span:
    """A piece of an article: ``article_text[start:end] == text``."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Citation:
    """Where an answer was read: one passage of one article.

    ``start``/``end`` are character offsets of the answer span in the article text (so
    ``article.text[start:end]`` is the answer); ``passage`` is the chunk the reader read, which
    starts at ``passage_start`` in the article text.

    The claim (`qa.claims`): ``claimant`` is who the article says states the answer ("South
    Korea's National Intelligence Service (NIS)"), None when the article says it in its own
    voice (the claim is then the publication's: ``source``, ``date``); ``statement`` is the
    clause that says what the answer is. Both are spans of the article text; ``statement`` is
    None only on a citation made before claims were attached.
    """

    article_id: str
    title: str
    start: int
    end: int
    passage: str
    passage_start: int
    chunk_id: str
    paragraph: int  # 1-based paragraph number in the article, for people to find the place
    url: str | None = None
    date: str | None = None
    source: str | None = None
    claimant: Span | None = None
    statement: Span | None = None

    @property
    def answer_in_passage(self) -> tuple[int, int]:
        """The answer span as offsets into ``passage`` (for highlighting)."""
        return self.start - self.passage_start, self.end - self.passage_start


@dataclass(frozen=True)
class Candidate:
    """One distinct answer text with its confidence and every place it was read."""

    answer: str
    score: float
    citations: tuple[Citation, ...]


@dataclass(frozen=True)
class RetrievedPassage:
    """A passage retrieval returned, shown as "closest passages" when no answer is found."""

    article_id: str
    title: str
    chunk_id: str
    start: int
    end: int
    text: str
    similarity: float
    paragraph: int = 0  # 1-based paragraph of the article where the passage starts (0: unknown)


@dataclass(frozen=True)
class Answer:
    """The result of `Assistant.ask`.

    ``answer`` is None when ``found`` is False: the articles do not hold the answer (the best
    candidate scored under the no-answer threshold). ``tentative`` marks an answer whose
    confidence is between that threshold and the reader's calibrated one: the cited passage
    may not answer exactly this question, and the reader of the news should check it.
    ``alternatives`` are other answers from other passages or articles, since news sources
    disagree; ``passages`` are the retrieved passages, best first. ``query`` is the search query actually used (it differs from the
    question when a follow-up was resolved against the conversation).
    """

    question: str
    query: str
    answer: str | None
    found: bool
    score: float
    citations: tuple[Citation, ...] = ()
    alternatives: tuple[Candidate, ...] = ()
    passages: tuple[RetrievedPassage, ...] = ()
    timings_ms: dict[str, float] = field(default_factory=dict)
    best_guess: Candidate | None = None  # the top candidate even when not found (never shown as an answer)
    tentative: bool = False
    # Names the question gives (places, people, organisations, years) that the answer's article
    # never mentions: the answer may be about another event, so it is at most tentative (when
    # not found: those of the best guess, whose article was about another event).
    unmentioned: tuple[str, ...] = ()
    # The answerability verifier's probability that the articles hold an answer at all (None
    # when no verifier decided: none fitted, or a no-answer threshold set by hand).
    answerable: float | None = None
    # The articles the question was limited to, in words (`qa.filters.Filters.describe`); None
    # when all were searched.
    scope: str | None = None

    def to_dict(self) -> dict:
        """The stable JSON form (see the module docstring)."""
        return {
            "question": self.question,
            "answer": self.answer,
            "found": self.found,
            "score": round(self.score, 4),
            "tentative": self.tentative,
            "citations": [_citation_dict(c) for c in self.citations],
            "alternatives": [
                {"answer": a.answer, "score": round(a.score, 4),
                 "citations": [_citation_dict(c) for c in a.citations]}
                for a in self.alternatives
            ],
            "passages": [asdict(p) | {"similarity": round(p.similarity, 4)} for p in self.passages],
            "query": self.query,
            "unmentioned": list(self.unmentioned),
            "answerable": None if self.answerable is None else round(self.answerable, 4),
            "scope": self.scope,
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }

    @classmethod
    def from_dict(cls, data: dict) -> Answer:
        """The `Answer` of a `to_dict` form (an HTTP client sends earlier answers back as the
        conversation's history). Raises KeyError/TypeError/ValueError on another shape."""
        return cls(
            question=str(data["question"]), query=str(data.get("query") or data["question"]),
            answer=data.get("answer"), found=bool(data["found"]), score=float(data["score"]),
            citations=tuple(_citation(c) for c in data.get("citations") or ()),
            alternatives=tuple(
                Candidate(str(a["answer"]), float(a["score"]), tuple(_citation(c) for c in a.get("citations") or ()))
                for a in data.get("alternatives") or ()
            ),
            passages=tuple(RetrievedPassage(**p) for p in data.get("passages") or ()),
            tentative=bool(data.get("tentative", False)),
            unmentioned=tuple(data.get("unmentioned") or ()),
            answerable=None if data.get("answerable") is None else float(data["answerable"]),
            scope=data.get("scope"),
        )


def _citation_dict(c: Citation) -> dict:
    return asdict(c)


def _citation(data: dict) -> Citation:
    spans = {k: Span(**data[k]) if data.get(k) else None for k in ("claimant", "statement")}
    return Citation(**(data | spans))


@dataclass(frozen=True)
class Turn:
    """One earlier exchange of a conversation: what was asked and what qa answered."""

    question: str
    answer: Answer
