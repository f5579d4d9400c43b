"""Answer types: what kind of span a question asks for, and whether a span is of that kind.

"How many ..." wants a quantity, "when ..." a date or time, "who ..." a person or organisation,
"where ..." a place. The classic open-domain QA systems check this (the expected answer type of
Harabagiu et al., "FALCON", TREC 2000; the question classes of Li & Roth, "Learning Question
Classifiers", COLING 2002). qa uses it twice: as evidence that a candidate answers the question
(`qa.answerability`), and to keep "other reports" to spans of the question's type, so a count of
containers is never listed beside counts of troops.

Plain patterns, no model: question words are a closed class in English, and the span checks
(digits and number words; months, weekdays and years; capitalised names) are what a named-entity
tagger would decide for the short spans a reader returns.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class AnswerType(StrEnum):
    QUANTITY = "quantity"  # how many / how much / what percentage / how old / how long
    DATE = "date"  # when / what year / what day / what time
    DURATION = "duration"  # what was X's (winning, finishing) time: hours, minutes, seconds
    PERSON = "person"  # who / whom / whose (a person or an organisation: a name)
    PLACE = "place"  # where / what country / which city
    OTHER = "other"  # what / which / why / how: no type check


STOPWORDS = frozenset("""
a an the of in on at to for from by with about as into over after before between under during
and or but nor so yet if than then that this these those there here it its is are was were be
been being am do does did done have has had having will would shall should can could may might
must not no yes what which who whom whose when where why how i you he she we they me him her us
them my your his our their mine yours hers ours theirs also just only very more most many much
such some any each every all both either neither other another own same up down out off again
further once s t said says say according
""".split())

_NUMBER_WORDS = (
    "zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    "fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|"
    "ninety|hundred|hundreds|thousand|thousands|million|millions|billion|billions|trillion|dozen|"
    "dozens|half|third|quarter|percent|per cent|score"
)
# Number words as digits ("nine" -> "9", "forty" -> "40").
SMALL_NUMBERS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split())} | {w: str(10 * i) for i, w in enumerate(
        "twenty thirty forty fifty sixty seventy eighty ninety".split(), 2)}
_QUANTITY_SPAN = re.compile(rf"\d|%|\b(?:{_NUMBER_WORDS})\b", re.IGNORECASE)
# "70th" ranks, it does not count: "Her Platinum Jubilee, marking how many years on the throne?"
# is not answered by "70th" (anniversary) but by "70" (years).
_ORDINAL = re.compile(r"\b\d[\d,]*(?:st|nd|rd|th)\b", re.IGNORECASE)
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
# A day of a month ("February 1", "22 May 2019") is a date, not a count: the dateline's "BRUSSELS,
# February 1" does not answer "How many people drove tractors into Brussels?". Capitalised only
# ("may 5" is a verb and a number).
_MONTH_NAME = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
               r"|Sept?(?:ember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_CALENDAR_DAY = re.compile(rf"\b{_MONTH_NAME}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}})?"
                           rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH_NAME}(?:,?\s+\d{{4}})?")
_DATE_SPAN = re.compile(
    rf"\b(?:{_MONTHS}|{_DAYS})\b|\b(?:1[5-9]|20)\d\d(?:s)?\b|\b\d{{1,2}}[:.]\d\d\b|\b[ap]\.?m\b|"
    r"\b(?:yesterday|today|tonight|tomorrow|morning|afternoon|evening|night|noon|midnight|week|weekend|"
    r"month|year|decade|century|spring|summer|autumn|fall|winter|christmas|easter|ago|later|earlier|"
    r"since|until|days?|hours?|minutes?|weeks?|months?|years?)\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"\b[A-Z][\w'\u2019.-]*")
# A people or an adjective of a place ("Russians", "Kansans", "European", "Chinese", "British"),
# not the place: "Which nation ...?" is answered by "Russia", and the article that says
# "Russians" names Russia too, most often. Suffixes only, no gazetteer; a plain "-an" is left
# alone (Japan, Iran, Sudan, Michigan) and so is "-i" (Mali, Delhi).
_DEMONYM = re.compile(r"^[A-Z][a-z]+(?:ians?|eans?|ans|ese|ish)$")
_DEMONYM_PLACES = frozenset({"Orleans", "Caribbean", "Mediterranean", "Aegean"})
# Who-questions in news are often answered by a description, not a name: "an eleven-month-old
# boy" was rescued, "a child" survived. Nouns that name a person by age, kin, sex or role in an
# event (a closed list, as the news-event table is: a word list from a lexicon would also take
# "head" and "chair").
_PERSON_NOUN = re.compile(
    r"\b(?:child|children|boy|boys|girl|girls|baby|babies|infant|toddler|teenager|teenagers|teen|"
    r"man|men|woman|women|person|people|mother|father|son|daughter|brother|sister|husband|wife|"
    r"survivor|survivors|victim|victims|resident|residents|passenger|passengers|pilot|driver|"
    r"gunman|suspect|student|students|worker|workers|firefighter|firefighters|rescuer|rescuers|"
    r"officer|officers|soldier|soldiers|doctor|doctors|nurse|nurses|official|officials|"
    r"police|spokesman|spokeswoman|spokesperson|minister|president|mayor|governor|"
    # who may be an organisation: "the state environmental agency said it could cost ..."
    r"agency|ministry|department|office|company|firm|union|council|government|authorities|commission|"
    r"committee|regulator|operator|prosecutors|hospital|army|military|party|federation|association)\b",
    re.IGNORECASE)
# Kinds of people a question counts that news often counts as "people" ("23 people were
# arrested" for "How many fans were arrested?").
_PEOPLE_KINDS = frozenset("""
fan fans supporter supporters spectator spectators protester protesters protestor protestors demonstrator
demonstrators migrant migrants refugee refugees civilian civilians employee employees staff voter voters
player players athlete athletes runner runners pilgrim pilgrims tourist tourists visitor visitors patient
patients inmate inmates prisoner prisoners hostage hostages detainee detainees troop troops member members
citizen citizens journalist journalists miner miners crew guest guests shopper shoppers customer customers
worshipper worshippers casualties
""".split())


def names_people(noun: str) -> bool:
    """Whether a counted noun is a kind of people ("fans", "workers", "passengers")."""
    return noun.lower() in _PEOPLE_KINDS or bool(_PERSON_NOUN.fullmatch(noun))


_DATELINE_WORD = re.compile(rf"(?:{_MONTHS}|{_DAYS}|\d{{1,4}}(?:st|nd|rd|th)?)", re.IGNORECASE)


# A wire dateline opening an article's first paragraph: "KOLMAR, November 18, 2021 (Wire) \u2014",
# "TARNOVA, Bulgaria, October 14 (Trial Newswire) -", "PORT ALDER (Wire) \u2014".
_DATELINE_PREFIX = re.compile(
    r"^[A-Z][A-Z .'\u2019-]{1,40}(?:,[^()\n\u2014\u2013]{1,60}?)?\s*\([^()\n]{1,40}\)\s*[\u2014\u2013-]\s", re.MULTILINE)


def in_dateline(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` starts in a wire dateline at a line's start (where and when
    the story was filed, not when its events happened)."""
    line = text.rfind("\n", 0, start) + 1
    m = _DATELINE_PREFIX.match(text, line)
    return bool(m) and start < m.end()


