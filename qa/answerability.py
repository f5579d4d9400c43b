"""Answerability: is this candidate the answer to the question, given everything qa knows?

The reader's own confidence (`qa.reader.Calibration`) was fitted on SQuAD, one Wikipedia
paragraph per question. Asked of many news articles, it misfires both ways: plain statements
("A total of 39 are confirmed dead") come out hedged, and a figure from a nearby sentence, or
from an article about another event of the same kind, comes out confident. So the decision
"answer / tentative / not in the articles" is made here, by a logistic regression over evidence
the reader does not see (the features of `AnswerFeatures`): the reader's margin over no-answer
and span score, the passage's retrieval rank and similarity, how many articles give the same
answer, whether the span is of the question's answer type (`qa.answer_type`), whether the
counted thing matches ("13,000 containers" for a question about troops), how many of the
question's words are in the answer's sentence and passage, and whether the places, people,
organisations and years that the question names occur in the answer's article at all.

It is fitted in the setting the product runs in, `Assistant.ask` over an index, on news
(`scripts/fit_answerability.py`): RealTimeQA 2020-21 questions over the corpus of all quiz
evidence passages (answerable), the same questions with their own evidence left out
("near-topic": the corpus is about the same weeks but does not hold the answer), and asked of
the BBC 2004-05 corpus ("off-topic"), plus SQuAD v2.0's unanswerable questions. 2022 is held
out for the benchmarks. The model is stored as JSON next to the reader
(``answerability.json``: feature names, standardisation, weights and the two thresholds), never
pickled. Without that file the reader's confidence decides, as before.

Whether to answer at all is a separate question from which span is right: a question whose
articles hold the answer can still have a wrong top span, and a confident-looking span can come
from articles about something else. So a second model, the verifier (after the "answer
verifier" of Hu et al., "Read + Verify: Machine Reading Comprehension with Unanswerable
Questions", AAAI 2019, and the external front verifier of Zhang et al., "Retrospective Reader
for Machine Reading Comprehension", AAAI 2021), looks at the question's candidates together
(`QuestionFeatures`) and gives the probability that the articles hold an answer; below its
floor the reply is "not in the articles".
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

ANSWERABILITY_FILE = "answerability.json"


class _FeatureVector:
    """A dataclass of floats is its own feature vector, in field order."""

    def vector(self) -> list[float]:
        return [float(getattr(self, f.name)) for f in fields(self)]

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


def _linear(values: dict[str, float], names, mean, scale, weights, bias: float) -> float:
    """bias + w . (x - mean) / scale over the named values (a missing one counts as 0)."""
    z = bias
    for name, m, s, w in zip(names, mean, scale, weights):
        z += w * (values.get(name, 0.0) - m) / (s or 1.0)
    return z


@dataclass(frozen=True)
class AnswerFeatures(_FeatureVector):
    """The evidence about one candidate answer. Every field is a float, so the dataclass is the
    feature vector (in field order); the model file records the names it was fitted with.

    Counts are ``log1p``-scaled; shares are 0..1; flags are 0 or 1.
    """

    margin: float  # reader: best span score minus its window's [CLS] score (logits)
    span_score: float  # reader: start + end logit of the best span
    reader_confidence: float  # qa.reader.Calibration (SQuAD-fitted), 0..1
    rank: float  # log1p(retrieval rank of the passage, 0 = first)
    similarity: float  # cosine similarity of that passage to the query
    top_similarity: float  # cosine similarity of the first passage (how on-topic the corpus is)
    articles: float  # log1p(other articles giving the same answer)
    type_fit: float  # the question's answer type is known and the span is of it
    type_miss: float  # ... and it is not
    unit_match: float  # "how many X": the number counts X (or a word close to it)
    unit_miss: float  # ... it counts something else ("13,000 containers" for troops)
    sentence_terms: float  # share of the question's words in the answer's sentence (or the one before)
    sentence_similarity: float  # cosine similarity of the question to that sentence (with the one before)
    # No share of the question's words in the whole passage: on the fitting news a passage is
    # mostly one sentence (RealTimeQA's evidence, median 1), so it said nothing there but "a long
    # passage" (the off-topic BBC chunks), and refused plain answers in full articles.
    names_missing: float  # share of the question's key names (places, people, years) absent from the article
    answer_in_question: float  # share of the answer's words that the question already has
    length: float  # log1p(words in the answer)
    # Of the question as a whole (the same for all its candidates): how much of it the retrieved
    # passages speak of at all.
    retrieved_terms: float = 0.0  # share of the question's words found in any retrieved passage
    retrieved_names: float = 1.0  # share of its key names found there (1 when it names none)


@dataclass(frozen=True)
class QuestionFeatures(_FeatureVector):
    """The evidence that the retrieved articles answer a question at all, from its candidates
    that can answer it (`qa.assistant.can_answer`), best first. Every field is a float."""

    top_probability: float  # the best candidate's probability of being right (Answerability)
    top_gap: float  # its ranker score minus the second candidate's (0 when it is alone)
    candidates: float  # log1p(candidates that can answer)
    top_similarity: float  # cosine similarity of the first retrieved passage to the query
    best_margin: float  # the highest reader margin over no-answer among the candidates
    best_sentence_similarity: float  # the closest answer sentence to the question
    best_sentence_terms: float  # the highest share of the question's words in an answer sentence
    names_missing: float  # the lowest share of the question's key names absent from an answer's article
    type_fit: float  # the best candidate is of the question's answer type
    articles: float  # log1p(other articles giving the best candidate's answer)
    retrieved_terms: float  # share of the question's words found in any retrieved passage
    retrieved_names: float  # share of its key names found there
    # Of the best candidate: how close its sentence is to the question, and how far down the
    # retrieval results its passage was (a question whose best answer comes from a low-ranked,
    # loosely related sentence is often one the articles do not answer).
    top_sentence_similarity: float = 0.0
    top_rank: float = 0.0  # log1p(retrieval rank of its passage, 0 = first)

    @classmethod
    def of(cls, ranked: Sequence[AnswerFeatures], model: Answerability) -> QuestionFeatures:
        """From the candidates' features, best first (at least one)."""
        top = ranked[0]
        logits = sorted((model.logit(f) for f in ranked), reverse=True)
        return cls(
            top_probability=model.probability(top),
            top_gap=logits[0] - logits[1] if len(logits) > 1 else 0.0,
            candidates=math.log1p(len(ranked)),
            top_similarity=top.top_similarity,
            best_margin=max(f.margin for f in ranked),
            best_sentence_similarity=max(f.sentence_similarity for f in ranked),
            best_sentence_terms=max(f.sentence_terms for f in ranked),
            names_missing=min(f.names_missing for f in ranked),
            type_fit=top.type_fit,
            articles=top.articles,
            retrieved_terms=top.retrieved_terms,
            retrieved_names=top.retrieved_names,
            top_sentence_similarity=top.sentence_similarity,
            top_rank=top.rank,
        )


