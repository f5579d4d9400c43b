"""Candidate answers: the reader's spans turned into distinct answers with their evidence.

A reader returns many spans per passage. Here they become candidates a person would recognise
as different answers:

- a span that runs across a sentence end is not an answer (it is two fragments);
- the same answer in other words ("the Marlow Tower", "roof of the Marlow Tower") is one
  candidate with every place it was read, as long as their numbers agree (1,500 and 12,000
  never merge);
- each candidate gets its `AnswerFeatures` (`qa.answerability`), from the place where the
  reader liked it best, and a probability of being right from the fitted model.

What to show (the answer, tentative or not, other reports) is decided by the `Assistant` from
these candidates.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from qa.answer import Candidate, Citation
from qa.answer_type import (
    DEFEATED_BEFORE,
    MONEY_SPAN,
    PER_HEAD_PURPOSES,
    SMALL_NUMBERS,
    STOPWORDS,
    AnswerType,
    QuestionProfile,
    content_terms,
    counted_event,
    fits,
    in_calendar_day,
    in_dateline,
    is_dateline,
    is_news_event,
    mentions,
    money_purposes,
    names_people,
    states,
    states_another_event,
    stem,
    word_stems,
    words_after,
)
from qa.answerability import Answerability, AnswerFeatures
from qa.chunking import sentence_spans
from qa.corpus import paragraph_number
from qa.evaluation import normalize_answer
from qa.reader import Calibration, ReaderOutput, Span
from qa.retrieval import Passage

# Candidates judged per question: the reader's best distinct answers (the rest are never shown).
MAX_CANDIDATES = 15
# How close (cosine of word embeddings) the noun a number counts must be to the question's
# counted noun to count as the same thing: "soldiers" (0.89 with MiniLM) and "infantry" (0.71)
# for "troops" pass; "containers" (0.27), "tanks" (0.54), "generals" (0.55) and "workers"
# (0.56) against "troops" or "soldiers" do not.
UNIT_SIMILARITY = 0.6
# ... and where the noun is named outright ("41,000 of the province's 52,000 teachers" asked
# about schools), only a word as close as a synonym: "soldiers" for "troops" (0.89).
SAME_NOUN_SIMILARITY = 0.8
# Counted nouns that any count of people answers ("residents", "passengers", "victims").
_ANY_PEOPLE = frozenset({"people", "persons", "individuals"})
# Groups among the people a count is of: a figure of them is a part of the total ("the confirmed
# deaths are fourteen civilians" beside 20 killed).
_PEOPLE_GROUPS = frozenset("civilians children women men foreigners nationals soldiers officers police students "
                           "tourists minors adults girls boys personnel troops".split())
# Number words a news article writes out, and their value ("nine people" and "9 people" are one
# figure).
_NUMBER = re.compile(r"\d[\d,.]*|\b(?:" + "|".join(w for w in SMALL_NUMBERS if w != "zero")
                     + r"|hundred|thousand|million|billion)\b", re.IGNORECASE)


# A sentence is about the question's subject when it is at least this close to the question
# (cosine, as a share of the answer's own sentence's): other reports and other articles'
# citations of the same answer must pass it. Set by reading the sample article's troop figures
# (2,600, 10,000 and 11,000 at 0.84-0.87 of the 1,500 sentence's 0.84; "since August" far below
# it for "when").
SUBJECT_SIMILARITY_RATIO = 0.8


@dataclass(frozen=True)
class Place:
    """Where one candidate was read: a span of a retrieved passage."""

    rank: int  # the passage's position in the retrieval results
    passage: Passage
    span: Span
    reader_confidence: float
    sentence: tuple[int, int]  # the sentence holding the span, in article offsets

    @property
    def article_id(self) -> str:
        return self.passage.record.chunk.article_id

    @property
    def start(self) -> int:
        return self.passage.record.chunk.start + self.span.start

    @property
    def end(self) -> int:
        return self.passage.record.chunk.start + self.span.end

    @property
    def sentence_start(self) -> int:
        """Where the span's sentence starts in the passage's text (0 if before it)."""
        return max(0, self.sentence[0] - self.passage.record.chunk.start)


@dataclass(frozen=True)
class ScoredCandidate:
    """A candidate answer with its evidence and its probability of being right (``score``)."""

    candidate: Candidate
    features: AnswerFeatures
    places: tuple[Place, ...]  # best first, at most one per place in an article
    unmentioned: tuple[str, ...] = ()  # key names of the question its best article never mentions
    unstated: tuple[str, ...] = ()  # event words of a "how many" question its sentence does not state
    defeated: bool = False  # "Who won ...?" and the span is the side beaten ("beating Eastfield Rovers")
    # The question's event is not stated in its own sentence, which states another news event ("injured
    # at least 50 more", after the sentence saying the fire destroyed 200 homes): as a figure
    # another source gives for the answer's count, it is of something else.
    elsewhere: bool = False
    # The question names a year its article was not written in, and the article mentions it, but
    # not in this candidate's sentence or the one before: "A similar march in March 2019 drew
    # 40,000" answers "How many marched in 2019?", not the 12,000 of the 2023 story.
    other_year: str | None = None
    # A year its own sentence names, other than the year its article was written in: "Floods in
    # the same valley in 2016 killed seven" is not another source's toll for this year's floods.
    stated_year: str | None = None
    # The place its own sentence says the figure is of, where the question names places its
    # article mentions but not beside it: "in Dayton, Ohio where ten people died" for "How many
    # died in the El Paso shooting?" (the article is about El Paso, the sentence about Dayton).
    other_place: str | None = None

    @property
    def score(self) -> float:
        return self.candidate.score

    @property
    def names_missing(self) -> bool:
        """A key name of the question is not where the answer is: not in its article at all
        (``unmentioned``), a year of another time not beside it (``other_year``), or its
        sentence is of another place (``other_place``)."""
        return bool(self.unmentioned) or self.other_year is not None or self.other_place is not None

    def sentences(self) -> list[tuple[str, int, int]]:
        """(article id, start, end) of each sentence an answer was read in."""
        return [(p.article_id, *p.sentence) for p in self.places]


class CandidateBuilder:
    """Builds `ScoredCandidate` lists for one question.

    Args:
        calibration: the reader's SQuAD-fitted confidence (a feature, and the score when
            ``model`` is None).
        model: the fitted `Answerability`, or None.
        article_text: article id -> its stored text (for citations and the names check).
        related: (word, [words]) -> the highest cosine similarity between ``word`` and the
            words, for the counted-thing check; None to compare words literally only.
        embed: texts -> L2-normalised vectors (shape ``(len(texts), dim)``), for how close
            each candidate's sentence is to the question; None: not measured (0).
    """

    def __init__(
        self, calibration: Calibration, model: Answerability | None,
        article_text: Callable[[str], str], related: Callable[[str, list[str]], float] | None = None,
        embed: Callable[[list[str]], np.ndarray] | None = None,
    ):
        self.calibration = calibration
        self.model = model
        self._article_text = article_text
        self._texts: dict[str, str] = {}
        self._stems: dict[str, set[str]] = {}
        self._passage_word_stems: dict[str, set[str]] = {}
        self._contexts: dict[tuple[str, int, int], str] = {}
        self._context_word_stems: dict[tuple[str, int, int], set[str]] = {}
        self._sentence_word_stems: dict[tuple[str, int, int], set[str]] = {}
        self._years: dict[tuple[str, str | None], str | None] = {}  # (article id, date) -> `_written`
        self._related = related
        self._embed = embed
        self._attributed = False

    def build(self, profile: QuestionProfile, passages: Sequence[Passage], output: ReaderOutput) -> list[ScoredCandidate]:
        """Distinct candidates (at most `MAX_CANDIDATES`, the reader's best), most probable first."""
        # Contexts are cached per builder, which serves one question (and its as-typed form,
        # which asks the same).
        self._attributed = bool(profile.attributed)
        groups = self._group(passages, _without_asides(profile, passages, output))
        groups = sorted(groups, key=lambda g: -max(p.reader_confidence for p in g[1]))[:MAX_CANDIDATES]
        top_similarity = passages[0].similarity if passages else 0.0
        coverage = self._coverage(profile, passages)
        groups = [sorted(places, key=lambda p: -p.reader_confidence) for _key, places in groups]
        # Sentences to compare with the question: each candidate's places (besides its best one,
        # they must be about the question's subject to count).
        measured = [p for places in groups for p in places]
        closeness = dict(zip(map(id, measured), self._closeness(profile.question, measured)))
        scored = []
        for places in groups:
            best = places[0]
            sim = closeness[id(best)]
            # The same words elsewhere are the same answer only where they are said of the
            # question's subject: "Wednesday" in a report of another event is not a second source
            # for this one, nor is "Ukraine" in the article's opening sentence a place where the
            # missile was recovered "in the Poltava region of Ukraine" (the test other reports
            # pass, `SUBJECT_SIMILARITY_RATIO`).
            places = [p for p in places if p is best or closeness[id(p)] >= SUBJECT_SIMILARITY_RATIO * sim]
            features = self._features(profile, best, places, top_similarity, sim, coverage)
            score = self.model.probability(features) if self.model else best.reader_confidence
            citations = tuple(self._cite(p) for p in places)
            stems = self._article_stems(best.article_id)
            unmentioned = tuple(n for n in profile.key_names if not mentions(n, stems))
            unstated = self._unstated(profile, best)
            elsewhere = self._stated_elsewhere(profile, best)
            defeated = profile.winner and bool(
                DEFEATED_BEFORE.search(best.passage.text, max(0, best.span.start - 40), best.span.start))
            scored.append(ScoredCandidate(Candidate(best.span.text, score, citations), features, tuple(places),
                                          unmentioned, unstated, defeated, elsewhere=elsewhere,
                                          other_year=self._other_year(profile, best, unmentioned),
                                          stated_year=self._stated_year(best),
                                          other_place=self._other_place(profile, best, unmentioned)))
        scored.sort(key=lambda c: -c.score)
        return scored

    # -- grouping ---------------------------------------------------------------------------

    def _group(self, passages: Sequence[Passage], output: ReaderOutput) -> list[tuple[str, list[Place]]]:
        sentences: dict[int, list[tuple[int, int]]] = {}
        groups: dict[str, dict[tuple[str, int, int], Place]] = {}
        for span in output.spans:
            key = normalize_answer(span.text)
            if not key:
                continue
            i = span.context_index
            passage = passages[i]
            start, end = widen_to_duration(passage.text, *widen_to_compound(
                passage.text, *trim_unclosed(passage.text, span.start, span.end)))
            if (start, end) != (span.start, span.end):
                # "eight million 122-mm and 152" -> "... 152-mm": a hyphenated word is one word
                span = replace(span, start=start, end=end, text=passage.text[start:end])
                key = normalize_answer(span.text)
            if i not in sentences:
                sentences[i] = sentence_spans(passage.text)
            sentence = next(((s, e) for s, e in sentences[i] if s <= span.start < e), None)
            if sentence is None or span.end > sentence[1]:
                continue  # runs across a sentence end: two fragments, not an answer
            if cuts_a_word(passage.text, span.start, span.end):
                continue  # "13" of "13,000": word pieces, not what the article says
            if is_dateline(passage.text[sentence[0]:sentence[1]]):
                continue  # when the article was written ("Tuesday, March 5, 2019"), not an event's date
            if in_dateline(passage.text, span.start, span.end) and _DATE_OR_FIGURE.search(span.text):
                continue  # the same in a wire dateline: "KOLMAR, November 18, 2021 (Wire) \u2014 A fire ..."
            base = passage.record.chunk.start
            place = Place(i, passage, span, self.calibration.confidence(span), (base + sentence[0], base + sentence[1]))
            where = (place.article_id, place.start, place.end)
            kept = groups.setdefault(key, {})
            if where not in kept or kept[where].reader_confidence < place.reader_confidence:
                kept[where] = place
        merged: list[tuple[str, list[Place]]] = []
        # The best-read wording of an answer absorbs the other wordings of it.
        for key, places in sorted(groups.items(), key=lambda kv: -max(p.reader_confidence for p in kv[1].values())):
            for other_key, other_places in merged:
                if same_answer(key, other_key):
                    other_places.extend(places.values())
                    break
            else:
                merged.append((key, list(places.values())))
        result = []
        for key, places in merged:
            distinct: list[Place] = []
            for p in sorted(places, key=lambda p: -p.reader_confidence):
                if not any(p.article_id == q.article_id and p.start < q.end and q.start < p.end for q in distinct):
                    distinct.append(p)  # one citation per place in an article
            result.append((key, distinct))
        return result

    # -- evidence ---------------------------------------------------------------------------

    def _closeness(self, question: str, places: list[Place]) -> list[float]:
        """Cosine similarity of the question to each place's sentence (with the one before)."""
        if self._embed is None or not places or not question:
            return [0.0] * len(places)
        contexts = [self._context(p) for p in places]
        distinct = list(dict.fromkeys(contexts))
        vectors = self._embed([question, *distinct])
        sims = dict(zip(distinct, (vectors[1:] @ vectors[0]).tolist()))
        return [float(sims[c]) for c in contexts]

    def _coverage(self, profile: QuestionProfile, passages: Sequence[Passage]) -> tuple[float, float]:
        """(share of the question's words, share of its key names) found anywhere in the
        retrieved passages: how much of what is asked the articles speak of at all. Key names:
        1.0 when the question names nothing."""
        stems: set[str] = set()
        for p in passages:
            stems |= self._passage_stems(p)
        terms = [stem(t) for t in profile.terms]
        names = (sum(mentions(n, stems) for n in profile.key_names) / len(profile.key_names)
                 if profile.key_names else 1.0)
        return _share(terms, stems), names

    def _features(
        self, profile: QuestionProfile, best: Place, places: list[Place], top_similarity: float, closeness: float,
        coverage: tuple[float, float] = (0.0, 1.0),
    ) -> AnswerFeatures:
        terms = [stem(t) for t in profile.terms]
        sentence_stems = self._context_stems(best)
        article_stems = self._article_stems(best.article_id)
        answer_terms = [stem(t) for t in content_terms(best.span.text)]
        type_fit = fits(profile.answer_type, best.span.text)
        unit = self._unit(profile, best) if profile.answer_type is AnswerType.QUANTITY else None
        return AnswerFeatures(
            margin=best.span.margin,
            span_score=best.span.score,
            reader_confidence=best.reader_confidence,
            rank=math.log1p(best.rank),
            similarity=best.passage.similarity,
            top_similarity=top_similarity,
            articles=math.log1p(len({p.article_id for p in places}) - 1),
            type_fit=float(type_fit is True),
            type_miss=float(type_fit is False),
            unit_match=float(unit is True),
            unit_miss=float(unit is False),
            sentence_terms=_share(terms, sentence_stems),
            sentence_similarity=closeness,
            names_missing=(sum(not mentions(n, article_stems) for n in profile.key_names) / len(profile.key_names)
                           if profile.key_names else 0.0),
            answer_in_question=_share(answer_terms, set(terms)),
            length=math.log1p(len(best.span.text.split())),
            retrieved_terms=coverage[0],
            retrieved_names=coverage[1],
        )

    def _unit(self, profile: QuestionProfile, best: Place) -> bool | None:
        """Whether the number of the span counts what the question counts (None: can't tell)."""
        counted = profile.counted
        span_text = best.span.text
        text = best.passage.text
        if is_age_aside(text, best.span.start, best.span.end) and not _ASKS_AGE.search(profile.question):
            # "Wanjiru, 27, broke away": a person's age, in the news' own style, counts nothing
            # else a question could ask about (how many seconds, runners or dollars).
            return False
        # A sum of money is stated with its currency ("$1.2 billion", "12,000 rubles").
        is_money = bool(MONEY_SPAN.search(" ".join([span_text, *words_after(text, best.span.end, 2)])))
        if is_money and _ASKS_LENGTH.search(profile.question):
            return False  # "How long is the tram extension?": a length or a time, not its cost
        if profile.money:
            # A bare "12,000" near a question about payments is a count of something else.
            if not is_money:
                return False
            # ... and a sum for something else is not the one asked about: "putting the damage at
            # 400 million leva" for "How much emergency aid did the government announce?"
            # The purpose may come before a comma: "Foreign investment in Ukraine, at about $40 a
            # head", so the sentence's words before the sum count, with its own clause after it.
            asked = money_purposes(profile.question)
            lo = max(best.span.start - 80, best.sentence_start)
            theirs = money_purposes(text[lo:best.span.start] + " " + own_clause(text, best.span.start, best.span.end))
            if asked & PER_HEAD_PURPOSES and not asked & PER_HEAD_PURPOSES & theirs:
                return False
            return not (asked and theirs and not asked & theirs)
        if (_AGE_BOUND.search(text[max(0, best.span.start - 30):best.span.start])
                and not words_after(text, best.span.end, 1) and not _ASKS_AGE.search(profile.question)):
            return False  # "nine of them children under five": an age, not a count
        if (not profile.event and _PRESENCE_Q.search(profile.question)
                and not _PRESENT_AFTER.match(text, best.span.end)
                and counted_event(own_clause(text, best.span.start, best.span.end))):
            # "How many workers were in the factory?": "killing at least 12 workers" counts those
            # killed, injured, detained, ..., not those who were there ("About 1,400 workers were
            # inside"); troops that "have arrived" in Russia are in Russia.
            return False
        if in_calendar_day(text, best.span.start, best.span.end):
            return False  # "NARAYANGANJ, Bangladesh, May 22": the day of a date counts nothing
        numbers = list(_NUMBER.finditer(span_text))
        if numbers and _THRESHOLD.match(text, best.span.start + numbers[-1].end()):
            # "events where four or more people are killed or injured": a bound a definition or
            # a rule sets, not a count of anyone.
            return False
        if not profile.partitive and is_part(profile, text, best.span.start, best.span.end):
            return False
        if is_superseded(text, best.span.start, best.span.end) and not _EARLIER_Q.search(profile.question):
            return False  # "increased to 167 from a previous 93": 93 is what the count was
        if len(numbers) > 1 and _WHOLE_OF_A_PART.search(span_text[:numbers[-1].start()]):
            return False  # "41,000 of the province's 52,000": two figures, the part and the whole
        if ((profile.event or not (_ASKS_THE_WHOLE.search(profile.question) or _PRESENCE_Q.search(profile.question)))
                and _WHOLE_OF_A_PART.search(text[max(0, best.span.start - 60):best.span.start])):
            # "Twenty-two of the train's 80 cars left the tracks": what happened happened to the
            # 22; the 80 is the whole they are part of ("41,000 of the province's 52,000 teachers
            # took part"), unless the question asks the whole ("How many cars did it have?", "How
            # many were on board?" of "All but one of the sixteen on-board died").
            return False
        if counted and numbers and re.match(r"-[a-z]", span_text[numbers[-1].end():], re.IGNORECASE):
            # "152-mm shells", "6.3-magnitude quake", "a seven-storey factory": the number
            # measures the thing, it does not count it
            return False
        if counted in _ANY_PEOPLE:
            # "How many people drove tractors into Brussels?": "1,300 tractors" counts the other
            # thing the question names, not the people.
            after = words_after(text, best.span.end, 1) or list(content_terms(span_text[numbers[-1].end():] if numbers else ""))
            if (after and after[0] not in _ANY_PEOPLE and not names_people(after[0]) and not is_news_event(after[0])
                    and not after[0].endswith(("ed", "ing"))
                    and stem(after[0]) in {stem(t) for t in profile.terms if t != counted}):
                return False
        if not counted or counted in _ANY_PEOPLE or not numbers:
            return None
        part = _PART_OF.match(text, best.span.end)
        if part:
            whole = _CLAUSE_BOUND.split(text[part.end():part.end() + 40], maxsplit=1)[0]
            if stem(counted) in word_stems(whole):
                return True  # "Twenty-two of the train's 80 cars": a part, counted in the whole's noun
            number = _NUMBER.search(whole)
            noun = [w for w in words_after(whole, number.end(), 1) if not _NUMBER.fullmatch(w)] if number else []
            if noun and (self._related is None or self._related(counted, noun) < SAME_NOUN_SIMILARITY):
                # "41,000 of the province's 52,000 teachers" counts teachers, not schools (0.64
                # alike by MiniLM: a part's noun is named, so only the same thing will do)
                return False
        inside = content_terms(span_text[numbers[-1].end():])
        after = _counted_after(best.passage.text, best.span.end)
        nouns = [w for w in (*inside, *after) if not _NUMBER.fullmatch(w)]
        if nouns:
            # A measure or a container of the thing: "50 gallons [of diesel fuel]", "13,000
            # containers [of munitions]".
            nouns += _measured_after(best.passage.text, best.span.end)
        if not nouns:
            # "... could eventually rise to 12,000.": the count's subject is earlier, in the
            # sentence or the one before ("1,500 troops have arrived"). A bare number with no
            # word for the counted thing there does not count it: "12,000" (troops) is not a
            # count of tanks, workers or generals.
            if stem(counted) in self._context_stems(best):
                if profile.partitive:
                    # A part of what another number counts ("six Mexican nationals were killed,
                    # and seven more were injured" for "how many of the nationals were injured").
                    return None
                # ... unless its sentence counts that thing with another number: "the magnitude
                # was 6.6 and 1885 aftershocks had occurred" (6.6 is not the aftershocks).
                return not self._counted_elsewhere(counted, best)
            context = [w for w in content_terms(self._context(best)) if not _NUMBER.fullmatch(w)]
            if self._related is None or not context:
                return None
            return self._related(counted, context) >= UNIT_SIMILARITY
        if stem(counted) in {stem(n) for n in nouns}:
            return True
        if nouns[0].lower() in _ANY_PEOPLE and counted.lower() in _PEOPLE_GROUPS and not profile.partitive:
            # "At least 19 people died" counts all the dead, not the children among them ("How
            # many children died?": the hospital's "including five children").
            return False
        if (nouns[0].lower() in _ANY_PEOPLE and profile.event
                and (names_people(counted) or profile.partitive)):
            # "23 people were arrested" may be the fans asked about when it says that happened
            # to them ("How many fans were arrested?"), as "1846 persons were hospitalized" may
            # be some of the cases ("How many of the cases were hospitalized?"); "20,000 people
            # watched" is not officers on duty.
            clause = re.split(r"[,;.]\s", best.passage.text[best.span.end : best.span.end + 120], maxsplit=1)[0]
            if all(states(w, word_stems(clause)) for w in profile.event):
                return None
        if self._related is None:
            return False
        return self._related(counted, nouns) >= UNIT_SIMILARITY

    def _counted_elsewhere(self, counted: str, best: Place) -> bool:
        """Whether another number of the span's sentence is followed by ``counted``."""
        text = self.text(best.article_id)
        lo, hi = best.sentence
        own = (best.start, best.end)
        for m in _NUMBER.finditer(text, lo, hi):
            if own[0] <= m.start() < own[1]:
                continue
            if stem(counted) in {stem(w) for w in words_after(text, m.end()) if not _NUMBER.fullmatch(w)}:
                return True
        return False

    def _context(self, best: Place) -> str:
        """The sentence a candidate was read in, with the sentence before it (where a figure's
        subject often is: "... 1,500 troops have arrived. The number could rise to 12,000.").
        For "Who said X?" also the sentence after it: a source's words often follow their name
        ("Troy Roberts said ... . He said \"Guardrails can only take so much.\"")."""
        key = (best.article_id, *best.sentence)
        if key not in self._contexts:
            text = self.text(best.article_id)
            after = _next_sentence(text, best.sentence[1]) if self._attributed else ""
            self._contexts[key] = " ".join((_previous_sentence(text, best.sentence[0]),
                                            text[best.sentence[0] : best.sentence[1]], after)).strip()
        return self._contexts[key]

    def _context_stems(self, best: Place) -> set[str]:
        """`word_stems` of `_context` (the features, the counted-thing and the event checks all
        read them)."""
        key = (best.article_id, *best.sentence)
        if key not in self._context_word_stems:
            self._context_word_stems[key] = word_stems(self._context(best))
        return self._context_word_stems[key]

    def _sentence_stems(self, best: Place) -> set[str]:
        """`word_stems` of the sentence a candidate was read in alone (the event checks)."""
        key = (best.article_id, *best.sentence)
        if key not in self._sentence_word_stems:
            self._sentence_word_stems[key] = word_stems(self.text(best.article_id)[best.sentence[0]:best.sentence[1]])
        return self._sentence_word_stems[key]

    def _unstated(self, profile: QuestionProfile, best: Place) -> tuple[str, ...]:
        """The question's event words (`qa.answer_type.event_terms`, or `when_event` for "when")
        that the candidate's sentence (with the one before; for a date its own sentence alone)
        does not state (`qa.answer_type.states`). A news event of qa's table
        must be stated ("home to over 1,000 people" is not people who died); a word outside it
        is only missed where the sentence states another news event instead
        (`qa.answer_type.states_another_event`): "over 400 firefighters participated in
        extinguishing the blaze" may well be the firefighters who "fought" it, 1,500 troops that
        "have arrived" are not troops "stationed" on a border."""
        if not profile.event:
            return ()
        if profile.answer_type is AnswerType.DATE:
            # A date is stated in the clause of its event, not the sentence before ("Earlier this
            # month, Ukrainian forces recovered a missile ... . North Korea has been delivering
            # ammunition since August" for when the missile was recovered).
            own = self._sentence_stems(best)
            return tuple(w for w in profile.event if not states(w, own) and states_another_event(w, own))
        if profile.answer_type is not AnswerType.QUANTITY:
            return ()
        stems = self._context_stems(best)
        own = self._sentence_stems(best)
        if _WHERE_PREDICATE.match(best.passage.text, best.span.end):
            # "About 1,400 workers were inside when the fire started": where they were, not what
            # happened to them, whatever the sentence before says ("put the death toll at 19").
            return tuple(w for w in profile.event if not states(w, own))
        # The sentence before only lends a news event to a sentence that states no other one:
        # "The fire service said 12 workers had been killed ... . Meghna Knitwear said 40 people
        # had been injured." does not make the 40 a count of the killed. (A verb outside the
        # table, "crashed", is lent as before: "sixteen ... were killed" after the crash.)
        return tuple(w for w in profile.event
                     if not states(w, own) and ((is_news_event(w) and states_another_event(w, own)) or (
                         not states(w, stems) and (is_news_event(w) or states_another_event(w, stems)))))

    def states_event(self, profile: QuestionProfile, candidate: ScoredCandidate) -> bool:
        """Whether the sentence a candidate was read in (alone, not the one before) states every
        event word of the question (`qa.answer_type.states`) and its own clause states no
        other instead (`clause_states_another`). False when the question has none."""
        if not profile.event or not candidate.places:
            return False
        return (all(states(w, self._sentence_stems(candidate.places[0])) for w in profile.event)
                and not self.clause_states_another(profile, candidate))

    @staticmethod
    def counts_the_whole(profile: QuestionProfile, candidate: ScoredCandidate) -> bool:
        """For a question counting people (by a general word, or by what happened to them):
        whether the noun right after a figure, if any, names them all: people, a kind of
        people, or the event itself ("34 bodies", "41 residents had died"), and not a group of
        them ("fourteen civilians", "eight Mexicans": a part of the dead) or another thing
        ("76 villages", "eighteen kilometres"). True when the question counts something else
        by name (its unit check decides)."""
        counted = profile.counted
        if counted and counted not in _ANY_PEOPLE:
            return True
        place = candidate.places[0]
        text = place.passage.text
        before = text[max(0, place.span.start - 200):place.span.start]
        if re.search(r"(?:,|\band)\s+$", before) and _NUMBER.search(re.split(r"[.!?]\s", before)[-1]):
            return False  # an item of a breakdown: "fourteen civilians, five ... and one member of the Coast Guard"
        after = re.match(r"\s+([\w'\u2019-]+)", text[place.span.end:place.span.end + 60])
        noun = ([after.group(1)] if after and after.group(1).lower() not in STOPWORDS else []) or [
            w for w in re.findall(r"[\w'\u2019-]+", candidate.candidate.answer) if not _NUMBER.fullmatch(w)][-1:]
        if not noun:
            return True
        if noun[0][:1].isupper():
            return False  # a named group: "eight Mexicans", "five Armed Forces personnel"
        word = noun[0].lower()
        if word in _ANY_PEOPLE or is_news_event(word) or word.endswith(("ed", "ing")):
            return True
        return names_people(word) and word not in _PEOPLE_GROUPS

    @staticmethod
    def clause_states_another(profile: QuestionProfile, candidate: ScoredCandidate) -> bool:
        """Whether the words of a candidate's own clause (from the comma or "and" before it to
        the one after) state a news event other than the question's and not the question's:
        "12 workers had been killed and 62 injured", "killing at least 12 workers and injuring
        dozens" (the 12 were killed, the 62 injured, though each sentence states both)."""
        if not profile.event or not candidate.places:
            return False
        place = candidate.places[0]
        clause = word_stems(own_clause(place.passage.text, place.span.start, place.span.end))
        return any(not states(w, clause) and states_another_event(w, clause) for w in profile.event)

    def _other_place(self, profile: QuestionProfile, best: Place, unmentioned: Sequence[str]) -> str | None:
        """`ScoredCandidate.other_place`: for a figure, the place named right before it in its
        sentence ("in Dayton, Ohio where ten people died"), after "in" or "at" within 60
        characters with none of the question's names between, when the question names places,
        people or organisations that its article mentions (``unmentioned``: those it does not)
        and not that one, and the sentence before the figure names none of them or "where" ties
        the figure to that place; None otherwise."""
        names = [n for n in profile.key_names if not _YEAR.fullmatch(n)]
        if profile.answer_type is not AnswerType.QUANTITY or not names or any(n in unmentioned for n in names):
            return None  # a figure's; a place, a name or a date is what a place before it may well be
        text = best.passage.text
        near = list(_IN_A_PLACE.finditer(text, max(best.span.start - 60, best.sentence_start), best.span.start))
        if not near:
            return None
        place = near[-1].group(1)
        asked = {n.lower() for n in profile.names}
        between = text[near[-1].end():best.span.start]
        if place.lower() in asked or place in _NOT_PLACES or any(mentions(n, word_stems(between)) for n in names):
            return None
        sentence = word_stems(text[best.sentence_start:best.span.start])
        if any(mentions(n, sentence) for n in names) and not re.search(r"\bwhere\b", between):
            # "Kane Tanaka died in Japan at age 119": where the question's subject was; only
            # "in Dayton, Ohio where ten people died" ties the figure to the other place.
            return None
        return place

    def _written(self, best: Place) -> str | None:
        """The year the candidate's article was written: its date's, else its wire dateline's
        (once per article)."""
        key = (best.article_id, best.passage.record.date)
        if key not in self._years:
            dateline = _DATELINE_YEAR.search(self.text(best.article_id)[:400])
            written = _YEAR.search(key[1] or "") or (_YEAR.search(dateline.group()) if dateline else None)
            self._years[key] = written.group() if written else None
        return self._years[key]

    def _stated_year(self, best: Place) -> str | None:
        """`ScoredCandidate.stated_year`: None when the article's year is unknown."""
        written = self._written(best)
        if written is None:
            return None
        text = self.text(best.article_id)
        return next((m.group() for m in _YEAR.finditer(text, *best.sentence)
                     if m.group() != written and not in_dateline(text, m.start(), m.end())), None)

    def _other_year(self, profile: QuestionProfile, best: Place, unmentioned: Sequence[str]) -> str | None:
        """For a "how many" question, the year it names (`ScoredCandidate.other_year`) that the candidate's
        article mentions, though it was written in another year (its date, else its wire
        dateline), but not in the candidate's sentence or the one before; None otherwise (and
        when the article's year is unknown: then nothing says the year is another time's)."""
        years = [n for n in profile.key_names if _YEAR.fullmatch(n) and n not in unmentioned]
        if not years or profile.answer_type is not AnswerType.QUANTITY:
            # Only a count's: in "Two men were charged in the 2002 murder of Jam Master Jay.
            # Which group was he in?" the year is the background, not when the answer was so
            # (on RealTimeQA 2020-21 the rule for every type lost two right answers: one wrong, one refused).
            return None
        written = self._written(best)
        if written is None:
            return None
        context = self._context(best)
        return next((y for y in years if y != written and y not in context), None)

    def _stated_elsewhere(self, profile: QuestionProfile, best: Place) -> bool:
        """For a "how many" question: the candidate's own sentence states a news event of
        `qa.answer_type`'s table but not the question's (which only the sentence before states)."""
        if profile.answer_type is not AnswerType.QUANTITY or not profile.event:
            return False
        own = self._sentence_stems(best)
        return any(not states(w, own) and states_another_event(w, own) for w in profile.event)

    def text(self, article_id: str) -> str:
        """An article's whole text, read from the index once per question."""
        if article_id not in self._texts:
            self._texts[article_id] = self._article_text(article_id)
        return self._texts[article_id]

    def _passage_stems(self, passage: Passage) -> set[str]:
        """The word stems of a retrieved passage, computed once per question (the coverage
        features and every candidate read in it use them)."""
        key = passage.record.chunk.id
        if key not in self._passage_word_stems:
            self._passage_word_stems[key] = word_stems(passage.text)
        return self._passage_word_stems[key]

    def _article_stems(self, article_id: str) -> set[str]:
        if article_id not in self._stems:
            self._stems[article_id] = word_stems(self.text(article_id))
        return self._stems[article_id]

    def _cite(self, place: Place) -> Citation:
        rec = place.passage.record
        return Citation(
            article_id=rec.chunk.article_id, title=rec.title, start=place.start, end=place.end,
            passage=rec.chunk.text, passage_start=rec.chunk.start, chunk_id=rec.chunk.id,
            paragraph=paragraph_number(self.text(rec.chunk.article_id), place.start),
            url=rec.url, date=rec.date, source=rec.source,
        )


# A figure in brackets right after another one, restating it in other units: "10:39 a.m. local
# time (1639 UTC)", "$5 million (£3.8m)", "5 miles (8 km)". Groups: what the brackets hold
# after the span ("UTC", "km").
_OPENS_ASIDE = re.compile(r"\s*\(\s*$")
_CLOSES_ASIDE = re.compile(r"([^()]{0,20}?)\)")


def _without_asides(profile: QuestionProfile, passages: Sequence[Passage], output: ReaderOutput) -> ReaderOutput:
    """``output`` without the spans that only restate another span in brackets ("1639" of
    "10:39 a.m. local time (1639 UTC)"): the article says the figure in the words before the
    brackets, and the reader, liking both, otherwise shows the aside as the answer. An aside
    stays when the question asks in its terms ("How many km ...?" keeps "8 km" of "5 miles
    (8 km)")."""
    ends = {(s.context_index, s.end) for s in output.spans}
    asked = {stem(t) for t in profile.terms}
    kept = []
    for s in output.spans:
        text = passages[s.context_index].text
        opening = s.start + 1 if s.text.startswith("(") else s.start  # "(1639"
        before = _OPENS_ASIDE.search(text, max(0, s.start - 4), opening)
        closed = ")" in s.text and "(" not in s.text  # "1639 UTC),"
        after = _CLOSES_ASIDE.match(text, s.start + s.text.index(")") if closed else s.end)
        if before and after and (s.context_index, before.start()) in ends:
            rest = {stem(w) for w in re.findall(r"\w+", s.text + " " + after.group(1))}
            if not rest & asked:
                continue
        kept.append(s)
    return output if len(kept) == len(output.spans) else replace(output, spans=kept)


def cuts_a_word(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` begins or ends inside a word or a number ("13" of "13,000",
    "1" of "1.5%", "Kyiv" of "Kyivstar", "152" of "152-mm"): the reader's spans are word pieces,
    and such a piece is not what the article says."""
    if start >= end:
        return False
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    if (before.isalnum() and text[start].isalnum()) or (after.isalnum() and text[end - 1].isalnum()):
        return True
    # A hyphenated compound is one word: "152" of "152-mm", "Kyiv" of "Kyiv-based".
    if after == "-" and text[end - 1].isalnum() and end + 1 < len(text) and text[end + 1].isalnum():
        return True
    if before == "-" and text[start].isalnum() and start >= 2 and text[start - 2].isalnum():
        return True
    # A thousands separator, a decimal point or a clock's colon between digits: "13|,000", "1|.5",
    # "2|:05:48".
    if after in ",.:" and text[end - 1].isdigit() and end + 1 < len(text) and text[end + 1].isdigit():
        return True
    if before in ",.:" and text[start].isdigit() and start >= 2 and text[start - 2].isdigit():
        return True
    # ... or the span takes the separator along: "2," or ",600" of "2,600".
    if text[end - 1] in ",.:" and end >= 2 and text[end - 2].isdigit() and after.isdigit():
        return True
    return text[start] in ",.:" and before.isdigit() and start + 1 < len(text) and text[start + 1].isdigit()


def widen_to_compound(text: str, start: int, end: int) -> tuple[int, int]:
    """[start, end) widened to whole hyphenated words: "152" of "152-mm" becomes "152-mm",
    "Kyiv" of "Kyiv-based" becomes "Kyiv-based"."""
    while end + 1 < len(text) and text[end] == "-" and text[end - 1].isalnum() and text[end + 1].isalnum():
        end += 1
        while end < len(text) and text[end].isalnum():
            end += 1
    while start >= 2 and text[start - 1] == "-" and text[start].isalnum() and text[start - 2].isalnum():
        start -= 1
        while start > 0 and text[start - 1].isalnum():
            start -= 1
    return start, end


_PRESENCE_Q = re.compile(r"\b(?:were|was|are|is)\s+(?:\w+\s+)?(?:in|on|inside|aboard|on\s+board|at|present)\b"
                         r"|\bon\s+board\b", re.IGNORECASE)
# "the sixteen on-board died", "12 people inside were killed": the figure counts those there.
_PRESENT_AFTER = re.compile(r"\s+(?:[\w'-]+\s+){0,2}?(?:on[\s-]board|onboard|aboard|inside|present)\b", re.IGNORECASE)
_AGE_BOUND = re.compile(r"\b(?:children|kids|people|those|adults|babies|infants|girls|boys)\s+(?:under|over|aged|below|above)\s+$",
                        re.IGNORECASE)
_ASKS_LENGTH = re.compile(r"\bhow\s+(?:long|far|wide|tall|high|deep)\b", re.IGNORECASE)
_ASKS_AGE = re.compile(r"\bhow old\b|\bages?d?\b", re.IGNORECASE)
_AGE_BEFORE = re.compile(r"\b[A-Z][\w'\u2019.-]*,\s*$")
_AGE_AFTER = re.compile(r"\s*,")


def is_age_aside(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is a person's age set off after the name: "Wanjiru, 27,
    broke away" (a bare number of one to three digits between commas, after a capitalised
    word)."""
    return (bool(re.fullmatch(r"\d{1,3}", text[start:end].strip()))
            and bool(_AGE_BEFORE.search(text[max(0, start - 60):start]))
            and bool(_AGE_AFTER.match(text, end)))


def trim_unclosed(text: str, start: int, end: int) -> tuple[int, int]:
    """[start, end) without a bracket it opens and never closes, and what follows it: "10:39
    a.m. local time (1639" becomes "10:39 a.m. local time". A bracket closed and never opened
    goes with what comes before it, a curly quote at an edge with no partner goes, and so does a
    full stop or comma at the end that is not an abbreviation's. The span stays as it is when
    nothing would be left."""
    span = text[start:end]
    opened = span.rfind("(")
    if opened > 0 and ")" not in span[opened:]:
        cut = span[:opened].rstrip(" ,;:-\u2013\u2014")
        if cut:
            end = start + len(cut)
            span = cut
    closed = span.find(")")
    if 0 <= closed < len(span) - 1 and "(" not in span[:closed]:
        rest = span[closed + 1:]
        kept = rest.lstrip(" ,;:-\u2013\u2014")
        if kept:
            start = end - len(kept)
            span = kept
    # A curly quote the span closes but never opens, or opens but never closes, is the edge of
    # a quotation around it: "all available means\u201d" is "all available means".
    if len(span) > 1 and span[-1] == "\u201d" and "\u201c" not in span:
        end -= 1
    elif len(span) > 1 and span[0] == "\u201c" and "\u201d" not in span:
        start += 1
    # The sentence's full stop or a clause's comma is not part of the answer ("30,000 strong.");
    # an abbreviation's point is ("3:40 a.m.", "U.S.").
    span = text[start:end]
    if len(span) > 1 and span[-1] in ".,;:" and not _ABBREVIATION_END.search(span):
        end -= 1
    return start, end


_ABBREVIATION_END = re.compile(r"(?:\b[A-Za-z]\.)+$|\b(?:Jr|Sr|Inc|Ltd|Co|Corp|St|Dr|Mr|Mrs|Ms|No|Gen|Col|Lt|Sgt|Rev|"
                               r"Prof|Gov|Sen|Rep|Mt|Ave|Jan|Feb|Mar|Apr|Aug|Sept?|Oct|Nov|Dec|etc|vs)\.$")


_CLOCK_UNIT = r"(?:hours?|hrs?|minutes?|mins?|seconds?|secs?)"
_DURATION_BEFORE = re.compile(rf"(?:\d+(?:\.\d+)?\s+{_CLOCK_UNIT},?\s+(?:and\s+)?)+$", re.IGNORECASE)
_DURATION_AFTER = re.compile(rf"(?:,?\s+(?:and\s+)?\d+(?:\.\d+)?\s+{_CLOCK_UNIT}\b)+", re.IGNORECASE)
_ENDS_IN_CLOCK_UNIT = re.compile(rf"\d(?:\.\d+)?\s+{_CLOCK_UNIT}$", re.IGNORECASE)


def widen_to_duration(text: str, start: int, end: int) -> tuple[int, int]:
    """[start, end) widened to the whole duration it is part of: "40.2 seconds" of "1 hour 59
    minutes 40.2 seconds", "2 hours" of "2 hours, 5 minutes and 48 seconds"."""
    if not _ENDS_IN_CLOCK_UNIT.search(text[start:end]):
        return start, end
    before = _DURATION_BEFORE.search(text[max(0, start - 80):start])
    if before:
        start -= len(before.group())
    after = _DURATION_AFTER.match(text, end)
    return start, after.end() if after else end


def same_answer(a: str, b: str) -> bool:
    """Whether two normalised answers are the same answer in other words ("roof of the Marlow
    Tower", "Marlow Tower, the old grain store"): they give the same numbers, and one's content
    words hold the other's, or they share at least two content words and half of the shorter's."""
    if a == b:
        return True
    if _numbers(a) != _numbers(b):
        return False
    # The numbers are compared above, as values: "nine" and "9" are one word here.
    ta = {t for t in content_terms(a) if not _NUMBER.fullmatch(t)}
    tb = {t for t in content_terms(b) if not _NUMBER.fullmatch(t)}
    if not ta or not tb:
        return bool(_numbers(a))  # "9" and "nine people": the same figure
    common = len(ta & tb)
    return ta <= tb or tb <= ta or (common >= 2 and common >= min(len(ta), len(tb)) / 2)


# A count's own clause saying where the counted were ("workers were inside", "passengers were on
# board"), not what happened to them.
_WHERE_PREDICATE = re.compile(
    r"\s+(?:[\w'\u2019-]+\s+){0,3}?(?:were|was|are|is|had\s+been|have\s+been)\s+"
    r"(?:inside|in|at|on\s+board|aboard|present|there|working|on\s+site|on\s+duty)\b", re.IGNORECASE)
_PART_OF = re.compile(r"\s+of\s+(?:the|those|these)\s+", re.IGNORECASE)
_OF_THEM = re.compile(r"\s+of\s+(?:them|whom)\b", re.IGNORECASE)
_INCLUDING_Q = re.compile(r"\binclud", re.IGNORECASE)  # "... estimated to include?": asks for that part
_INCLUDING = re.compile(r"\b(?:including|includes?|included|excluding|not counting|among them|among whom)\s+$",
                        re.IGNORECASE)


_WHOLE_OF_A_PART = re.compile(
    r"(?:\d[\d,]*|\b(?:" + "|".join(SMALL_NUMBERS) + r")(?:-\w+)?)\s+of\s+(?:the|its|their|his|her)\s+"
    r"(?:[\w'\u2019-]+['\u2019]s\s+)?$", re.IGNORECASE)
# A "how many" question that asks how many there are in all, not how many did something.
_ASKS_THE_WHOLE = re.compile(
    r"\b(?:have|has|had|employ|employs|employed|hold|holds|carry|carries|carried)\s*\??\s*$"
    r"|\b(?:are|were|is|was)\s+there\b|\b(?:in\s+(?:all|total)|altogether)\b", re.IGNORECASE)
_THRESHOLD = re.compile(r"\s+(?:or|and)\s+(?:more|fewer|less|older|younger|over|above|under)\b", re.IGNORECASE)
_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
# "in Dayton", "at Wembley": a name after a place preposition (not a month or a day).
_IN_A_PLACE = re.compile(r"\b(?:in|at)\s+([A-Z][a-z][\w'\u2019-]*)")
_NOT_PLACES = frozenset("January February March April May June July August September October November December "
                        "Monday Tuesday Wednesday Thursday Friday Saturday Sunday The A An His Her Their Its".split())
# The year of a wire dateline: "KOLMAR, November 18, 2021 (Wire) \u2014".
_DATELINE_YEAR = re.compile(r"^[A-Z][A-Z .'\u2019-]{1,40},[^()\n]{1,60}?\b(?:1[89]|20)\d\d\b(?=[^()\n]{0,20}\()",
                            re.MULTILINE)
_DATE_OR_FIGURE = re.compile(r"\d|\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\b")
_CLAUSE_BOUND = re.compile(r"[,;:.]\s|\s(?:and|but|while)\s")


def own_clause(text: str, start: int, end: int) -> str:
    """The words around ``text[start:end]`` within its clause (from the comma, colon or "and"
    before it to the one after), without the span itself."""
    before = _CLAUSE_BOUND.split(text[max(0, start - 120):start])[-1]
    after = _CLAUSE_BOUND.split(text[end:end + 120], maxsplit=1)[0]
    return f"{before} {after}"


_TIED = re.compile(r"\s*(?:,\s*(?:when|where|as)\b)?(?:[^,;:\u2014\u2013()]|(?<=\d),(?=\d))*")


def of_the_year(text: str, start: int, end: int, year: str) -> bool:
    """Whether the figure at ``text[start:end]`` is stated of ``year``, which its sentence names:
    in one clause ("Floods in 2016 killed seven", "60 homes were destroyed in 2018"), or in the
    clause "when" opens after it ("since 2018, when a fire ... destroyed 60 homes"); not when the
    year is in an aside about the subject ("Halden's first tram line, which opened in 2004, cost
    280 million crowns": the line's cost, whenever it was paid)."""
    if year in text[start:end]:
        return True  # "1968 at age 48"
    lo = max(0, start - 200)
    i = text.rfind(year, lo, start)
    if i >= 0 and _TIED.match(text, i + len(year), start).end() == start and not re.search(r"[.!?]\s", text[i:start]):
        return True
    j = text.find(year, end, end + 200)
    return j >= 0 and _TIED.match(text, end, j).end() == j and not re.search(r"[.!?]\s", text[end:j])


_FROM_BEFORE = re.compile(r"\bfrom\s+(?:(?:a|an|the)\s+)?(?:previous|earlier|initial|prior|original)?\s*$", re.IGNORECASE)
_TO_A_FIGURE = re.compile(r"\bto\s+(?:about\s+|around\s+|at\s+least\s+)?(?:\d[\d,.]*|" + "|".join(SMALL_NUMBERS) + r")\b",
                          re.IGNORECASE)
_FROM_A_FIGURE = re.compile(r"\bfrom\s+(?:(?:a|an|the)\s+)?(?:previous|earlier|initial|prior|original)?\s*"
                            r"(?:\d|(?:" + "|".join(SMALL_NUMBERS) + r")\b)", re.IGNORECASE)
_EARLIER_Q = re.compile(r"\b(?:previous|previously|earlier|initial|initially|first|originally|before)\b",
                        re.IGNORECASE)


def is_superseded(text: str, start: int, end: int) -> bool:
    """Whether the figure at ``text[start:end]`` is what a count was before it changed: "the
    toll increased to 167 from a previous 93", "from fourteen to 31" (the figure after "from",
    with "to" and another figure in its clause), or a span that holds both ("167 from a previous
    93": two counts, not one)."""
    if _FROM_A_FIGURE.search(text, start, end):
        return True
    if not _FROM_BEFORE.search(text[max(0, start - 40):start]):
        return False
    return bool(_TO_A_FIGURE.search(own_clause(text, start, end)))


def is_part(profile: QuestionProfile, text: str, start: int, end: int) -> bool:
    """Whether the figure at ``text[start:end]`` counts a part of the total a "how many"
    question asks for: "17 of the injured were being treated for burns" (of what the question's
    event names) for "How many were injured?", or "23 people had been detained, including two
    minors" ("including", "did not include", and not the counted thing: "including three
    children" does answer "How many children were killed?")."""
    part = _PART_OF.match(text, end)
    if part and profile.event:
        whole = word_stems(" ".join(words_after(text, part.end(), 3)))  # the noun phrase: "the injured [were]"
        if any(states(w, whole) for w in profile.event):
            return True
    if _INCLUDING.search(text[max(0, start - 25):start]) and not _INCLUDING_Q.search(profile.question):
        clause = re.split(r"[,;.]\s", text[end:end + 80], maxsplit=1)[0]
        return not (profile.counted and stem(profile.counted) in word_stems(clause))
    them = _OF_THEM.match(text, end)
    if them:
        # "including 37 deaths, nine of them children": the nine are some of the 37, unless they
        # are what the question counts ("How many children died?").
        return not (profile.counted and stem(profile.counted) in word_stems(" ".join(words_after(text, them.end(), 2))))
    return False


def figures(text: str) -> int:
    """How many separate numbers ``text`` gives ("1.5 million": one; "22 people on Monday,
    reported officials, with 25": two); scale words do not count on their own."""
    return len(_numbers(text) - {"hundred", "thousand", "million", "billion"})


def _numbers(text: str) -> set[str]:
    """The numbers of ``text`` as digits where they are small words ("nine" -> "9")."""
    out = set()
    for m in _NUMBER.finditer(text):
        value = m.group().replace(",", "").rstrip(".").lower()
        out.add(SMALL_NUMBERS.get(value, value))
    return out


_MEASURE_OR_AND = re.compile(r"\s*(?:(?:and|or)\s+)?\d[\w.,]*-[a-z]+\b", re.IGNORECASE)


def _counted_after(text: str, end: int) -> list[str]:
    """The words after a number that say what it counts (`words_after`), past measures joined to
    numbers and the conjunctions between them: "eight million [122-mm and 152-mm] shells"."""
    for _ in range(4):
        m = _MEASURE_OR_AND.match(text, end)
        if not m:
            break
        end = m.end()
    return words_after(text, end)


_OF_PHRASE = re.compile(r"(?:\s+[a-z][\w-]*){0,2}?\s+of\s+", re.IGNORECASE)


def _measured_after(text: str, end: int) -> list[str]:
    """The words after "of" that closes the unit after a number (`words_after`): what "50
    gallons" measures in "50 gallons of diesel fuel"; [] when no "of" follows within two words."""
    m = _OF_PHRASE.match(text, end)
    return words_after(text, m.end()) if m else []


def _previous_sentence(text: str, start: int) -> str:
    """The sentence before the one that starts at ``start`` (same paragraph or not)."""
    lo = max(0, start - 400)
    spans = sentence_spans(text[lo:start])
    if not spans:
        return ""
    s, e = spans[-1]
    return text[lo + s : lo + e]


def _next_sentence(text: str, end: int) -> str:
    """The sentence after the one that ends at ``end``."""
    spans = sentence_spans(text[end : end + 600])
    if not spans:
        return ""
    s, e = spans[0]
    return text[end + s : end + e]


def _share(terms: Sequence[str], words: set[str]) -> float:
    return sum(1 for t in terms if t in words) / len(terms) if terms else 0.0