def is_dateline(sentence: str) -> bool:
    """Whether ``sentence`` is only a date, as an article's dateline ("Tuesday, March 5, 2019"):
    the day the article was written, not a date it reports."""
    words = re.findall(r"\w+", sentence)
    return bool(words) and all(_DATELINE_WORD.fullmatch(w) for w in words)

_QUANTITY_Q = re.compile(
    r"\bhow (?:many|much|old|long|far|big|large|high|tall|deep|heavy|fast|often)\b|"
    r"\b(?:what|which) (?:number|percentage|percent|share|proportion|amount|sum|figure|total|price|"
    r"cost|age|rate|score|distance|speed|temperature)\b|\bwhat (?:was|is|were|are) the (?:number|"
    r"percentage|amount|total|death toll|toll|price|cost|age|rate|score|attendance|turnout|crowd|population)\b"
    r"|\bhow much\b|\bdeath toll\b",
    re.IGNORECASE,
)
# "What was Kipchoge's time in Vienna?", "What was his winning time?": a race time, not a clock
# time ("What time did it start?" is a date question).
_DURATION_Q = re.compile(
    r"\bwhat (?:was|is|were|are) (?:(?:[A-Z][\w.-]* )*[\w.-]+['\u2019]s |his |her |their |its "
    r"|the (?:winning|finishing|record|race|marathon|world record|fastest) )(?:[\w-]+ ){0,2}?time\b"
    r"|\bhow long did (?:it|he|she|they|the \w+) take\b",
    re.IGNORECASE,
)
_DURATION_SPAN = re.compile(
    r"\d+:\d\d|\b(?:hours?|hrs?|minutes?|mins?|seconds?|secs?|days?|weeks?|months?|years?)\b", re.IGNORECASE)
_DATE_Q = re.compile(
    r"^\s*when\b|\b(?:in |on |by |since |until )?(?:what|which) (?:year|date|day|month|time|decade|"
    r"century|week|season|hour)\b|\bwhen (?:did|does|do|will|was|were|is|are|has|have|had|would|could)\b",
    re.IGNORECASE,
)
_WHO_FIRST = re.compile(r"\s*(?:who|whom|whose)\b", re.IGNORECASE)
_PERSON_Q = re.compile(r"^\s*(?:who|whom|whose)\b|\b(?:who|whom|whose) (?:is|was|were|are|did|has|have|had|will)\b|"
                       r"\b(?:what|which) (?:[a-z-]+ ){0,2}(?:person|man|woman|leader|president|company|organi[sz]ation|team|"
                       r"party|group|player|actor|actress|singer|author|official|minister|ceo|firm|club|"
                       r"band|agency|candidate|retailer|chain|guitarist|performer|star|host|network|brand|airline|"
                       r"carrier|manufacturer|bank|newspaper|musician|artist|rapper|athlete|politician|"
                       r"senator|governor|judge|celebrity|billionaire|director|writer|poet|giant|startup|"
                       r"automaker|carmaker|platform|app|service|league|university|school)s?\b", re.IGNORECASE)
