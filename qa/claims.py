"""Who says it: the claimant and the statement of an answer read in an article.

In the news a figure is a claim: "as many as 1,500 troops have already arrived" is what South
Korea's National Intelligence Service claimed, not what the publication states. For an answer
span this module finds, in the answer's sentence (and, for a hedged sentence with no source of
its own, the sentence before it):

- the **claimant**: the attributed source, as a span of the article ("according to X",
  "X said / claimed / estimated / told / announced ...", "..., X said.", "X's findings that",
  "reported by X", "reports suggest"), or None when the article says it in its own voice;
- the **statement**: the shortest clause around the answer that says what the figure is
  ("as many as 1,500 North Korean troops have already arrived in Russia").

Why rules over a sentence and not a parser or the reader: measured on a hand-annotated set of
167 answer sentences (``benchmarks/claims.py``), these rules find the claimant with precision
0.98 and recall 0.97 (0.96 and 0.98 on the 77 sentences they were not written against) at
~0.2 ms a sentence and no dependency; qa's reader asked "Who said <answer>?" reaches precision
0.43-0.57 at ~30 ms; spaCy's English pipelines are not on the package index (only on GitHub).
The rules only read the answer's sentence and the one before ("He said ..." stands for the
source of the sentence before), so a source named two sentences earlier ("Budanov said ... .
The first batch ... . They will ...") is not followed further.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from qa.answer import Answer, Candidate, Citation, Span
from qa.answer_type import stem
from qa.chunking import sentence_spans


@dataclass(frozen=True)
class Claim:
    """Who says an answer, and what they say about it.

    ``claimant`` is None when the article states the answer in its own voice: the claim is then
    the publication's, ``source`` and ``date`` (either may be None when the article has none).
    """

    claimant: Span | None
    statement: Span
    source: str | None = None
    date: str | None = None


# -- the attribution patterns -----------------------------------------------------------------

# Verbs that attribute what follows (or what precedes, after a quote or in ", X said,") to their
# subject. "believe" and "indicating" are left out: "X stated police believe ..." and "estimates
# indicating that" attribute to the outer source.
_VERBS = (
    r"said|says|say|claimed|claims|claim|estimated|estimates|estimate|told|tells|announced|announces"
    r"|stated|states|reported|reports|reporting|suggested|suggests|suggest|indicated|indicates"
    r"|noted|notes|declared|declares|described|describes|cited|cites|cite|wrote|writes|confirmed"
    r"|confirms|revealed|reveals|warned|warns|insisted|insists|added|adds|alleged|alleges"
    r"|lists|listed|shows|showed|show|predicted|predicts|referred\s+to|read|promised|promises|pledged|pledges|counted"
    r"|puts?\s+(?:the|its|his|her|their)\s+(?:death\s+)?(?:toll|number|figure|count|cost|total|estimate|tally"
    r"|crowd|attendance|turnout|damage|damages|losses|bill)"
    r"(?:\s+of(?:\s+[\w'\u2019-]+){1,3}?)?\s+at"
    r"|(?:gives?|gave)\s+(?:the|its|his|her|their)\s+(?:death\s+)?(?:toll|number|figure|count|cost|total|estimate"
    r"|tally|attendance|turnout|crowd)\s+as"
)
_VERB = re.compile(rf"\b(?:{_VERBS})\b")
# Verbs only attributing when nothing follows them (", the statement read."; ", he added.").
_TRAILING_ONLY = {"read", "added", "adds"}
# "reported by X", "estimates by X", "statement by X", "provided anonymously by X".
_PASSIVE = re.compile(
    r"\b(?:told|reported|noted|estimated|described|provided|cited|announced|confirmed|stated|claimed"
    r"|published|released|issued|statement|statements|estimates?|reports?|poll|assessment)"
    r"(?:\s+\w+ly)?\s+by\s+",
    re.IGNORECASE,  # "Estimates by event organizers indicate ..." opens a sentence
)
_ACCORDING = re.compile(r"\b[Aa]ccording\s+to\s+")
# "the NIS's findings that ...": the possessor is the source.
_POSSESSIVE = re.compile(
    r"['\u2019]s\s+(?:statement|findings|estimate|estimates|figures|data|statistics|report|reports"
    r"|announcement|assessment|count|tally|analysis)\b"
)
# ", saying ...": a participle whose source is the main clause's subject ("The mayor defended
# the spending, saying the $1.5 million was needed").
_PARTICIPLE = re.compile(
    r",\s+(?:(?:saying|adding|claiming|noting|warning|insisting|arguing|stating|explaining|estimating)\b"
    r"(?:\s+that\b)?|telling\s+(?:[\w\u2019'-]+\s+){0,3}?that\b)"
)
# ", reported officials," (the verb before its subject).
_INVERTED = re.compile(r",[\"\u201d]?\s+(?:said|says|reported|added|wrote)\s+(?!\d)((?:[\w\u2019'.-]+\s+){0,2}[\w\u2019'.-]+)(?=[,.;])")

_PERSONAL = {"he", "she", "they"}
_PRONOUNS = {"he", "she", "it", "they", "we", "i", "you", "who", "which", "that", "this", "these",
             "those", "there", "some", "many", "most", "all", "one", "what"}
_LEADING = re.compile(
    r"^(?:(?:and|but|while|whereas|as|so|although|though|what|then|also|now|yesterday|today"
    r"|(?:on|last|this|early|late|earlier|later)\s+(?:\w+day|week|month|year|morning|evening|night))\b[\s,]*)+",
    re.IGNORECASE,
)
_TRAILING = re.compile(
    r"(?:\s+(?:has|have|had|also|further|subsequently|formally|earlier|later|then|yesterday|today"
    r"|now|reportedly|previously|officially|publicly|all|both|on\s+\w+day|last\s+\w+|this\s+\w+))+$",
    re.IGNORECASE,
)
# A subject is cut where a clause starts: punctuation, quotes, or a conjunction after a verb.
# A dash between spaces ends a wire dateline ("PORT ALDER (Wire) \u2014 Police said"): the subject
# starts after it.
_SUBJECT_BREAK = re.compile(r"[,;\"\u201c\u201d]|(?<!\d):(?!\d)|\s(?:that|who|which|when|where|because|if)\s"
                            r"|\s[\u2014\u2013-]\s")
_AGENT_END = re.compile(
    r"[,;.\"\u201c\u201d]|(?<!\d):(?!\d)|\s(?:of|to|as|ranging|was|were|is|are|in|on|at|that|who|which|for|from|with|last"
    r"|indicate|indicates|indicated|show|shows|showed|suggest|suggests|suggested|put|puts|say|says|said)\s"
)
_ACCORDING_END = re.compile(r"[,;]|(?<!\d):(?!\d)|\.(?:\s|$)|\s(?:who|that|which)\s")
_FINITE = re.compile(r"\b(?:is|are|was|were|has|have|had|be|been|will|would|did|does|do|\w+ed)\b")
_CLAUSE_BREAK = re.compile(r",\s|;|(?<!\d):(?!\d)|\s(?:and|but)\s(?=(?:said|says|added|told|claimed|warned)\b)|[\"\u201c\u201d]|\s\u2014\s|\s-\s")
_HEDGE = re.compile(r"\b(?:reportedly|is set to|are set to|expected|will|would|could|may|might|likely)\b")
_MAX_SUBJECT_WORDS = 14
_THAT = re.compile(
    rf"\b(?:{_VERBS}|indicating|showing|findings|believe|believes)\b(?:\s+[\w\u2019'-]+){{0,3}}?\s+that\s+"
)


@dataclass(frozen=True)
class _Attribution:
    claimant: Span
    trigger: tuple[int, int]  # the words that attribute ("said", "according to"), article offsets
    scope: str  # "after" the trigger, "before" it, or "all" of the sentence


def find_claim(text: str, start: int, end: int, source: str | None = None, date: str | None = None) -> Claim:
    """The claim of the answer ``text[start:end]`` (offsets into the whole article ``text``).

    Returns a `Claim` whose spans index ``text``; ``source``/``date`` are the publication's and
    are kept only when the claimant is None (the article's own voice).
    """
    sentence, previous = _sentences_around(text, start, end)
    attributions = _attributions(text, sentence, previous)
    chosen = _choose(attributions, start, end)
    claimant = chosen.claimant if chosen else None
    # An answer that is itself the source ("Who said ...?" -> "Troy Roberts said ...") is what
    # the article says in its own voice: no claimant, and none carried from the sentence before.
    if (claimant is None and not _in_a_source(attributions, start) and previous is not None
            and _HEDGE.search(text, sentence[0], sentence[1])):
        # "Budanov said that these forces are expected ... . The first batch of 2,600 is set to
        # arrive ...": a hedged sentence with no source of its own continues the one before.
        carried = [a for a in _attributions(text, previous) if a.scope in ("after", "all", "before")]
        if carried:
            claimant = carried[-1].claimant
    statement = _statement(text, sentence, start, end, chosen)
    if claimant is not None:
        return Claim(claimant, statement)
    return Claim(None, statement, source, date)


def with_claims(answer: Answer, article_text: Callable[[str], str]) -> Answer:
    """``answer`` with the claim of every citation (of the answer, each alternative and the best
    guess) filled in; ``article_text(article_id)`` gives an article's whole text."""
    texts: dict[str, str] = {}

    def claimed(citations: tuple[Citation, ...]) -> tuple[Citation, ...]:
        out = []
        for c in citations:
            if c.article_id not in texts:
                texts[c.article_id] = article_text(c.article_id)
            claim = find_claim(texts[c.article_id], c.start, c.end)
            out.append(replace(c, claimant=claim.claimant, statement=claim.statement))
        return tuple(out)

    def candidate(c: Candidate | None) -> Candidate | None:
        return None if c is None else replace(c, citations=claimed(c.citations))

    return replace(
        answer, citations=claimed(answer.citations),
        alternatives=tuple(candidate(a) for a in answer.alternatives),
        best_guess=candidate(answer.best_guess),
    )


_DETERMINERS = frozenset({"the", "a", "an", "its", "their", "his", "her"})


def same_claimant(a: str | None, b: str | None) -> bool:
    """Whether two claimants' words name one source: the same last word, and the words of one
    among the other's ("The ministry" and "the health ministry"); None (the article's own
    voice) is only itself."""
    if a is None or b is None:
        return a is b
    wa, wb = ([w for w in re.findall(r"[\w'\u2019-]+", x.lower()) if w not in _DETERMINERS] for x in (a, b))
    return bool(wa and wb) and wa[-1] == wb[-1] and (set(wa) <= set(wb) or set(wb) <= set(wa))


def claimant_text(c: Citation) -> str:
    """Who claims a citation's answer, in words: the claimant, else the publication."""
    if c.claimant is not None:
        return " ".join(c.claimant.text.split())
    return f"{' '.join(c.source.split())} (in its own voice)" if c.source else "the article, in its own voice"


def statement_text(c: Citation, mark: tuple[str, str] = ("[", "]")) -> str | None:
    """The citation's statement on one line with the answer between ``mark``; None if none."""
    st = c.statement
    if st is None or not (st.start <= c.start and c.end <= st.end):
        return None
    a, b = c.start - st.start, c.end - st.start
    return " ".join(f"{st.text[:a]}{mark[0]}{st.text[a:b]}{mark[1]}{st.text[b:]}".split())


def find_claimant(text: str, start: int, end: int) -> Span | None:
    """Just the claimant of ``text[start:end]`` (see `find_claim`)."""
    return find_claim(text, start, end).claimant


def _in_a_source(attributions: list[_Attribution], start: int) -> bool:
    return any(a.claimant.start <= start < a.claimant.end for a in attributions)


_WORD = re.compile(r"[\w'\u2019]+")


def attributed_share(text: str, start: int, end: int, stems: set[str]) -> float:
    """How much of a statement the article attributes to ``text[start:end]``: the largest share
    of ``stems`` (see `qa.answer_type.stem`) found in a sentence whose claimant (`find_claim`)
    is that span, its own sentence or the next one (a source's next sentence often goes on
    "He said ..."). 0.0 when the span is the claimant of neither, or ``stems`` is empty.

    For "Who said X?" questions: the reader often picks the name beside the quote rather than
    the one the quote is attributed to.
    """
    if not stems:
        return 0.0
    lo = max(0, start - 1500)
    spans = [(lo + a, lo + b) for a, b in sentence_spans(text[lo : min(len(text), end + 1500)])]
    k = next((i for i, (a, b) in enumerate(spans) if a <= start < b), None)
    if k is None:
        return 0.0
    best = 0.0
    # A figure of the statement must be there: "Who put the death toll at 27?" is not asked of
    # the union that "put the death toll at 19".
    numbers = {w for w in stems if w[:1].isdigit()}
    for a, b in spans[k : k + 2]:
        hits = [(m, w) for m in _WORD.finditer(text, a, b) if (w := stem(m.group().replace("\u2019", "'"))) in stems]
        share = len({w for _, w in hits}) / len(stems)
        if not hits or share <= best or not numbers <= {w for _, w in hits}:
            continue
        # Whose statement it is: where the statement's figure is when it gives one ("Northline
        # estimated the clean-up would cost 9 million dollars; the state agency said it could
        # cost as much as 25 million" gives the 25 to the agency, though "clean-up" is in the
        # company's clause).
        anchors = [m for m, w in hits if w in numbers] or [m for m, _ in hits]
        claimant = find_claim(text, anchors[0].start(), anchors[-1].end()).claimant
        # The span must be the claimant, not a stretch of text that holds it ("Northline
        # estimated ... 9 million dollars; the state environmental agency").
        if claimant is not None and min(end, claimant.end) - max(start, claimant.start) >= (end - start) / 2:
            best = share
    return best


def _sentences_around(text: str, start: int, end: int) -> tuple[tuple[int, int], tuple[int, int] | None]:
    """The sentence holding the answer and the one before it in the same paragraph (or None)."""
    lo = max(0, start - 1500)
    spans = [(lo + s, lo + e) for s, e in sentence_spans(text[lo : min(len(text), end + 1000)])]
    k = next((i for i, (s, e) in enumerate(spans) if s <= start < e), None)
    if k is None:  # the answer starts in white space: its own span is the sentence
        return (start, end), None
    sentence = (spans[k][0], max(spans[k][1], end))
    previous = None
    if k > 1 or (k == 1 and lo == 0):  # (the window's first span may be a cut sentence)
        gap = text[spans[k - 1][1] : sentence[0]]
        previous = spans[k - 1] if gap.count("\n") < 2 else None  # not across a paragraph break
    return sentence, previous


def _attributions(text: str, sentence: tuple[int, int], previous: tuple[int, int] | None = None) -> list[_Attribution]:
    """Every attributed source in ``sentence``, in order; pronoun subjects ("it lists", "who
    reported") stand for the source named before them in the sentence or, for "he", "she" and
    "they" with none there, for the last source of the ``previous`` sentence ("..., fire chief
    Miriam Okafor told reporters. She said that 62 firefighters ..."); otherwise they are
    dropped."""
    s0, s1 = sentence
    found: list[_Attribution] = []
    for m in _ACCORDING.finditer(text, s0, s1):
        cut = _ACCORDING_END.search(text, m.end(), s1)
        claimant = _span(text, m.end(), cut.start() if cut else s1)
        if claimant is None:
            continue
        at_start = not text[s0 : m.start()].strip(" \"'\u201c")
        enclosed = text[s0 : m.start()].rstrip().endswith(",") and cut is not None and text[cut.start()] == ","
        scope = "all" if at_start or enclosed else "before"
        found.append(_Attribution(claimant, (m.start(), claimant.end), scope))
    for m in _PASSIVE.finditer(text, s0, s1):
        cut = _AGENT_END.search(text, m.end(), s1)
        claimant = _span(text, m.end(), cut.start() if cut else s1)
        if claimant is not None:
            found.append(_Attribution(claimant, (m.start(), claimant.end), "after"))
    for m in _POSSESSIVE.finditer(text, s0, s1):
        name = re.search(r"(?:\b[Tt]he\s+)?(?:[A-Z][\w.&-]*\s+)*[A-Z][\w.&-]*$", text[s0 : m.start()])
        claimant = _span(text, s0 + name.start(), m.start()) if name else None
        if claimant is not None:
            found.append(_Attribution(claimant, (claimant.start, m.end()), "after"))
    for m in _INVERTED.finditer(text, s0, s1):
        claimant = _span(text, m.start(1), m.end(1))
        # (", said about 1,200 tonnes": a figure, not a source after its verb)
        if claimant is not None and claimant.text.lower() not in _PRONOUNS and not re.search(r"\d", claimant.text):
            found.append(_Attribution(claimant, (m.start(), m.end()), "all"))
    for m in _PARTICIPLE.finditer(text, s0, s1):
        # The main clause's verb: the first finite one, or the first attributing one ("The
        # governor said 14 died, adding that ...": not "died", which would make "The governor
        # said 14" the subject).
        verbs = [v for v in (_FINITE.search(text, s0, m.start()), _VERB.search(text, s0, m.start())) if v]
        verb = min(verbs, key=lambda v: v.start()) if verbs else None
        claimant = _subject(text, s0, verb.start()) if verb else None
        if claimant is not None and claimant.text.lower() not in _PRONOUNS:
            found.append(_Attribution(claimant, (m.start() + 1, m.end()), "after"))
    for m in _VERB.finditer(text, s0, s1):
        if any(a.trigger[0] <= m.start() < a.trigger[1] or a.claimant.start <= m.start() < a.claimant.end
               for a in found):
            continue  # part of an "according to" / "reported by" / possessive already found
        if text[m.start() - 1 : m.start()] == "-" or text[m.end() : m.end() + 1] == "-":
            continue  # "self-reported", "said-to-be"
        follows = text[m.end() : s1]
        # ", officials said." and ", officials said on Sunday.": the sentence ends with the source.
        ends = re.match(r"\s*(?:(?:on|last|this|early|late|earlier|later)\s+\w+\s*|yesterday\s*|today\s*)?"
                        r"(?:[.;!?\u201d\"]|$)", follows)
        if ends and re.match(r"\s*[\"\u201c]\w", follows):
            ends = None  # 'He said "Guardrails can only take so much."': a quote opens, the statement follows
        if (m.group() in _TRAILING_ONLY and not ends and not follows.lstrip().startswith(",")
                and not (m.group() != "read" and re.match(r"\s+that\b", follows))):  # "X added that ..."
            continue
        before = text[s0 : m.start()]
        if re.search(r"\b(?:the|a|an|its|their|his|her)\s+$", before, re.IGNORECASE):
            continue  # a noun or an adjective: "the reports", "the confirmed death toll"
        if _TRAILING.sub("", before.rstrip()).endswith(",") and re.match(r"\s+(?:to|at)\b", follows):
            continue  # a participle: "the deliveries, estimated to include ..."
        if re.search(r"\b(?:was|were|is|are|been|be)\s+(?:\w+ly\s+)?$", before):
            continue  # passive without an agent ("33 were reported hospitalised"): no source named
        claimant = _subject(text, s0, m.start())
        if re.search(r"\s(?:and|but)\s*$", before):
            # "Reese declared an emergency for two counties and said ...": the second verb of
            # the main clause; its subject is the first verb's.
            first = min((x.start() for pattern in (_FINITE, _VERB) for x in pattern.finditer(text, s0, m.start())),
                        default=None)
            claimant = _subject(text, s0, first) if first is not None and first < m.start() else None
        if claimant is None or re.search(r"\s(?:what|how\s+much|how\s+many)\s", claimant.text, re.IGNORECASE):
            # "612 million crowns, almost twice what the city council has told residents, the
            # audit office said": "what ... told" is a thing said, not the sentence's source.
            continue
        if claimant.text.lower() in _PRONOUNS:
            earlier = [a for a in found if a.claimant.end <= claimant.start]
            if not earlier and previous is not None and claimant.text.lower() in _PERSONAL:
                earlier = _attributions(text, previous)
            if not earlier:
                continue
            claimant = earlier[-1].claimant
        told_object = re.match(r"\s+(?:[\w\u2019'.-]+\s+){0,5}[\w\u2019'.-]+\s*(?=[,.;]|$)", follows) \
            if m.group() == "told" else None
        # (", the health ministry said on Friday, but ...": the time it was said may come first)
        comma_after = (re.match(r"\s*(?:(?:on|last|this|early|late|earlier|later)\s+\w+\s*|yesterday\s*|today\s*)?,", follows)
                       and not re.match(r"\s*,\s*[\"\u201c]", follows))
        comma_before = text[s0 : claimant.start].rstrip().endswith((",", "\u201d", '"'))
        if ends or (told_object and re.match(r"\s*[.;]|\s*$", follows[told_object.end():])):
            scope = "before"
        elif comma_before and _trailing_circumstances(follows):
            scope = "before"  # ", X told reporters at a briefing on Wednesday morning."
        elif (comma_after or told_object) and comma_before:
            scope = "all"  # ", officials said," / ", officials told state media,"
        else:
            scope = "after"
        # "put the death toll at 11": the statement keeps "the death toll at"
        verb_end = m.start() + len(m.group().split()[0]) if m.group().lower().startswith(("put", "gave", "give")) else m.end()
        found.append(_Attribution(claimant, (m.start(), verb_end), scope))
    return sorted(found, key=lambda a: a.trigger[0])


# What may follow a trailing source's verb up to the sentence's end: whom they told, then where,
# when or how ("told reporters at a briefing on Wednesday morning", "said in a statement").
_CIRCUMSTANCES = re.compile(
    r"\s*(?:(?:reporters|journalists|the\s+[\w-]+(?:\s+[\w-]+)?|(?:[A-Z][\w.&-]*\s+)*[A-Z][\w.&-]*)\s+)?"
    r"((?:at|on|in|during|after|via|through|over)\s[^,;:\"\u201c\u201d]{1,60}?)\s*(?:[.;!?]\s*)?$"
)


_PUBLISHED = re.compile(r"\b(?:published|released|issued|posted|broadcast|aired)\b")


def _trailing_circumstances(follows: str) -> bool:
    """Whether ``follows`` (after a verb, to the sentence's end) only says to whom, where, when
    or how something was said: no clause of its own."""
    m = _CIRCUMSTANCES.match(follows)
    # "in a report published on Tuesday": a participle of the circumstances, not a clause
    said = _PUBLISHED.sub(" ", m.group(1)) if m else ""
    return bool(m) and not _FINITE.search(said) and not re.search(r"\bthat\b", said)


def _choose(attributions: list[_Attribution], start: int, end: int) -> _Attribution | None:
    """The attribution whose scope holds the answer, nearest to it."""
    best: tuple[int, _Attribution] | None = None
    for a in attributions:
        t0, t1 = a.trigger
        if a.claimant.start <= start < a.claimant.end:
            continue  # the answer is in the source's own name
        if a.scope == "after" and t1 <= start:
            distance = start - t1
        elif a.scope == "before" and t0 >= end:
            distance = t0 - end
        elif a.scope == "all":
            distance = start - t1 if t1 <= start else t0 - end
        else:
            continue
        if best is None or distance < best[0]:
            best = (max(distance, 0), a)
    return best[1] if best else None


# ", however," before the verb: a discourse aside, not part of the source's name ("The union
# Unite Metal, however, said ...").
_ASIDE = re.compile(
    r",\s*(?:however|meanwhile|though|too|also|in\s+turn|instead|nonetheless|by\s+contrast"
    r"|for\s+(?:its|his|her|their)\s+part)\s*,?$",
    re.IGNORECASE,
)


def _subject(text: str, lo: int, verb: int) -> Span | None:
    """The noun phrase before a reporting verb at ``verb``: back to the clause's start, past an
    apposition (", Kyrylo Budanov, claimed" -> "Kyrylo Budanov"), leading time words and
    conjunctions dropped."""
    head = _TRAILING.sub("", _ASIDE.sub("", text[lo:verb].rstrip()))
    stop = lo + len(head)
    relative = re.search(r"\b(?:who|which)$", head)
    if relative:  # "CNN who reported": the caller resolves it to the source named before
        return Span(relative.group(), lo + relative.start(), stop)
    breaks = [m for m in _SUBJECT_BREAK.finditer(text, lo, stop)]
    begin = breaks[-1].end() if breaks else lo
    if not text[begin:stop].strip() and breaks:
        # ", Kyrylo Budanov, claimed": the subject is the apposition before the comma
        stop = breaks[-1].start()
        earlier = [m for m in breaks if m.end() <= stop]
        begin = earlier[-1].end() if earlier else lo
        piece = text[begin:stop].strip()
        if earlier and earlier[-1].group().strip() in ("who", "which"):
            # "The United States, which has retreated ..., has stated": the antecedent
            stop = earlier[-1].start()
            before = [m for m in earlier if m.end() <= stop]
            begin = before[-1].end() if before else lo
            if before and not text[begin:stop].strip():
                stop = before[-1].start()
                before = [m for m in before if m.end() <= stop]
                begin = before[-1].end() if before else lo
        elif re.match(r"[a-z]+ing\b", piece) and earlier:
            # "Governor Martin Reese, speaking later in the day, put ...": the name, not the aside
            stop = earlier[-1].start()
            before = [m for m in earlier if m.end() <= stop]
            begin = before[-1].end() if before else lo
        elif piece[:1].islower() and not piece.lower().startswith(("who ", "which ")) and earlier:
            # "Valeriy Ryabykh, editor of ..., said": keep the name with its description
            before = [m for m in earlier if m.end() <= earlier[-1].start()]
            name_begin = before[-1].end() if before else lo
            if text[name_begin : earlier[-1].start()].strip()[:1].isupper():
                begin = name_begin
    segment = text[begin:stop]
    # "85% were in favour and on Friday the government": the subject starts after a conjunction
    # that follows a verb; "police and county officials" keeps its "and".
    for m in reversed(list(re.finditer(r"\s(?:and|but)\s", segment))):
        if _FINITE.search(segment[: m.start()]):
            begin += m.end()
            segment = segment[m.end():]
            break
    lead = _LEADING.match(segment.lstrip())
    skip = len(segment) - len(segment.lstrip()) + (lead.end() if lead else 0)
    span = _span(text, begin + skip, stop)
    if span is None or len(span.text.split()) > _MAX_SUBJECT_WORDS:
        return None
    words = span.text.split()
    if len(words) == 1 and words[0].lower() in _PRONOUNS - {"he", "she", "it", "they", "we", "i", "who", "which"}:
        return None
    if re.search(r"\b(?:has|have|had|is|are|was|were|will|would)\b", span.text) or \
            re.match(r"[a-z]+ed\b", span.text):
        return None  # a clause, not a noun phrase ("had earlier shared intelligence")
    if re.search(r"\d", words[-1]) and not re.search(r"[A-Za-z]", span.text):
        return None
    return span


def _span(text: str, start: int, end: int) -> Span | None:
    """``text[start:end]`` trimmed of white space and edge punctuation, or None if empty."""
    piece = text[start:end]
    left = len(piece) - len(piece.lstrip(" \t\n,;:\"'\u201c\u201d"))
    right = len(piece.rstrip(" \t\n,;:\"'\u201c\u201d"))
    if right <= left or not re.search(r"\w", piece[left:right]):
        return None
    return Span(piece[left:right], start + left, start + right)


def _statement(text: str, sentence: tuple[int, int], start: int, end: int,
               attribution: _Attribution | None) -> Span:
    """The clause around the answer: from the last clause break (or the claimant's attribution,
    or the "that" after a reporting word) before it to the next break (or the attribution)
    after it, within the sentence. Quotes right around the answer do not break it."""
    s0, s1 = sentence
    lo, hi = s0, s1
    for m in _CLAUSE_BREAK.finditer(text, s0, s1):
        if m.group() in "\"\u201c\u201d" and (m.end() == start or m.start() == end):
            continue  # utilizing "all available means": the quoted words are the answer
        if m.end() <= start:
            lo = max(lo, m.end())
        elif m.start() >= end:
            hi = min(hi, m.start())
            break
    if attribution is not None:
        a = attribution
        t0, t1 = min(a.trigger[0], a.claimant.start), max(a.trigger[1], a.claimant.end)
        if t1 <= start:
            lo = max(lo, t1)
        elif t0 >= end:
            hi = min(hi, t0)
    for m in _THAT.finditer(text, s0, start):
        if m.end() > lo:
            lo = m.end()  # "claimed on Thursday that nearly 11,000 ...": what is claimed
    hi = lo + len(text[lo:hi].rstrip(" .!?;,\"\u201c\u201d"))
    span = _span(text, lo, hi)
    if span is None or not (span.start <= start and end <= span.end):
        return Span(text[start:end], start, end)
    return span
