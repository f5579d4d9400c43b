"""The one API that the CLI, the batch script and the web UI call.

``Assistant(settings).ask(question, history)`` retrieves passages, reads answer spans in them,
merges the same answer found in several places, and returns an `Answer` whose every claim is a
span of an article with its citation. When sources disagree the other answers come back as
alternatives with their own citations; when the best span is not convincing the answer says it
is not in the articles.

Construction is cheap (no model loads); models load on first use, once, and are shared by all
threads (the web UI serves several sessions from one Assistant). Index updates build a new
snapshot and swap it in, so questions keep being answered from the old one meanwhile.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from qa.answer import Answer, Candidate, Citation, RetrievedPassage, Turn
from qa.answer_type import (
    AnswerType,
    QuestionProfile,
    asks_already,
    asks_what_could_be,
    in_dateline,
    names_a_people,
    stem,
    time_frame,
    time_qualifiers,
    word_stems,
)
from qa.answer_type import profile as question_profile
from qa.answerability import Answerability
from qa.candidates import (
    SUBJECT_SIMILARITY_RATIO,
    CandidateBuilder,
    ScoredCandidate,
    figures,
    of_the_year,
    own_clause,
    same_answer,
)
from qa.claims import Claim, attributed_share, find_claim, same_claimant, with_claims
from qa.corpus import UnusableFile, clean_unicode, find_file, paragraph_number, read_file
from qa.embedding import Embedder
from qa.errors import InvalidInput, InvalidQuestion, ModelProblem
from qa.evaluation import normalize_answer
from qa.filters import Filters
from qa.followup import asks_again_of_another, asks_for_source, leans_by_definite_only
from qa.indexer import IndexReport, Progress, open_index, update_index
from qa.reader import Reader, ReaderOutput
from qa.retrieval import Passage, Retriever
from qa.settings import Settings
from qa.stores.generations import IndexSnapshot
from qa.stores.metadata import ArticleInfo

log = logging.getLogger(__name__)

# A figure with a claimant of its own is another source's figure for the answer's count when its
# sentence is at least this close to the question (cosine, as a share of the answer's sentence's):
# nearly as close, since the candidate floor it passes is far under the report floor.
DISPUTE_SIMILARITY_RATIO = 0.9
# A figure the reader scored low (`Assistant._stated_disputes`) must state the question's event, so
# its sentence need only be roughly about the same subject: measured against the answer's, 0.69 to
# 0.88 for the mayor's and the hospital's death tolls beside the ministry's (a new user's floods),
# 0.44 for "six deaths were of children" beside the 39 dead of a building collapse.
STATED_DISPUTE_SIMILARITY_RATIO = 0.6
UPLOAD_SUFFIXES = (".txt", ".md", ".html", ".htm", ".json", ".jsonl")
_UNSET = object()
# Answer types a span is checked against reliably (digits and number words; dates and times).
STRICT_TYPES = (AnswerType.QUANTITY, AnswerType.DATE, AnswerType.DURATION)


class Assistant:
    """Question answering over the articles of ``settings.corpus_dir``."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or Settings()
        s = self.settings
        self.embedder = Embedder.from_settings(s)
        self.retriever = Retriever(self.embedder, top_k=s.top_k, mode=s.retrieval, depth=s.retrieval_depth,
                                   rrf_k=s.rrf_k, lexical_weight=s.lexical_weight)
        self.reader = Reader(
            s.reader_model, max_length=s.reader_max_length, stride=s.reader_stride,
            batch_size=s.reader_batch_size, max_answer_tokens=s.max_answer_tokens,
            precision=s.reader_precision,
        )
        self._snapshot: IndexSnapshot | None = None
        self._answerability: Answerability | None | object = _UNSET
        self._word_vectors: dict[str, object] = {}
        self._lock = threading.RLock()
        if s.threads:
            import torch

            torch.set_num_threads(s.threads)

    # -- models and index -------------------------------------------------------------------

    def warm_up(self) -> None:
        """Load both models now rather than on the first question."""
        self.embedder.warm_up()
        self.reader.warm_up()

    def index(self, progress: Progress | None = None, rebuild: bool = False) -> IndexReport:
        """Bring the index up to date with the corpus folder (incrementally unless ``rebuild``).

        Safe while other processes use the same index: an update in another process is waited
        for (see `qa.indexer.update_index`); questions keep being answered meanwhile.
        """
        with self._lock:
            snapshot, report = update_index(self.settings, self.embedder, progress, rebuild)
            self._snapshot = snapshot
            return report

    def snapshot(self, progress: Progress | None = None) -> IndexSnapshot:
        """The loaded index; opened from disk, or built from the corpus on first use.

        When another process (``qa index``, another chat server) has committed a newer index,
        it is opened instead: one ``stat`` of the manifest per call tells. While this process
        is itself updating the index, calls get the snapshot in hand rather than waiting.
        """
        snap = self._snapshot
        if snap is not None and snap.is_current():
            return snap
        if not self._lock.acquire(blocking=snap is None):
            return snap  # our own update is running; it swaps the new snapshot in when done
        try:
            if self._snapshot is None or not self._snapshot.is_current():
                fresh = open_index(self.settings, self.embedder)
                if fresh is None:
                    log.info(
                        "No index in %s yet: building it from the articles in %s (first use).",
                        self.settings.index_dir, self.settings.corpus_dir,
                    )
                    report = self.index(progress)
                    # A success is news only with -v; files it could not read are worth a warning.
                    log.log(logging.WARNING if report.skipped else logging.INFO, "%s", report.summary())
                else:
                    self._snapshot = fresh
            return self._snapshot
        finally:
            self._lock.release()

    def articles(self) -> list[ArticleInfo]:
        """The indexed articles, by title."""
        return self.snapshot().articles()

    def add_article(self, filename: str, data: bytes) -> IndexReport:
        """Save an uploaded article into the corpus folder and index it.

        The file is parsed before it is saved, so a broken upload never lands in the corpus;
        an existing file of the same name is never overwritten (the upload is saved beside it as
        ``<stem>-2<suffix>``, ...: `IndexReport.saved_as` says where).
        """
        name = Path(filename or "").name
        stem, suffix = Path(upload_name(name)).stem, Path(name).suffix.lower()
        if suffix not in UPLOAD_SUFFIXES:
            raise InvalidInput(
                f"{name or 'The file'}: unsupported type. Upload one of: {', '.join(UPLOAD_SUFFIXES)}."
            )
        limit = self.settings.max_upload_bytes
        if len(data) > limit:
            raise InvalidInput(f"{name}: {len(data) / 2**20:.1f} MiB is over the {limit / 2**20:.0f} MiB limit.")
        with tempfile.TemporaryDirectory() as tmp:
            probe = Path(tmp) / (stem + suffix)
            probe.write_bytes(data)
            try:
                read_file(probe, probe.name, limit)
            except UnusableFile as exc:
                raise InvalidInput(f"{name}: {exc}.") from exc
        with self._lock:
            corpus = Path(self.settings.corpus_dir)
            corpus.mkdir(parents=True, exist_ok=True)
            same = _same_content(corpus, data)
            if same is not None:
                title = next((a.title for a in self._articles_or_none() if a.path == same), None)
                raise InvalidInput(f"{name} was not added: the same file is already in the articles, as "
                                   f"{same}" + (f" ({title!r})." if title else "."))
            target = corpus / (stem + suffix)
            n = 2
            while target.exists():
                target = corpus / f"{stem}-{n}{suffix}"
                n += 1
            target.write_bytes(data)
            # An upload that cannot be indexed must not stay in corpus/: unindexed, it would
            # fail every later index update (and upload) too.
            try:
                report = self.index()
            except Exception as exc:  # noqa: BLE001 - any failure: the upload is refused, named
                target.unlink(missing_ok=True)
                raise InvalidInput(f"{name} was not added: indexing failed ({exc}).") from exc
            reason = next((why for path, why in report.skipped if path == target.name), None)
            if reason is not None:  # read by the probe, yet skipped: the index is without it
                target.unlink(missing_ok=True)
                raise InvalidInput(f"{name} was not added: {reason}.")
            return replace(report, saved_as=target.relative_to(corpus).as_posix())

    def _articles_or_none(self) -> list[ArticleInfo]:
        try:
            return self.articles()
        except Exception:  # noqa: BLE001 - only for naming an article in a message
            return []

    def remove_article(self, article_id: str) -> IndexReport:
        """Take an article out of the index. Its file moves to ``corpus/.removed/`` (kept, not
        deleted, and ignored by indexing) so nothing is lost.

        ``article_id`` may also be the path of a corpus file that indexing skipped (see
        `IndexReport.skipped`), so a file that cannot be indexed can be taken out the same way.
        When the index update fails, the file is put back.
        """
        with self._lock:
            corpus = Path(self.settings.corpus_dir)
            info = next((a for a in self.articles() if a.id == article_id), None)
            if info is not None and info.id != info.path:
                raise InvalidInput(
                    f"{article_id!r} is one record of {info.path}; edit that file to remove it."
                )
            rel = info.path if info is not None else article_id
            source = find_file(corpus, rel)
            if source is None:
                if info is None:
                    raise InvalidInput(f"No indexed article and no corpus file has the id {article_id!r}.")
                raise InvalidInput(f"The file of {article_id!r} is no longer in {corpus}.")
            trash = corpus / ".removed"
            trash.mkdir(exist_ok=True)
            dest = trash / source.name
            if dest.exists():
                dest = trash / f"{time.strftime('%Y%m%d-%H%M%S')}-{source.name}"
            shutil.move(source, dest)
            try:
                return self.index()
            except BaseException:
                shutil.move(dest, source)  # the article is still indexed: keep its file too
                raise

    # -- answering --------------------------------------------------------------------------

    def ask(self, question: str, history: Sequence[Turn] = (), filters: Filters | None = None) -> Answer:
        """Answer ``question`` from the articles, citing where the answer was read.

        ``history`` holds the earlier turns of the conversation: a follow-up ("And when?") is
        resolved against it into a standalone search query (`Answer.query`). ``filters``
        scopes the question to some articles (`qa.filters`): retrieval searches only their
        passages, and `Answer.scope` says so.

        Raises:
            InvalidQuestion: empty, longer than ``settings.max_question_chars``, or longer in
                tokens than the reader's window allows (`qa.reader.Reader.question_budget`); or
                "Who says so?" with no earlier answer in ``history``.
            NoArticles / IndexProblem / ModelProblem: with what to do about it.
        """
        t_load = time.perf_counter()
        question = self._check_question(question)
        # Loading the models and opening the index is "load", never charged to a stage: it
        # happens on the first question (and the index again after an update elsewhere).
        self.warm_up()
        _ = self.answerability
        snapshot = self.snapshot()
        t0 = time.perf_counter()
        if asks_for_source(question):
            if not history:
                # Nothing before it: a search for it finds nothing to say.
                raise InvalidQuestion(f"{question!r} asks who says the previous answer, and this conversation "
                                      "has none yet. Ask a question about the articles first.")
            # "Who says so?": the previous answer's claim says it, no search needed.
            sourced = source_of(question, history[-1].answer)
            if sourced is not None:
                total = (time.perf_counter() - t0) * 1000
                return _replace_timings(sourced, {"load": (t0 - t_load) * 1000, "resolve": total, "retrieve": 0.0,
                                                  "read": 0.0, "compose": 0.0, "claims": 0.0, "total": total})
        query = resolve_query(question, history)
        t1 = time.perf_counter()
        allowed = filters.chunk_ids(snapshot) if filters else None
        passages = self.retriever.retrieve(snapshot, query, allowed=allowed) if allowed is None or len(allowed) else []
        t2 = time.perf_counter()
        # "And her opponent?" asks the last question of someone else: the last answer, read in
        # the same place, is not its answer (the reader, not knowing who her opponent is, gives
        # her own 48,312 again).
        said = (history[-1].answer.citations if history and history[-1].answer.found
                and asks_again_of_another(question, history) else ())
        answer, t3, claims_ms = self._read_and_compose(snapshot, question, query, passages, said)
        if filters:
            answer = replace(answer, scope=filters.describe())
        t4 = time.perf_counter()
        timings = {
            "load": (t0 - t_load) * 1000, "resolve": (t1 - t0) * 1000, "retrieve": (t2 - t1) * 1000,
            "read": (t3 - t2) * 1000, "compose": (t4 - t3) * 1000 - claims_ms, "claims": claims_ms,
            "total": (t4 - t0) * 1000,
        }
        return _replace_timings(answer, timings)

    def answer_from(
        self, question: str, passages: Sequence[Passage], query: str | None = None,
        output: ReaderOutput | None = None,
    ) -> Answer:
        """Answer ``question`` from the given ``passages`` instead of retrieving them: the rest of
        `ask` (read, candidates, decision). For evaluations that control what is read, e.g. with
        the passage that holds the answer left out; ``output`` is the reader's output for these
        passages when the caller already has it (comparing two ways of deciding)."""
        question = self._check_question(question)
        query = query or question
        if output is None:
            answer, _, _ = self._read_and_compose(self.snapshot(), question, query, list(passages))
            return answer
        snapshot = self.snapshot()
        return with_claims(self._compose(snapshot, question, query, list(passages), output), snapshot.article_text)

    def _read_and_compose(
        self, snapshot: IndexSnapshot, question: str, query: str, passages: list[Passage],
        not_again: Sequence[Citation] = (),
    ) -> tuple[Answer, float, float]:
        """The answer, the time reading ended, and the milliseconds the claims took; a candidate
        read where ``not_again`` cites (an earlier answer) is left out."""
        # The reader reads the resolved query: "And how many could eventually be sent?" alone
        # does not say what is sent (measured on the sample article: the right span's confidence
        # 0.33 from the question as typed, 0.39 from the resolved query). A question that leans
        # on the conversation only by a definite description ("Where was the manifesto
        # posted?") says what it asks about itself: the conversation's words appended for
        # retrieval ("Walmart border crossing", the last question's) only pull the reader back
        # to the last answer's sentence, so it is read and judged as typed, in the passages the
        # resolved query found.
        asked = question if query != question and leans_by_definite_only(question) else query
        output = self.reader.read(asked, [p.text for p in passages])
        read_done = time.perf_counter()
        answer = replace(self._compose(snapshot, question, asked, passages, output, not_again), query=query)
        # Once the answer and the other reports are decided: who says each (`qa.claims`).
        t = time.perf_counter()
        answer = with_claims(answer, snapshot.article_text)
        return answer, read_done, (time.perf_counter() - t) * 1000

    def _check_question(self, question: str) -> str:
        """The question, cleaned (see `qa.corpus.clean_unicode`: half an emoji becomes U+FFFD,
        control characters go) and checked; raises `InvalidQuestion` with what to do."""
        if not isinstance(question, str) or not question.strip():
            raise InvalidQuestion("The question is empty. Type a question about the articles.")
        question = " ".join(clean_unicode(question).split())
        if not question:
            raise InvalidQuestion("The question is empty. Type a question about the articles.")
        limit = self.settings.max_question_chars
        if len(question) > limit:  # checked first: tokenizing megabytes is slow
            raise InvalidQuestion(
                f"The question is {len(question)} characters long; the limit is {limit}. "
                "Ask a shorter, single question."
            )
        self.reader.check_question(question)
        return question

    def _compose(
        self, snapshot: IndexSnapshot, question: str, query: str,
        passages: list[Passage], output: ReaderOutput, not_again: Sequence[Citation] = (),
    ) -> Answer:
        """Decide between an answer, a tentative answer and "not in the articles", and pick the
        other reports, from the candidates (`qa.candidates`) and their probabilities
        (`qa.answerability`)."""
        s = self.settings
        builder = self._builder(snapshot)
        profile = question_profile(query)
        # A span that cannot answer the question is not a candidate at all, however sure the
        # reader is: a count of something else ("13,000 containers" for tanks), a figure stated
        # of another event ("1,500 troops have arrived" for troops killed), or not a number or
        # a date where one is asked for.
        candidates = builder.build(profile, passages, output)
        if not_again:
            earlier = [(c.article_id, c.start, c.end) for c in not_again]
            candidates = [c for c in candidates
                          if not any(_overlaps((x.article_id, x.start, x.end), e)
                                     for x in c.candidate.citations for e in earlier)]
        ranked = [c for c in candidates if can_answer(c, profile)]
        could = profile.frame == "prospective" and asks_what_could_be(query)
        if could or (profile.answer_type is AnswerType.QUANTITY and asks_already(question)):
            # A figure of what has happened does not answer what could happen ("At least 19
            # people died" for "How many could eventually die?", the hospital's "could rise to 40"
            # does), nor the other way round when the question insists on what has happened so
            # far ("have already arrived"): as for other reports below.
            unlike = "actual" if could else "prospective"
            ranked = [c for c in ranked if time_frame(self._clause(builder.text, c)) != unlike]
        if not ranked and s.no_answer_threshold is not None and s.no_answer_threshold <= 0:
            ranked = candidates  # "always answer" (--threshold 0): the best guess, whatever it is
        floor, threshold = self.no_answer_threshold, self.confident_threshold
        # An answer from an article that mentions what the question names (its places, people,
        # years) ranks above one from an article that does not, that one being about another
        # event, if it would be shown on its own evidence (the report floor): a span barely over
        # the candidate floor is no better for being in such an article. On RealTimeQA 2020-21
        # (fit split) the candidate floor there put 11 answers before a better-scored span, 3
        # right against 9; the report floor, F1 60.7 -> 61.3 (the Wikinews cases unchanged).
        said = self._said_by(snapshot, profile.attributed, ranked, floor) or self._claimed_by(
            snapshot, profile.source, ranked, floor)
        model = self.answerability
        # (With a threshold set by hand, "always answer" included, still the model's report floor.)
        credible = max(self.report_floor, model.report_floor or 0.0 if model is not None else 0.0)
        when = self._when_it_holds(builder.text, ranked, profile, query, could)
        secondary = self._secondary(builder.text, ranked, profile, floor)
        ranked = answer_order(ranked, said, credible, when, secondary, floor)
        texts: dict[str, str] = {}

        def paragraph(p: Passage) -> int:
            article = p.record.chunk.article_id
            if article not in texts:
                texts[article] = snapshot.article_text(article)
            return paragraph_number(texts[article], p.record.chunk.start)

        retrieved = tuple(
            RetrievedPassage(p.record.chunk.article_id, p.record.title, p.record.chunk.id,
                             p.record.chunk.start, p.record.chunk.end, p.text, p.similarity, paragraph(p))
            for p in passages
        )
        best = ranked[0] if ranked else None
        # Whether the articles hold an answer at all is the verifier's call (qa.answerability),
        # from all the candidates together; a threshold set by hand overrides it.
        answerable = (model.answerable([c.features for c in ranked])
                      if model is not None and s.no_answer_threshold is None else None)
        if answerable is not None and model.verifier and answerable < model.verifier.floor and query != question:
            # A follow-up: the words carried over from earlier turns ("Who was the lone survivor?
            # people board Iranian") are in the earlier answer's sentence, not this one's, and
            # make the articles look as if they did not speak of the question. It is answerable if
            # it is as typed.
            typed = question_profile(question)
            as_typed = [c for c in builder.build(typed, passages, output) if can_answer(c, typed)]
            answerable = max(answerable, model.answerable([c.features for c in as_typed]))
        # Another report must be one qa would show as the answer on its own evidence: the model's
        # report floor (what the candidate floor alone would be: no verifier looks at it). So must
        # an answer from an article that never mentions what the question names: the verifier
        # judged the question, not that other event.
        report_floor = self.report_floor
        if (best is None or best.score < floor
                or (answerable is not None and model.verifier and answerable < model.verifier.floor)
                or (best.names_missing and best.score < report_floor)):
            return Answer(question=question, query=query, answer=None, found=False,
                          score=best.score if best else 0.0, passages=retrieved,
                          best_guess=best.candidate if best else None, answerable=answerable,
                          unmentioned=best.unmentioned if best else ())
        disputes = set()
        stated: list[ScoredCandidate] = []
        if profile.answer_type is AnswerType.QUANTITY:
            answer_claimant = self._claimant(snapshot, best)
            disputes = {id(c) for c in ranked[1:] if self._disputes(snapshot, profile, c, best, answer_claimant, floor)}
            taken = {answer_claimant} | {self._claimant(snapshot, c) for c in ranked[1:] if id(c) in disputes}
            stated = self._stated_disputes(snapshot, builder, profile, passages, output, best, taken)
            disputes |= {id(c) for c in stated}
        others = [c for c in ranked[1:] if id(c) in disputes or self._may_be_other_report(c, best, report_floor)]
        if stated:  # each figure once, with its claimant's statement
            keys = [normalize_answer(c.candidate.answer) for c in stated]
            others = [c for c in others
                      if not any(same_answer(normalize_answer(c.candidate.answer), k) for k in keys)] + stated
        if said:  # "Who said X?": another report is another source of X, not any other name
            others = [c for c in others if id(c) in said]
        # A figure of another year ("Floods in the same valley in 2016 killed seven") is not
        # another source's, unless the question asks of that year; nor is a dateline's place.
        others = [c for c in others
                  if (c.stated_year is None or c.stated_year in profile.key_names) and id(c) not in secondary]
        # About the question's subject: the other report's sentence (with the one before it) is
        # nearly as close to the question as the answer's own.
        others = [c for c in others if id(c) in disputes
                  or c.features.sentence_similarity >= SUBJECT_SIMILARITY_RATIO * best.features.sentence_similarity]
        claimed = list(best.sentences())
        already = profile.answer_type is AnswerType.QUANTITY and asks_already(question)
        alternatives: list[Candidate] = []
        for c in others:
            if len(alternatives) >= s.max_alternatives:
                break
            if profile.frame == "prospective" and self._frame(snapshot, c) == "actual":
                # "could eventually be sent": the 1,500 that "have already arrived" are not the
                # eventual number.
                continue
            if already and self._frame(snapshot, c) == "prospective":
                # The other way round only when the question insists ("have already arrived"):
                # "2,600 is set to arrive" and "could rise to 12,000" are figures still to come,
                # not a source that differs. Without "already" they stay, with their statement.
                continue
            if id(c) not in disputes and any(_overlaps(a, b) for a in c.sentences() for b in claimed):
                # A fragment of a sentence already answered from ("many" in "as many as
                # 13,000"): not another report. A figure its own claimant gives in that sentence
                # is ("61,450 by the stadium operator, though the Coastal Football Association
                # said 58,900").
                continue
            spans = [(x.article_id, x.start, x.end) for x in c.candidate.citations]
            if any(_overlaps(a, (x.article_id, x.start, x.end)) for a in spans for y in alternatives for x in y.citations):
                continue  # "612" inside "612 million crowns", already shown: one report
            alternatives.append(c.candidate)
            claimed.extend(c.sentences())
        return Answer(
            question=question, query=query, answer=best.candidate.answer, found=True, score=best.score,
            citations=best.candidate.citations, alternatives=tuple(alternatives), passages=retrieved,
            best_guess=best.candidate,
            # An answer from an article that does not mention what the question names is at
            # most tentative, however sure the reader is.
            tentative=best.score < threshold or best.names_missing, unmentioned=best.unmentioned,
            answerable=answerable,
        )

    @staticmethod
    def _said_by(snapshot: IndexSnapshot, attributed: Sequence[str], ranked: list[ScoredCandidate],
                 floor: float) -> dict[int, float]:
        """For "Who said X?" (``attributed``: the words of X): id of each candidate above
        ``floor`` that the article names as the source of a sentence stating at least half of X
        -> that share (`qa.claims.attributed_share`). Such a candidate goes first: the reader
        tends to pick the name next to the quote ("Another eyewitness, Nicole Towarek, ...")
        over the one it is attributed to ("Troy Roberts said ... . He said \"Guardrails can only
        take so much.\"")."""
        if not attributed:
            return {}
        stems = {stem(t) for t in attributed}
        said = {}
        for c in ranked:
            if c.score < floor:
                continue
            place = c.candidate.citations[0]
            share = attributed_share(snapshot.article_text(place.article_id), place.start, place.end, stems)
            if share >= 0.5:
                said[id(c)] = share
        return said

    @staticmethod
    def _claimed_by(snapshot: IndexSnapshot, source: Sequence[str], ranked: list[ScoredCandidate],
                    floor: float) -> dict[int, float]:
        """For a figure asked of a source ("How many did the police say marched?", ``source``:
        its words): id of each candidate above ``floor`` that the article attributes to a
        claimant naming at least half of those words -> that share. Such a candidate goes
        first: the reader otherwise picks the article's own "Tens of thousands" over the police
        spokesman's 18,000 (a new user's case)."""
        if not source:
            return {}
        wanted = {stem(t) for t in source}
        claimed = {}
        for c in ranked:
            if c.score < floor:
                continue
            for place in c.candidate.citations:
                claim = find_claim(snapshot.article_text(place.article_id), place.start, place.end)
                if claim.claimant is None:
                    continue
                share = len(wanted & word_stems(claim.claimant.text)) / len(wanted)
                if share >= 0.5:
                    claimed[id(c)] = max(share, claimed.get(id(c), 0.0))
        return claimed

    @staticmethod
    def _may_be_other_report(c: ScoredCandidate, best: ScoredCandidate, floor: float) -> bool:
        """Another report answers the same question: it passes the same floor as an answer, is
        of the question's answer type, and comes from an article that names what the question
        names (if the answer's does). What cannot answer at all is already out; the subject
        check follows."""
        if c.score < floor or c.features.type_miss:
            return False
        return not (c.names_missing and not best.names_missing)

    @staticmethod
    def _disputes(snapshot: IndexSnapshot, profile: QuestionProfile, c: ScoredCandidate, best: ScoredCandidate,
                  answer_claimant: str | None, floor: float) -> bool:
        """Whether figure ``c`` is another source's figure for what the answer counts: the
        candidate floor is enough for it (not the report floor) when it is read in the answer's
        article, its sentence is as close to the question as the answer's
        (`DISPUTE_SIMILARITY_RATIO`) and the article attributes it to a claimant of its own,
        other than the answer's (``answer_claimant``, `_claimant`) ("the mayor ... said that 21 workers
        had died" beside the fire service's 14). Articles that disagree say who says what; a
        figure the article states in its own voice beside the answer is more often of another
        thing (measured on the Wikinews cases: 8 of 74 gained an unrelated other report when
        the claimant was not required)."""
        if c.score < floor or c.features.type_miss or c.names_missing or c.elsewhere:
            return False
        if CandidateBuilder.clause_states_another(profile, c):
            return False  # "12 workers had been killed and 62 injured": the 12 are not the injured
        if figures(c.candidate.answer) != 1:
            return False  # "22 people on Monday, reported officials, with 25": not one figure
        if c.candidate.citations[0].article_id != best.candidate.citations[0].article_id:
            return False  # another article's figure at that floor is as often of another event
        if (c.features.sentence_similarity < DISPUTE_SIMILARITY_RATIO * best.features.sentence_similarity
                and not (c.features.unit_match and best.features.unit_match)):
            # Unless both count what the question counts ("1,250 workers would lose their jobs"
            # beside the union's "1,800 workers", asked about the workers affected): the same
            # count, worded for another framing of it.
            return False
        theirs = Assistant._claimant(snapshot, c)
        return theirs is not None and not same_claimant(theirs, answer_claimant)

    @staticmethod
    def _stated_disputes(
        snapshot: IndexSnapshot, builder: CandidateBuilder, profile: QuestionProfile, passages: Sequence[Passage],
        output: ReaderOutput, best: ScoredCandidate, taken: set[str | None],
    ) -> list[ScoredCandidate]:
        """The figures that other claimants in the answer's article give for the event the
        question counts, however low the reader scored them: "The Interior Ministry put the
        death toll at 27. ... Mayor Elena Dimova said at least 41 residents had died." The
        reader reads one source's figure well and the others at about -6 against 11, so they
        are not among the candidates kept, and `_disputes`' floor would drop them. What stands
        in for the score: the figure's own sentence states the question's news event
        (`CandidateBuilder.states_event`: "died" for "death toll") and is about the question's
        subject (`STATED_DISPUTE_SIMILARITY_RATIO`), it can answer the question (`can_answer`:
        counts nothing else, states no other event), it counts all the people asked about, not a
        group of them or a thing (`CandidateBuilder.counts_the_whole`), and the article attributes it to a
        claimant with no figure shown yet (``taken``: the answer's and the other disputes'
        claimants; "Brandt said the fire service figure did not include seven workers" after
        his 21). Best first, each once."""
        if not profile.event or best.names_missing:
            return []
        article = best.candidate.citations[0].article_id
        spans = [sp for sp in output.spans
                 if passages[sp.context_index].record.chunk.article_id == article and figures(sp.text) == 1]
        if not spans:
            return []
        seen = [normalize_answer(best.candidate.answer)]
        out = []
        for c in builder.build(profile, passages, ReaderOutput(spans, output.null_scores)):
            key = normalize_answer(c.candidate.answer)
            if (any(same_answer(key, k) for k in seen) or c.names_missing or c.elsewhere
                    or c.features.sentence_similarity < STATED_DISPUTE_SIMILARITY_RATIO * best.features.sentence_similarity
                    or not can_answer(c, profile) or not builder.states_event(profile, c)
                    or not builder.counts_the_whole(profile, c)
                    or any(_overlaps(a, b) for a in c.sentences() for b in best.sentences())):
                continue
            theirs = Assistant._claimant(snapshot, c)
            if theirs is not None and not any(same_claimant(theirs, t) for t in taken):
                out.append(c)
                seen.append(key)
                taken = taken | {theirs}
        return out

    @staticmethod
    def _claim(snapshot: IndexSnapshot, c: ScoredCandidate) -> Claim:
        """The claim (`qa.claims.find_claim`) of a candidate where it was read first."""
        place = c.candidate.citations[0]
        return find_claim(snapshot.article_text(place.article_id), place.start, place.end)

    @staticmethod
    def _claimant(snapshot: IndexSnapshot, c: ScoredCandidate) -> str | None:
        """Who the article says states a candidate (lower-cased), or None: its own voice."""
        claimant = Assistant._claim(snapshot, c).claimant
        return claimant.text.lower() if claimant else None

    @staticmethod
    def _when_it_holds(text: Callable[[str], str], ranked: list[ScoredCandidate], profile: QuestionProfile,
                       query: str, could: bool) -> dict[int, int]:
        """For "how many" questions that say when the figure holds: id of each candidate -> 2
        when its clause has the question's word for when (`qa.answer_type.time_qualifiers`:
        "could eventually rise to 12,000" for "How many could eventually be sent?"), 1 when the
        question asks what could happen (``could``) and its clause says it is still to come
        ("the figure could rise to 40"), else 0; empty when the question says nothing of when."""
        qualifiers = time_qualifiers(query) if profile.answer_type is AnswerType.QUANTITY else frozenset()
        if not (qualifiers or could):
            return {}
        when = {}
        for c in ranked:
            clause = Assistant._clause(text, c)
            when[id(c)] = 2 if qualifiers & time_qualifiers(clause) else int(could and time_frame(clause) == "prospective")
        return when

    @staticmethod
    def _secondary(text: Callable[[str], str], ranked: list[ScoredCandidate], profile: QuestionProfile,
                   floor: float) -> set[int]:
        """Ids of the candidates that go after the others of their article that reach ``floor``,
        and are no other report: for a count, a figure whose clause is of another year than its
        article's, unless the question names that year ("the largest since 2018, when a fire
        near Valby ... destroyed 60 homes": the question asks of the article's own event); for
        "where", a wire dateline's place ("KESSARA, July 19 (Wire) —" is where the story was
        filed; "first detected at a market in Oru district" is where it happened). Alone in its
        article, such a candidate is still the best the article gives."""
        if profile.answer_type is AnswerType.QUANTITY:
            weak = {id(c) for c in ranked if c.stated_year is not None and c.stated_year not in profile.key_names
                    and Assistant._of_the_year(text, c)}
        elif profile.answer_type is AnswerType.PLACE:
            weak = {id(c) for c in ranked if Assistant._in_dateline(text, c)}
        else:
            return set()
        plain = {c.candidate.citations[0].article_id for c in ranked if id(c) not in weak and c.score >= floor}
        return {id(c) for c in ranked if id(c) in weak and c.candidate.citations[0].article_id in plain}

    @staticmethod
    def _clause(text: Callable[[str], str], c: ScoredCandidate) -> str:
        """The words of a candidate's own clause where it was read first (`qa.candidates.own_clause`:
        "the total number evacuated so far was 2,340 and that more families were expected to
        leave" is a figure so far; the statement the claim finds runs on to "expected");
        ``text(article_id)`` is an article's text (`CandidateBuilder.text`, read once)."""
        place = c.candidate.citations[0]
        return own_clause(text(place.article_id), place.start, place.end)

    @staticmethod
    def _in_dateline(text: Callable[[str], str], c: ScoredCandidate) -> bool:
        """Whether a candidate is read only in wire datelines (`qa.answer_type.in_dateline`)."""
        return all(in_dateline(text(p.article_id), p.start, p.end) for p in c.candidate.citations)

    @staticmethod
    def _of_the_year(text: Callable[[str], str], c: ScoredCandidate) -> bool:
        """Whether a candidate is stated of its `ScoredCandidate.stated_year` where it was read
        first (`qa.candidates.of_the_year`)."""
        place = c.candidate.citations[0]
        return of_the_year(text(place.article_id), place.start, place.end, c.stated_year)

    @staticmethod
    def _frame(snapshot: IndexSnapshot, c: ScoredCandidate) -> str | None:
        """The `qa.answer_type.time_frame` of the clause stating a candidate (its claim's
        statement)."""
        return time_frame(Assistant._claim(snapshot, c).statement.text)

    def _builder(self, snapshot: IndexSnapshot) -> CandidateBuilder:
        # The reader's calibration is read from its folder when the reader loads: before that it
        # is the default one, and a caller that passes the reader's output from elsewhere
        # (`answer_from`, the benchmarks) got every candidate's reader_confidence from it.
        self.reader.warm_up()
        return CandidateBuilder(self.reader.calibration, self.answerability, snapshot.article_text,
                                self._related_words, self.embedder.encode)

    def candidates(
        self, snapshot: IndexSnapshot, query: str, passages: Sequence[Passage], output: ReaderOutput,
    ) -> list[ScoredCandidate]:
        """The distinct candidate answers read in ``passages``, most probable first (see
        `qa.candidates`); public for fitting and evaluating the answerability model."""
        return self._builder(snapshot).build(question_profile(query), passages, output)

    @property
    def answerability(self) -> Answerability | None:
        """The answerability model stored with the reader, loaded once (None: there is none, or
        `Settings.answerability` is off, and the reader's own confidence decides)."""
        if not self.settings.answerability:
            return None
        if self._answerability is _UNSET:
            self.reader.warm_up()
            folder = Path(self.settings.reader_model)
            try:
                self._answerability = Answerability.load(folder) if folder.is_dir() else None
            except ValueError as exc:
                raise ModelProblem(str(exc)) from exc
        return self._answerability

    def _related_words(self, word: str, others: list[str]) -> float:
        """The highest cosine similarity between ``word`` and ``others`` (embedder vectors,
        cached: the same few nouns recur)."""
        missing = [w for w in (word, *others) if w not in self._word_vectors]
        if missing:
            for w, v in zip(missing, self.embedder.encode(missing)):
                if len(self._word_vectors) > 50_000:
                    self._word_vectors.clear()
                self._word_vectors[w] = v
        target = self._word_vectors[word]
        return max(float(target @ self._word_vectors[w]) for w in others)

    @property
    def report_floor(self) -> float:
        """The confidence another report must reach, and an answer from an article that does
        not mention what the question names: the answerability model's report floor (never under
        the no-answer threshold); a threshold set by hand is both."""
        floor = self.no_answer_threshold
        model = self.answerability
        if self.settings.no_answer_threshold is not None or model is None or model.report_floor is None:
            return floor
        return max(floor, model.report_floor)

    @property
    def no_answer_threshold(self) -> float:
        """Below this confidence the articles "do not say": from the settings if set, else the
        answerability model's floor, else the reader's (`qa.reader.Calibration.answer_floor`)."""
        if self.settings.no_answer_threshold is not None:
            return self.settings.no_answer_threshold
        model = self.answerability
        if model is not None:
            return model.floor
        return self.reader.calibration.answer_floor

    @property
    def confident_threshold(self) -> float:
        """From this confidence up an answer is not tentative: the answerability model's
        threshold, else the reader's (never below the no-answer threshold)."""
        model = self.answerability
        confident = model.threshold if model is not None else self.reader.calibration.threshold
        return max(confident, self.no_answer_threshold)