_PLACE_Q = re.compile(r"^\s*where\b|\bwhere (?:did|does|do|is|was|were|are|will|has|have|had)\b|"
                      r"\b(?:what|which) (?:[a-z-]+ ){0,2}(?:country|city|state|nation|town|village|region|province|county|"
                      r"continent|island|place|capital|location|area|territory|district|neighbou?rhood)\b",
                      re.IGNORECASE)
_HOW_Q = re.compile(r"\bhow\b", re.IGNORECASE)  # "How old was he when he died?": "died" counts nothing
_HOW_MANY_AT = re.compile(r"\bhow (?:many|much)\b", re.IGNORECASE)
# "how many were (also) injured", "how many have been arrested": the word after the auxiliaries.
_HOW_MANY_BARE = re.compile(
    r"\bhow many\s+(?:of\s+(?:them|those|these)\s+)?(?:(?:were|was|have|has|had|are|is)\s+)?(?:(?:been|also)\s+)*(\w+)",
    re.IGNORECASE)
_MODIFIERS = frozenset("new total additional more other extra estimated approximately about around nearly "
                       "roughly current former young old active".split())
_WORDS = re.compile(r"[\w'\u2019]+", re.UNICODE)


@dataclass(frozen=True)
class QuestionProfile:
    """What a question asks for, worked out once per question.

    ``counted`` is the head noun of a "how many ..." question ("troops" in "How many North
    Korean troops have arrived?"), None otherwise. ``terms`` are the question's content words,
    lower-cased; ``names`` its capitalised words and numbers after the first word, as written;
    ``key_names`` those of them that pin down which event the question is about (`key_names`);
    ``event`` what a "how many" question says happened to what it counts (`event_terms`), or
    the verb a "when" question asks the date of (`when_event`), as a tuple of at most one word.
    """

    question: str
    answer_type: AnswerType
    counted: str | None
    terms: tuple[str, ...]
    names: tuple[str, ...]
    key_names: tuple[str, ...] = ()
    event: tuple[str, ...] = ()
    money: bool = False  # asks for a sum of money ("How much is Russia paying ...?", `asks_money`)
    # A "how many" question's `time_frame` ("have already arrived": actual; "could eventually be
    # sent": prospective), None for other questions or when it does not say.
    frame: str | None = None
    # "Who said guardrails can only take so much?": the content words of what the question says
    # was said (`attributed_terms`); empty when it does not ask who said something.
    attributed: tuple[str, ...] = ()
    winner: bool = False  # asks who won (`asks_winner`): the side beaten cannot answer it
    partitive: bool = False  # "How many of the cases ...": counts a part of what it names
    # "How many did the police say marched?", "... according to the university?": the content
    # words naming whose figure is asked for (`claimed_by`); empty when the question names none.
    source: tuple[str, ...] = ()


def profile(question: str) -> QuestionProfile:
    """The `QuestionProfile` of ``question``."""
    names = named_terms(question)
    counted = counted_noun(question)
    terms = content_terms(question)
    how_many = _HOW_MANY_AT.search(question)
    answer_type = expected_type(question)
    if answer_type is AnswerType.OTHER and asks_money(question):
        answer_type = AnswerType.QUANTITY  # "What is the average salary ...?": a sum
    event = when_event(question) if answer_type is AnswerType.DATE else event_terms(question, names, counted)
    if not event and answer_type is AnswerType.QUANTITY and not counted and not _HOW_Q.search(question):
        event = counted_event(question)
    return QuestionProfile(question, answer_type, counted, terms, names, key_names(names), event, asks_money(question),
                           time_frame(question[how_many.end():]) if how_many else None,
                           attributed_terms(question), asks_winner(question), bool(_PARTITIVE_Q.search(question)),
                           claimed_by(question) if answer_type is AnswerType.QUANTITY else ())


_MONEY_Q = re.compile(
    r"\bhow much\b(?:(?!\?).)*\b(?:pay|pays|paying|paid|cost|costs|costing|spend|spends|spending|spent|"
    r"earn|earns|earned|earning|charge|charged|charging|owe|owes|owed|fine|fined|worth|raise|raised|"
    r"donate|donated|sell for|sold for|money|funding|budget|salary|wage|compensation|price|aid|damage|"
    r"damages|loan|loans|grant|grants|bailout|ransom|investment|relief|subsidy|subsidies)\b|"
    r"\bhow much money\b|\bwhat (?:is|was|were|are|will be) the (?:[\w-]+ )?(?:price|cost|fine|budget|salary|fee|ransom|wage|pay)\b",
    re.IGNORECASE,
)
# What a sum is for: a sum stated for one of these is not the answer to a question about another
# ("putting the damage at 400 million leva" beside "50 million leva in emergency aid").
_MONEY_PURPOSES = {
    "aid": "aid relief funding grant grants subsidy subsidies assistance bailout",
    "damage": "damage damages losses",
    "cost": "cost costs spend spent spending",
    "compensation": "compensation payout payouts",
    "fine": "fine fines fined penalty penalties",
    "investment": "investment investments invest invested",
    "loan": "loan loans",
    "ransom": "ransom",
    "salary": "salary salaries wage wages",
    "fare": "ticket tickets fare fares admission",
}
# What one person pays or earns: a total for something else is not it, whatever words they share
# ("How much will a ticket on the tram cost?" is not the extension's 612 million crowns).
PER_HEAD_PURPOSES = frozenset({"fare", "salary"})
_MONEY_PURPOSE = {w: key for key, words in _MONEY_PURPOSES.items() for w in words.split()}