@dataclass(frozen=True)
class Verifier:
    """P(the articles hold an answer) = sigmoid(w . (x - mean) / scale + bias) over
    `QuestionFeatures`; ``floor``: below it the reply is "not in the articles"."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    floor: float

    def probability(self, features: QuestionFeatures) -> float:
        z = _linear(asdict(features), self.features, self.mean, self.scale, self.weights, self.bias)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    @classmethod
    def from_dict(cls, data: dict) -> Verifier:
        model = cls(features=tuple(data["features"]), mean=tuple(data["mean"]), scale=tuple(data["scale"]),
                    weights=tuple(data["weights"]), bias=float(data["bias"]), floor=float(data["floor"]))
        unknown = set(model.features) - set(QuestionFeatures.names())
        if unknown or not (len(model.mean) == len(model.scale) == len(model.weights) == len(model.features)):
            raise ValueError(f"the verifier was fitted with other features ({sorted(unknown)}); refit it with "
                             "scripts/fit_answerability.py")
        return model


@dataclass(frozen=True)
class Answerability:
    """Two stages, both logistic regressions (Platt, "Probabilistic outputs for support vector
    machines", 1999, for the second):

    - the ranker: z = w . (x - mean) / scale + bias, fitted on every candidate of every question
      (right or not), orders the candidates of a question;
    - the confidence: P(right) = sigmoid(top_scale * z + top_bias), fitted on each question's
      top-ranked candidate only, so it is the probability that the answer *shown* is right
      (the ranker's own probabilities are per candidate, a dozen per question, and far lower).

    ``threshold``: from here up an answer is shown as confident; ``floor``: from here up to
    ``threshold`` it is tentative; below it the articles "do not say". Both are fitted on the
    fitting split (see `scripts/fit_answerability.py`; the report records how).
    """

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float
    floor: float
    top_scale: float = 1.0
    top_bias: float = 0.0
    fitted_on: str = ""
    report: dict | None = None
    verifier: Verifier | None = None  # None: the floor alone decides whether to answer
    # The floor another report must reach: the confidence from which a candidate would be shown
    # as the answer with no verifier (the floor that rejects as many off-topic questions alone as
    # the two checks do together). None: the floor.
    report_floor: float | None = None

    def answerable(self, ranked: Sequence[AnswerFeatures]) -> float | None:
        """The verifier's probability that the articles hold an answer, given the question's
        candidates that can answer it, best first (0 when there are none; None without a
        verifier)."""
        if self.verifier is None:
            return None
        if not ranked:
            return 0.0
        return self.verifier.probability(QuestionFeatures.of(ranked, self))

    def logit(self, features: AnswerFeatures) -> float:
        """The ranker's score z of a candidate (higher: more likely the answer)."""
        return _linear(asdict(features), self.features, self.mean, self.scale, self.weights, self.bias)

    def probability(self, features: AnswerFeatures) -> float:
        """The probability that this candidate, shown as the answer, is right (0..1)."""
        z = self.top_scale * self.logit(features) + self.top_bias
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    @classmethod
    def load(cls, folder: Path) -> Answerability | None:
        """The model stored with the reader in ``folder``, or None when there is none.

        Raises:
            ValueError: the file is there but is not an answerability model of this version.
        """
        path = Path(folder) / ANSWERABILITY_FILE
        if not path.is_file():
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
        try:
            model = cls(
                features=tuple(data["features"]), mean=tuple(data["mean"]), scale=tuple(data["scale"]),
                weights=tuple(data["weights"]), bias=float(data["bias"]), threshold=float(data["threshold"]),
                floor=float(data["floor"]), top_scale=float(data.get("top_scale", 1.0)),
                top_bias=float(data.get("top_bias", 0.0)), fitted_on=data.get("fitted_on", ""), report=data.get("report"),
                verifier=Verifier.from_dict(data["verifier"]) if data.get("verifier") else None,
                report_floor=float(data["report_floor"]) if data.get("report_floor") is not None else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path} is not a valid answerability model: {exc}") from exc
        unknown = set(model.features) - set(AnswerFeatures.names())
        if unknown or not (len(model.mean) == len(model.scale) == len(model.weights) == len(model.features)):
            raise ValueError(f"{path} was fitted with other features ({sorted(unknown)}); refit it with "
                             "scripts/fit_answerability.py")
        return model

    def save(self, folder: Path) -> Path:
        path = Path(folder) / ANSWERABILITY_FILE
        path.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")
        return path


def fit(
    features: Sequence[AnswerFeatures] | Sequence[QuestionFeatures], labels: Sequence[int], c: float = 1.0,
    names: Sequence[str] | None = None,
) -> tuple[tuple[str, ...], tuple[float, ...], tuple[float, ...], tuple[float, ...], float]:
    """Fit the logistic regression (scikit-learn, L2, ``C=c``) on standardised features (all of
    one kind: `AnswerFeatures` for the ranker, `QuestionFeatures` for the verifier).

    Returns (feature names, mean, scale, weights, bias) for `Answerability` or `Verifier`.
    """
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    all_names = type(features[0]).names()
    names = tuple(names or all_names)
    cols = [all_names.index(n) for n in names]
    x = np.array([f.vector() for f in features], dtype=float)[:, cols]
    y = np.asarray(labels, dtype=int)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit((x - mean) / scale, y)
    return (names, tuple(float(v) for v in mean), tuple(float(v) for v in scale),
            tuple(float(v) for v in model.coef_[0]), float(model.intercept_[0]))


def fit_confidence(top_logits: Sequence[float], right: Sequence[int]) -> tuple[float, float]:
    """(top_scale, top_bias): Platt scaling of the ranker's score of each question's top
    candidate to the probability that it is right."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=100.0, max_iter=1000)
    model.fit(np.asarray(top_logits, dtype=float)[:, None], np.asarray(right, dtype=int))
    return float(model.coef_[0][0]), float(model.intercept_[0])