def answer_order(candidates: Sequence[ScoredCandidate], said: dict[int, float], credible: float,
                 when: dict[int, int] | None = None, secondary: set[int] | frozenset[int] = frozenset(),
                 floor: float = 0.0) -> list[ScoredCandidate]:
    """``candidates`` in the order the answer is chosen from: first those the article attributes
    as the question asks (``said``, keyed by ``id``: for "Who said X?" the share of X the
    article attributes to the candidate; for "How many did the police say ...?" the share of
    the source's words in the candidate's claimant), then by how well they are stated for when
    the question asks (``when``, keyed by ``id``, higher first: "could eventually rise to
    12,000" for "How many could eventually be sent?", before "could soon be deployed" and before
    a count stated without saying), then those of at least ``credible`` probability whose
    article mentions every key name the question gives, then those read beside the year the
    question names where their article is of another year (not ``ScoredCandidate.other_year``:
    "A similar march in March 2019 drew 40,000" for "How many marched in 2019?" in a 2023
    story), then by probability. Last, the candidates of an article that reach ``floor`` and
    are not ``secondary`` (ids, `Assistant._secondary`) move up to just before the first
    ``secondary`` one of the same article: "since 2018, when a fire ... destroyed 60 homes"
    goes after this fire's 27; other articles' candidates keep their places."""
    when = when or {}
    ordered = sorted(candidates, key=lambda c: (id(c) in said, when.get(id(c), 0),
                                                c.score >= credible and not c.names_missing,
                                                c.other_year is None, said.get(id(c), 0.0), c.score), reverse=True)
    for article in dict.fromkeys(c.candidate.citations[0].article_id for c in ordered if id(c) in secondary):
        first = next(i for i, c in enumerate(ordered)
                     if id(c) in secondary and c.candidate.citations[0].article_id == article)
        up = [c for c in ordered[first:] if id(c) not in secondary and c.score >= floor
              and c.candidate.citations[0].article_id == article]
        rest = [c for c in ordered[first:] if all(c is not u for u in up)]
        ordered = ordered[:first] + up + rest
    return ordered