def money_purposes(text: str) -> set[str]:
    """What the sums of ``text`` are for, as keys of `_MONEY_PURPOSES` ("aid", "damage", ...)."""
    return {_MONEY_PURPOSE[w] for w in re.findall(r"[a-z]+", text.lower()) if w in _MONEY_PURPOSE}


MONEY_SPAN = re.compile(
    r"[$\u20ac\u00a3\u00a5\u20b9\u20bd\u20a9]|\b(?:dollars?|euros?|pounds?|sterling|roubles?|rubles?|won|yuan|"
    r"renminbi|yen|rupees?|francs?|pesos?|reais|lira|shekels?|dinars?|rand|krona|kronor|krone|kroner|kronur|crowns?|koruna|korun|"
    r"leva|lev|taka|naira|rupiah|ringgit|baht|dong|hryvnias?|zloty|forints?|dirhams?|riyals?|rials?|"
    r"shillings?|cedis?|kwacha|lei|kuna|tenge|soms?|birr|pula|rufiyaa|kyat|kip|riel|"
    r"usd|eur|gbp|cents?|pence|bitcoins?)\b",
    re.IGNORECASE,
)


# When a figure holds: still to come ("could eventually rise to 12,000", "is set to arrive") or
# already so ("have already arrived"). Present-tense text ("are training") is neither.
_PROSPECTIVE = re.compile(
    r"\b(?:could|will|would|may|might|eventually|expected|set\s+to|plans?\s+to|planned\s+to|going\s+to|soon)\b",
    re.IGNORECASE,
)
_ACTUAL = re.compile(r"\b(?:already|so\s+far|to\s+date|have|has|had|did|was|were)\b", re.IGNORECASE)


_ALREADY = re.compile(r"\b(?:already|so\s+far|to\s+date|thus\s+far|until\s+now|up\s+to\s+now)\b", re.IGNORECASE)


_SUBORDINATE = re.compile(r"\b(?:before|after|when|whenever|if|unless|until|while|because|so that|that|which|who)\b",
                          re.IGNORECASE)
_COULD = re.compile(r"\b(?:could|might|may|eventually|ultimately|expected|projected|forecast|likely|set\s+to)\b",
                    re.IGNORECASE)


def asks_what_could_be(question: str) -> bool:
    """Whether ``question`` asks what could or is expected to happen ("How many could eventually
    die?"), not only in the future tense of reported speech ("How much did the engineers
    estimate it would cost?", "How much will it cost?"), nor in a clause of its own ("How many
    hours are required before a pilot may work for an airline?"): a count so far does not
    answer it."""
    how = _HOW_MANY_AT.search(question)
    main = _SUBORDINATE.split(question[how.end():] if how else question, maxsplit=1)[0]
    return bool(_COULD.search(main))


def asks_already(question: str) -> bool:
    """Whether ``question`` insists on what has happened so far ("have already arrived", "so
    far"): a figure only expected ("is set to arrive", "could rise to") does not answer it."""
    return bool(_ALREADY.search(question))


# Words that say when a figure holds, by meaning: "could eventually rise to 12,000" answers "How
# many could eventually be sent?", where "could soon be deployed" is another source's figure.
_WHEN_IT_HOLDS = {
    "eventually": "eventually", "ultimately": "eventually", "in the end": "eventually",
    "already": "so far", "so far": "so far", "to date": "so far", "thus far": "so far",
    "initially": "at first", "originally": "at first", "at first": "at first",
    "currently": "now", "at present": "now", "soon": "soon",
}
_WHEN_IT_HOLDS_RE = re.compile(r"\b(?:" + "|".join(w.replace(" ", r"\s+") for w in _WHEN_IT_HOLDS) + r")\b", re.IGNORECASE)


def time_qualifiers(text: str) -> frozenset[str]:
    """The words of ``text`` that say when a figure holds, by meaning ("ultimately" and
    "eventually" are one): frozenset({"eventually"}) for "could eventually rise to 12,000"."""
    return frozenset(_WHEN_IT_HOLDS[" ".join(m.group(0).lower().split())] for m in _WHEN_IT_HOLDS_RE.finditer(text))


def time_frame(text: str) -> str | None:
    """"prospective" when ``text`` (a question or the clause stating a figure) speaks of what
    could or will be, "actual" when of what already is or was, None when it does not say
    ("Pilots must have at least 1,500 hours": a requirement, neither)."""
    if _PROSPECTIVE.search(text):
        return "prospective"
    if _ACTUAL.search(_REQUIREMENT.sub(" ", text)):
        return "actual"
    return None


_REQUIREMENT = re.compile(r"\b(?:must|should|shall|need\s+to|needs\s+to|have\s+to|has\s+to)\s+(?:\w+\s+)?(?:have|has|be)\b",
                          re.IGNORECASE)


# "Who said ...", "Which official warned that ...", "According to whom ...": the question asks for
# the source of a statement (the verbs of `qa.claims`' attributions that a question uses).
_SOURCE_Q = re.compile(
    r"^\s*(?:(?:who\s+|which\s+(?:[\w-]+\s+){1,3}?)(?:(?:has|had|have|first|also|later|then)\s+)*"
    r"(?:said|says|told|tells|claimed|claims|estimated|estimates|announced|announces|stated|states|warned|warns"
    r"|insisted|insists|described|describes|predicted|predicts|suggested|suggests|alleged|alleges|confirmed"
    r"|confirms|revealed|reveals|reported|reports|wrote|writes|declared|declares|put|puts|counted|counts)"
    r"|according\s+to\s+(?:whom|who|which\s+[\w-]+))\b(?:\s+that)?",
    re.IGNORECASE,
)


def attributed_terms(question: str) -> tuple[str, ...]:
    """The content words of the statement whose source ``question`` asks for ("Who said
    guardrails can only take so much?" -> ("guardrails", "take")); () when it asks no source."""
    m = _SOURCE_Q.match(question)
    return content_terms(question[m.end():]) if m else ()


# Whose figure a question asks for: "How many did the police say ...", "How many did Berger
# count?", "... according to the university?", "By the organisers' count, how many ...?".
_CLAIMED_BY = re.compile(
    r"\b(?:did|does|do|has|have|had|will|would)\s+((?:[\w'\u2019.-]+\s+){0,4}?[\w'\u2019.-]+)\s+"
    r"(?:say|said|estimate|estimated|report|reported|count|counted|put|claim|claimed|give|gave|tally|record|recorded"
    r"|confirm|confirmed)\b"
    r"|\baccording\s+to\s+((?:[\w'\u2019.-]+\s*){1,6}?)(?=[,?.]|$)"
    r"|\bby\s+((?:[\w'\u2019.-]+\s+){0,4}?[\w'\u2019.-]+)['\u2019]s?\s+(?:count|estimate|tally|figures?|reckoning)\b",
    re.IGNORECASE,
)


def claimed_by_span(question: str) -> tuple[int, int] | None:
    """Where in ``question`` the source whose figure it asks for is named ("the police" in "How
    many people did the police say marched?"), as (start, end); None when it names none."""
    m = _CLAIMED_BY.search(question)
    if not m:
        return None
    group = next(i for i, g in enumerate(m.groups(), 1) if g)
    return m.start(group), m.end(group)


def claimed_by(question: str) -> tuple[str, ...]:
    """The content words of the source whose figure ``question`` asks for ("How many people
    did the police say marched in Porto?" -> ("police",)); () when it names none."""
    where = claimed_by_span(question)
    return content_terms(question[where[0]:where[1]]) if where else ()


# "Who won the mayoral race?", "Which team beat ...": the question asks for the winner, the
# subject of the verb.
_WINNER_Q = re.compile(
    r"^\s*(?:who\s+|which\s+(?:[\w-]+\s+){1,2}?)(?:(?:has|have|had|finally|eventually)\s+)*"
    r"(?:won|wins|win|beat|beats|defeated|defeats|was\s+elected|were\s+elected|is\s+the\s+winner)\b",
    re.IGNORECASE,
)
# What the defeated side is named after: "beating Eastfield Rovers", "defeating incumbent Paul
# Hendry", "a 2-1 win over Port Rovers".
DEFEATED_BEFORE = re.compile(
    r"\b(?:beating|beat|beats|defeating|defeated|defeats|ousting|ousted|unseating|unseated|edging|edged"
    r"|over|against)\s+(?:(?:the|incumbent|rival|former|defending|champion|champions|holders|mayor|president)\s+)*$",
    re.IGNORECASE,
)


def asks_winner(question: str) -> bool:
    """Whether ``question`` asks who won (the winner is its subject): "Who won the race?"."""
    return bool(_WINNER_Q.match(question))


def asks_money(question: str) -> bool:
    """Whether ``question`` asks for a sum of money: "how much" with paying, costing, spending,
    earning or a price ("How much is Russia paying North Korea?"), or "what is the price ..."."""
    return bool(_MONEY_Q.search(question))


def expected_type(question: str) -> AnswerType:
    """The type of answer ``question`` asks for (`AnswerType.OTHER` when unsure)."""
    if _DURATION_Q.search(question):
        return AnswerType.DURATION
    if _WHO_FIRST.match(question) and not _HOW_MANY_AT.search(question):
        return AnswerType.PERSON  # "Who put the death toll at 19?": a source, not the toll
    if _QUANTITY_Q.search(question):
        return AnswerType.QUANTITY
    if _DATE_Q.search(question):
        return AnswerType.DATE
    if _PLACE_Q.search(question):
        return AnswerType.PLACE
    if _PERSON_Q.search(question):
        return AnswerType.PERSON
    return AnswerType.OTHER


def fits(answer_type: AnswerType, span: str) -> bool | None:
    """Whether ``span`` is of ``answer_type``; None when the type is `AnswerType.OTHER`.

    Names (person, place) are judged by capitalisation, and a person also by a noun that names
    one ("an eleven-month-old boy", "the police"); a lower-case span can still answer "who" or
    "where", so a miss there is weak evidence; quantities and dates are reliable.
    """
    if answer_type is AnswerType.QUANTITY:
        return bool(_QUANTITY_SPAN.search(_ORDINAL.sub(" ", _CALENDAR_DAY.sub(" ", span))))
    if answer_type is AnswerType.DATE:
        return bool(_DATE_SPAN.search(span))
    if answer_type is AnswerType.DURATION:
        return bool(_DURATION_SPAN.search(span))
    if answer_type is AnswerType.PERSON:
        return bool(_NAME.search(span) or _PERSON_NOUN.search(span))
    if answer_type is AnswerType.PLACE:
        return bool(_NAME.search(span)) and not names_a_people(span)
    return None