def can_answer(candidate: ScoredCandidate, profile) -> bool:
    """False for a span that cannot answer the question whatever its score: a count of
    something else, a figure stated of another event, not a number or a date where one is
    asked for, a people where a place is ("Russians" for "which nation"), or the beaten side
    for who won (see `Assistant._compose`)."""
    f = candidate.features
    return not (f.unit_miss or candidate.unstated or candidate.defeated
                or (f.type_miss and profile.answer_type in STRICT_TYPES)
                or (profile.answer_type is AnswerType.PLACE and names_a_people(candidate.candidate.answer)))


def source_of(question: str, previous: Answer) -> Answer | None:
    """The answer to "Who says so?" after ``previous``: its claimant (`qa.claims`), cited where
    the article names it, one per claimant (the first is the answer, the others alternatives);
    when the article says it in its own voice, ``previous``'s answer and citations again (their
    claim lines say whose voice); None when ``previous`` was not found (the question is then
    searched as any follow-up)."""
    if not previous.found:
        return None
    claims: list[Citation] = []
    for c in previous.citations:
        who = c.claimant
        inside = who is not None and c.passage_start <= who.start and who.end <= c.passage_start + len(c.passage)
        if inside and all(x.claimant.text.lower() != who.text.lower() for x in claims):
            claims.append(replace(c, start=who.start, end=who.end))
    if not claims:
        if previous.citations and all(c.claimant is None for c in previous.citations):
            # The article says it in its own voice: that is the answer (its claim lines name the
            # publication), not a new search that finds nothing ("Not in the articles").
            return Answer(
                question=question, query=f'Who says "{previous.answer}"?', answer=previous.answer, found=True,
                score=previous.score, citations=previous.citations, passages=previous.passages,
                tentative=previous.tentative, answerable=previous.answerable,
            )
        return None
    first, *rest = claims
    return Answer(
        question=question, query=f'Who says "{previous.answer}"?', answer=first.claimant.text, found=True,
        score=previous.score, citations=(first,),
        alternatives=tuple(Candidate(c.claimant.text, previous.score, (c,)) for c in rest),
        passages=previous.passages, tentative=previous.tentative, answerable=previous.answerable,
    )