def in_calendar_day(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` lies in a day of a month ("May 22", "22 May 2019")."""
    return any(m.start() <= start and end <= m.end()
               for m in _CALENDAR_DAY.finditer(text, max(0, start - 12), min(len(text), end + 16)))


def names_a_people(span: str) -> bool:
    """Whether ``span`` is a people or a place's adjective with no place name beside it
    ("Russians", "the Kansans", "European countries"), which cannot answer "which country"."""
    words = [w for w in re.findall(r"[\w'\u2019.-]+", span) if w.lower() not in ("the", "a", "an")]
    if not words or not _DEMONYM.match(words[0]) or words[0] in _DEMONYM_PLACES:
        return False
    return not any(_NAME.match(w) for w in words[1:])


_PARTITIVE_OF = re.compile(r"\s+of\s+(?:the|these|those|its|their|his|her|our|this|that)\s+", re.IGNORECASE)
_PARTITIVE_Q = re.compile(r"\bhow many of\b", re.IGNORECASE)


def counted_noun(question: str) -> str | None:
    """The noun counted by a "how many/much ..." question, lower-cased, or None.

    The first lower-case content word after "how many" that is not a modifier: "troops" in
    "How many North Korean troops ...", "people" in "How many people watched ...".
    """
    m = _HOW_MANY_AT.search(question)
    if not m:
        return None
    rest = question[m.end():]
    # "How many of the cases were hospitalized?": a part of the cases is counted, in the cases' noun.
    partitive = _PARTITIVE_OF.match(rest)
    words = _WORDS.findall(rest[partitive.end():] if partitive else rest)[:6]
    for i, w in enumerate(words):
        low = w.lower()
        if low in STOPWORDS:
            if i == 0:
                return None  # "How much did it cost?": nothing counted by name
            break
        if w[:1].isupper() or low in _MODIFIERS or low.endswith(("ed", "ing")) or any(c.isdigit() for c in w):
            continue
        # English noun compounds end in their head: "measles cases", "aid workers". A plural
        # right after the noun is that head (a verb there, "firefighters fought", is not plural).
        for nxt in words[i + 1:i + 3]:
            n = nxt.lower()
            if nxt[:1].isupper() or n in STOPWORDS or not n.endswith("s") or n.endswith("ss"):
                break
            low = n
        return low
    return None


def content_terms(text: str) -> tuple[str, ...]:
    """Lower-cased words of ``text`` that are not stop words, in order, each once."""
    seen: dict[str, None] = {}
    for w in _WORDS.findall(text):
        w = w.lower().replace("\u2019", "'")
        if w.endswith("'s"):
            w = w[:-2]
        if w and w not in STOPWORDS:
            seen.setdefault(w, None)
    return tuple(seen)


# Verbs that say a count belongs to someone, not that anything happened ("How many votes did she
# get?", "How many seats do the Greens hold?"): no event for a figure's sentence to state.
_LIGHT_VERBS = frozenset("""
get gets got gotten getting receive receives received receiving hold holds held holding take takes
took taken obtain obtains obtained gain gains gained secure secures secured
""".split())
_ADVERBS = frozenset("""
already currently eventually recently reportedly still now far yet ever initially first last total
overall approximately nearly around roughly almost far so
""".split())


def event_terms(question: str, names: Sequence[str], counted: str | None) -> tuple[str, ...]:
    """What happened to the counted thing: the main verb after the "how many ..." phrase ("killed"
    in "How many North Korean troops have been killed in Ukraine?", "shipped" in "How many
    containers of munitions has North Korea shipped to Russia?"), or () when there is none. A
    figure that answers the question is stated with it (or a word of its news group, `states`):
    1,500 troops that "have arrived" are not troops killed."""
    if not counted:
        # "And how many were injured?": nothing counted by name, but what happened is the news
        # event right after "how many" (not "how much": "How much did it cost?" is answered by
        # a sum stated in other words).
        bare = _HOW_MANY_BARE.search(question)
        return (bare.group(1).lower(),) if bare and is_news_event(bare.group(1)) else ()
    m = _HOW_MANY_AT.search(question)
    rest = question[m.end():] if m else question
    # A follow-up's search query carries earlier turns' words after the question mark ("How many
    # votes did she get? Sofia Marchetti Harwick mayoral election"): not what happened.
    rest = rest.split("?", 1)[0]
    # Skip the counted phrase, up to the counted noun ("North Korean troops").
    words = _WORDS.findall(rest)
    start = next((i + 1 for i, w in enumerate(words) if w.lower() == counted), 0)
    lowered = {n.lower() for n in names}
    if any(w.lower() in _LIGHT_VERBS for w in words[start:]):
        return ()  # "How many votes did her opponent get?": whose the count is, nothing happened
    after = [(i, w.lower()) for i, w in enumerate(words[start:], start)
             if w.lower() not in STOPWORDS and w.lower() not in lowered and w.lower() not in _ADVERBS
             and not w[:1].isupper() and not any(c.isdigit() for c in w)]
    verbs = [(i, w) for i, w in after if w.endswith(("ed", "en", "ing")) or w in _EVENT_SYNONYMS]
    chosen = (verbs or after)[:1]
    if chosen and _after_place_preposition(words, chosen[0][0]):
        return ()  # "How many were on board the jet shot down ...?", "in the building": where, not what
    return tuple(w for _, w in chosen)


_PLACE_PREPOSITIONS = frozenset("on in at aboard inside into onto near".split())
_DETERMINERS = frozenset("the a an its their his her this that".split())


def _after_place_preposition(words: Sequence[str], i: int) -> bool:
    """Whether ``words[i]`` follows a place preposition, with at most a determiner and a name
    between ("in the Kolmar factory")."""
    j = i - 1
    while j >= 0 and words[j][:1].isupper() and j > i - 4:
        j -= 1
    if j >= 0 and words[j].lower() in _DETERMINERS:
        j -= 1
    return j >= 0 and words[j].lower() in _PLACE_PREPOSITIONS


# "When was the missile recovered?", "When did it dock with the space station?": the auxiliary,
# then the subject and the verb the date is of, up to the first preposition.
_WHEN_AUX = re.compile(r"^\s*when\s+(did|does|do|will|would|was|were|is|are|has|have|had)\s+", re.IGNORECASE)
_PREPOSITIONS = frozenset("""
with at in on from to for by of into onto over under after before during about against between near off
""".split())
# Verbs that only say something happened, began or ended: a date's sentence need not repeat them
# ("broke out at 19:00" for "When did the fire start?").
_ONSET_VERBS = frozenset("""
happen happened occur occurred take took taken place start started begin began begun end ended finish
finished be been become became come came go gone went open opened close closed held hold
""".split())
# Irregular past participles a passive "when" question ends in ("When were the troops sent?").
_PARTICIPLES = frozenset("""
sent built found hit shot struck caught sold bought paid lost left won made told said brought kept met put
set cut spent sunk fought led shut hurt
""".split())


def when_event(question: str) -> tuple[str, ...]:
    """What a "when" question asks the date of: its verb ("recovered" in "When was the missile
    recovered?", "dock" in "When did it dock with the space station?"), or () when it has none
    that a sentence must state (a verb of `_ONSET_VERBS`, "When will they be ready?"). A date
    from a sentence stating another news event instead ("... delivering ammunition since
    August" for when the missile was recovered) is not its date (`qa.candidates`)."""
    m = _WHEN_AUX.match(question)
    if not m:
        return ()
    head: list[str] = []
    for w in _WORDS.findall(question[m.end():].split("?", 1)[0]):
        if w.lower() in _PREPOSITIONS:
            break
        head.append(w)
    while head and (head[-1][:1].isupper() or any(c.isdigit() for c in head[-1])):
        head.pop()  # "When did Russia invade Ukraine?": the object named after the verb
    if len(head) < 2:
        return ()
    low = head[-1].lower()
    passive = m.group(1).lower() in ("was", "were", "is", "are", "has", "have", "had") or "be" in head
    if (low in STOPWORDS or low in _ONSET_VERBS or low in _ADVERBS
            or (passive and not low.endswith(("ed", "en")) and low not in _PARTICIPLES)):
        return ()
    return (low,)


# What news says happened, in the words it says it with: a question's event word is stated by a
# sentence holding any word of its group (a small hand-made thesaurus of news events; word
# embeddings were tried and put "killed" as close to "fight" as "sent" is to "arrived").
_EVENT_GROUPS = [
    "send sent deploy deployed dispatch dispatched dispatching ship shipped shipping arrive arrived arriving "
    "transfer transferred deliver delivered delivering supply supplied provide provided move moved",
    # "The hospital had received 34 bodies": the dead, counted where they were taken.
    "kill killed killing dead death deaths die died dying fatalities fatality toll lives bodies",
    "wound wounded injure injured injuries injury hurt casualties",
    "hospitalize hospitalized hospitalise hospitalised hospitalization hospitalisation hospital",
    "capture captured prisoner prisoners detain detained seize seized arrest arrested",
    "pay paid paying payment cost costs price spend spent",
    "evacuate evacuated evacuation flee fled displaced",
    "rescue rescued save saved survivor survivors survived",
    "win won winning victory beat defeated",
    "vote voted votes voting ballot ballots",
    "sell sold sale sales",
    "buy bought purchase purchased",
]
# The groups whose words name a count of people by what happened to them (the dead, the injured,
# the detained, ...), not a sum or a trade ("What was the price?" is not asked of a "price" stated);
# "hospital" alone names a place ("How many hospital beds?").
_COUNTED_EVENTS = frozenset(w for g in _EVENT_GROUPS for w in g.split()
                            if g.split()[0] in ("kill", "wound", "hospitalize", "capture", "evacuate", "rescue")
                            and w != "hospital")
_EVENT_SYNONYMS: dict[str, frozenset[str]] = {}
for _group in _EVENT_GROUPS:
    _words = frozenset(_group.split())
    for _w in _words:
        _EVENT_SYNONYMS[_w] = _words


def states(word: str, stems: set[str]) -> bool:
    """Whether a text whose `word_stems` are ``stems`` states the event ``word``: the word itself
    (any ending: "fight"/"fighting", "ship"/"shipped") or a word of its `_EVENT_GROUPS` group."""
    root = _verb_root(word)
    if stem(word) in stems or any(_verb_root(w) == root for w in stems):
        return True
    return any(stem(w) in stems for w in _EVENT_SYNONYMS.get(word.lower(), ()))


def counted_event(question: str) -> tuple[str, ...]:
    """The news event that names what a question without "how many" counts: "toll" in "What
    is the death toll of the floods?", "casualties" in "What was the number of casualties?";
    () when it names none of `_COUNTED_EVENTS`."""
    return next(((w.lower(),) for w in _WORDS.findall(question.split("?", 1)[0]) if w.lower() in _COUNTED_EVENTS), ())


def is_news_event(word: str) -> bool:
    """Whether ``word`` is in qa's table of news events (`_EVENT_GROUPS`)."""
    return word.lower() in _EVENT_SYNONYMS


def states_another_event(word: str, stems: set[str]) -> bool:
    """Whether a text whose `word_stems` are ``stems`` states a news event of `_EVENT_GROUPS`
    other than ``word``'s ("1,500 troops have arrived" for "killed"). Where it states none
    ("over 400 firefighters participated in extinguishing the blaze" for "fought"), qa cannot
    tell the figure is of another event."""
    own = _EVENT_SYNONYMS.get(word.lower(), frozenset())
    return any(stem(w) in stems for group in _EVENT_GROUPS for w in group.split() if w not in own)


def _verb_root(word: str) -> str:
    # A noun made from the verb states the event too: "attendance was 61,450" for "attended",
    # "the evacuation of 300" for "evacuated".
    word = word.lower()
    for suffix in ("ance", "ence", "ion", "ing", "ed", "es", "s", "e"):
        if word.endswith(suffix) and len(word) > len(suffix) + 3:
            return word[: -len(suffix)]
    return word


def named_terms(question: str) -> tuple[str, ...]:
    """Capitalised words (not the first word) and numbers of ``question``, as written, each once."""
    words = _WORDS.findall(question)
    names: dict[str, str] = {}
    for i, w in enumerate(words):
        w = w.replace("\u2019", "'")
        if w.endswith("'s"):
            w = w[:-2]
        acronym = len(w) > 1 and w.isupper()  # "US", "UN", "NATO"
        if (i > 0 and w[:1].isupper() and (acronym or w.lower() not in STOPWORDS)) or any(ch.isdigit() for ch in w):
            names.setdefault(w.lower(), w)
    return tuple(names.values())


def stem(word: str) -> str:
    """A crude plural/possessive strip, enough to match "troops" with "troop" and "Korea's" with
    "Korea" when comparing question terms with article text."""
    word = word.lower()
    for suffix in ("'s", "ies", "es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


# Capitalised words that name no particular event: titles, institutions' common words, and
# abbreviations that articles spell in other ways ("US", "U.S.", "United States").
_GENERIC_NAMES = frozenset("""
president prime minister secretary chancellor governor mayor senator king queen prince princess
pope general chief ceo director national international united states state states nations world new
day department administration organization organisation union house white black supreme court
justice republican republicans democrat democrats democratic party parliament congress senate
government ministry office federal central european american british north south east west
northern southern eastern western university health news times post street city county covid
january february march april may june july august september october november december monday
tuesday wednesday thursday friday saturday sunday
""".split())


def key_names(names: Sequence[str]) -> tuple[str, ...]:
    """The names of a question that pin down which event it is about: places, people and
    organisations by name, and years; not titles or generic words ("President", "National"),
    two-letter abbreviations ("US", "UK": articles spell them many ways) or small numbers."""
    out = []
    for name in names:
        low = name.lower()
        if any(c.isdigit() for c in name):
            if re.fullmatch(r"(1[89]|20)\d\d", name):
                out.append(name)
            continue
        if low in _GENERIC_NAMES or (name.isupper() and len(name) <= 2):
            continue
        out.append(name)
    return tuple(out)


def mentions(name: str, stems: set[str]) -> bool:
    """Whether a text whose `word_stems` are ``stems`` mentions ``name``: the same stem, or a
    word sharing its first letters ("Korean" -> "Korea", "Iranian" -> "Iran", "American" ->
    "America"), since news names a country by its adjective as often as by its name."""
    s = stem(name)
    if s in stems:
        return True
    if len(s) < 5 or s.isdigit():
        return False
    prefix = s[: max(4, len(s) - 3)]
    return any(w.startswith(prefix) for w in stems)


def word_stems(text: str) -> set[str]:
    """The set of `stem` of every word of ``text``."""
    return {stem(w.replace("\u2019", "'")) for w in _WORDS.findall(text)}


def words_after(text: str, end: int, n: int = 4) -> list[str]:
    """Up to ``n`` words following position ``end`` of ``text`` up to the first stop word or
    punctuation mark: the noun phrase a number counts ("13,000 [containers filled]")."""
    out: list[str] = []
    for m in re.finditer(r"[\w'\u2019-]+|[^\w\s]", text[end : end + 120]):
        w = m.group()
        if not re.match(r"[\w]", w) or w.lower() in STOPWORDS:
            break
        out.append(w.lower())
        if len(out) >= n:
            break
    return out