def resolve_query(question: str, history: Sequence[Turn]) -> str:
    """The search query for ``question`` in the context of ``history`` (see `qa.followup`)."""
    if not history:
        return question
    try:
        from qa.followup import resolve_query as resolve
    except ImportError:  # pragma: no cover - qa.followup is part of the package
        return question
    return resolve(question, history)


def upload_name(filename: str) -> str:
    """The corpus file name an upload of ``filename`` is saved under, unless taken (then
    ``<stem>-2<suffix>``, ...): "valencia floods.TXT" -> "valencia-floods.txt"."""
    name = Path(filename or "").name
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(name).stem).strip(".-") or "article"
    return stem + Path(name).suffix.lower()


def _same_content(corpus: Path, data: bytes) -> str | None:
    """The corpus file (path relative to ``corpus``) holding exactly ``data``, if one does:
    an upload of it again would list the article twice. Files of another size are not read."""
    for path in sorted(corpus.rglob("*")):
        rel = path.relative_to(corpus)
        if rel.parts[0].startswith(".") or not path.is_file():
            continue  # corpus/.removed/ and hidden files are not articles
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return rel.as_posix()
    return None


def _overlaps(a: tuple[str, int, int], b: tuple[str, int, int]) -> bool:
    return a[0] == b[0] and a[1] < b[2] and b[1] < a[2]


def _replace_timings(answer: Answer, timings: dict[str, float]) -> Answer:
    return replace(answer, timings_ms=timings)

