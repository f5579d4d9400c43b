"""Follow-up questions: turn "When will they be ready?" into a query that retrieval can use.

No language model is involved. A question is treated as a follow-up when it leans on the
conversation: it opens with a connective ("And ...", "What about ...", "How about ..."), it
uses a pronoun whose antecedent is not in the question ("they", "it", "these", ...), or it is a
fragment with almost no content of its own ("How many tanks?", "Why?"). For a follow-up, the
salient words of the previous turn (named entities and nouns, not verbs or adverbs) that the
question lacks are appended after it, so the user's own words stay first and still dominate
what the reader looks for:

    How many North Korean troops have already arrived in Russia?
    And how many could eventually be sent?
      -> And how many could eventually be sent? North Korean troops Russia

The previous turn's *resolved* query is used, so a chain of follow-ups keeps its topic. When
the follow-up points at a person or place ("What did he say?", "What happened there?") and the
previous answer is a name, or when the follow-up is a bare "Why?", the previous answer is added as
well; a number comes with the noun it counts in the cited passage ("13,000 containers").

The right subject (issue 15):

- the user's new words win: a follow-up that asks about a noun of its own ("And how many
  shells?") does not carry the noun the last turns asked about ("tanks"), only the rest of
  their topic;
- a pronoun for the previous answer's object becomes that object, in place: "they"/"them" after
  a count is what was counted ("What was in them?" -> "What was in the containers?"), "it" after
  a common-noun answer is that answer, and "it" after a name, date or place answer is what the
  previous question asked about ("When was it recovered?" -> "When was the missile recovered?");
- a definite description with no name ("What led to the explosion?") leans on the conversation
  too, and when the latest turn named nothing, the names of the turn before still come along;
- a noun phrase alone ("And Pike?", "What about the Labour candidate?", "And in Berlin?") asks
  the previous question of it: its one personal pronoun, its one name, or its name after the
  same kind of preposition is replaced, and who was replaced is not carried along (unless the
  phrase says whose: "And her opponent?"); the previous answer is then not its answer
  (`asks_again_of_another`, used by `qa.assistant`);
- a count that does not say what it counts ("How many were killed?") counts what the
  conversation counts;
- a question leaning only on a definite description ("Where was the manifesto posted?",
  `leans_by_definite_only`) is searched with the conversation's words but read as typed
  (`qa.assistant`).

A question about the source of the previous answer ("Who says so?", `asks_for_source`) is not
searched at all: `qa.assistant.source_of` answers it with that answer's claimant.

A standalone question comes back unchanged, character for character.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from qa.answer import Turn
from qa.answer_type import claimed_by_span

MAX_ADDED_TERMS = 8
MAX_TURNS_BACK = 3

# Connectives that make a question continue the previous one.
_CONNECTIVE = re.compile(
    r"^\s*(?:and|but|also|so|then|plus|or|and\s+what|what\s+about|how\s+about|what\s+else"
    r"|anything\s+else|same\s+(?:for|with)|as\s+for|in\s+that\s+case)\b",
    re.IGNORECASE,
)

# Pronouns that need an antecedent. Personal ones name people; "there" names a place.
_PERSONAL = {"he", "him", "his", "she", "her", "hers", "himself", "herself"}
_PLACE = {"there"}
_ANAPHORA = _PERSONAL | _PLACE | {
    "they", "them", "their", "theirs", "themselves", "it", "its", "itself",
    "this", "that", "these", "those", "latter", "former",
}
# "on board" / "aboard" with no vehicle after it ("How many people were on board?"): the vehicle
# is the one the conversation is about, as a pronoun's antecedent would be.
_ELLIPTICAL = re.compile(r"\b(?:on\s+board|aboard)\s*[?.!]*\s*$", re.IGNORECASE)
# "Is it true that ...", "it is", "how is it that": "it" without an antecedent.
_EXPLETIVE_IT = re.compile(r"\b(?:is|was|isn't|wasn't)\s+it\s+(?:true|possible|likely|known)\b"
                           r"|\bit\s+(?:is|was)\s+(?:true|reported|said|claimed)\b", re.IGNORECASE)

_AUXILIARIES = {
    "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did", "done",
    "has", "have", "had", "having", "will", "would", "can", "could", "should", "shall", "may",
    "might", "must", "isn't", "aren't", "wasn't", "weren't", "don't", "doesn't", "didn't",
    "hasn't", "haven't", "hadn't", "won't", "wouldn't", "can't", "couldn't", "shouldn't",
}

# Words that never carry the topic: function words, question words, pronouns, auxiliaries,
# frequent verbs and adverbs. Kept short and explicit rather than borrowed from a library.
_STOPWORDS = _AUXILIARIES | _ANAPHORA | {
    "a", "an", "the", "and", "or", "but", "nor", "so", "yet", "of", "in", "on", "at", "to",
    "for", "from", "by", "with", "without", "about", "into", "onto", "over", "under", "after",
    "before", "since", "until", "during", "between", "among", "against", "through", "across",
    "toward", "towards", "per", "via", "as", "than", "up", "down", "out", "off", "near",
    "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "whether", "if",
    "i", "me", "my", "we", "us", "our", "you", "your", "one", "ones", "someone", "anyone",
    "something", "anything", "everything", "nothing", "else", "other", "others", "another",
    "many", "much", "more", "most", "less", "least", "few", "fewer", "some", "any", "all",
    "each", "every", "both", "either", "neither", "no", "not", "only", "own", "same", "such",
    "very", "too", "also", "just", "there", "here", "first", "last", "next",
    "long", "far", "ago", "way", "please", "okay", "ok", "yes", "well", "thing", "things",
    "kind", "sort", "lot", "lots", "number", "amount", "total", "instead", "case", "according",
} | {
    # adverbs of time and degree
    "still", "already", "now", "then", "soon", "ever", "never", "again", "even", "eventually",
    "currently", "recently", "finally", "exactly", "really", "actually", "approximately",
    "roughly", "around", "nearly", "almost", "mostly", "probably", "possibly", "likely",
    "often", "later", "earlier", "today", "yesterday", "tomorrow",
}
_COMMON_VERBS = {
    "say", "says", "said", "saying", "tell", "told", "get", "gets", "got", "make", "makes",
    "made", "go", "goes", "went", "gone", "come", "came", "take", "took", "taken", "give",
    "gave", "given", "send", "sent", "put", "let", "know", "knew", "known", "think", "thought",
    "see", "saw", "seen", "find", "found", "happen", "happens", "happened", "become", "became",
    "begin", "began", "begun", "hold", "held", "keep", "kept", "lead", "led", "meet", "met",
    "leave", "left", "bring", "brought", "pay", "paid", "run", "ran", "win", "won", "lose",
    "lost", "build", "built", "buy", "bought", "fight", "fought", "grow", "grew", "rise",
    "rose", "fall", "fell", "hit", "mean", "meant", "set", "show", "shown", "speak", "spoke",
    "write", "wrote", "written", "expect", "expected", "want", "need", "use", "used", "like",
    "die", "dies", "died", "start", "starts",
}
_STOPWORDS |= _COMMON_VERBS

# Lower-case words ending in -ed or -ly that are nouns or adjectives worth keeping.
_NOT_VERB = {
    "hundred", "red", "bed", "shed", "seed", "speed", "feed", "greed", "creed", "breed",
    "deed", "weed", "reed", "tweed", "steed", "armed", "united", "naked", "sacred", "wicked",
}
_NOT_ADVERB = {
    "family", "supply", "ally", "rally", "assembly", "reply", "italy", "july", "fly", "holy",
    "anomaly", "monopoly", "butterfly", "belly", "jelly", "bully", "daily", "weekly",
    "monthly", "yearly", "quarterly", "early",
}

_TOKEN = re.compile(r"\w[\w'’.,\-]*\w|\w")
_NUMBER = re.compile(r"^[\d.,]+$")


def resolve_query(question: str, history: Sequence[Turn] = ()) -> str:
    """The search query for ``question`` in the conversation ``history``.

    Args:
        question: what the user asked now.
        history: earlier turns, oldest first.

    Returns:
        ``question`` itself when it stands on its own (or there is no history); otherwise the
        question (its pronoun replaced by the previous answer's object, when it points at that)
        followed by the salient words of the conversation that it lacks.
    """
    if not history or not question.strip() or not is_follow_up(question):
        return question
    last = history[-1]
    dropped: set[str] = set()
    ellipsis = _expand_ellipsis(question, history)
    if ellipsis is not None:
        question, dropped = ellipsis
    else:
        question = _substitute_answer_object(question, last)
    tokens = _words(question)
    present = {_key(w) for w in tokens} | dropped
    # The user's own noun says what is asked about now: "And how many shells?" after "How many
    # tanks were sent?" asks for shells, and carrying "tanks" along pulls the reader back to
    # the old count. So the earlier question's focus noun (what it counted or asked which of)
    # is not carried when the follow-up names a focus of its own; its other words are.
    focus = _focus_noun(tokens)
    # What the recent turns asked about (their focus nouns), when the follow-up has its own.
    replaced = {
        _key(f) for turn in history[-MAX_TURNS_BACK:] if focus
        for f in (_focus_noun(_words(turn.question)), _focus_noun(_words(turn.answer.query or "")))
        if f and _key(f) != _key(focus)
    }
    added: list[str] = []

    def add(term: str) -> None:
        for word in term.split():
            key = _key(word)
            if key and key not in present and len(added) < MAX_ADDED_TERMS:
                present.add(key)
                added.append(word)

    for term in _answer_terms(question, last):
        add(term)
    need_names = False
    for turn in reversed(history[-MAX_TURNS_BACK:]):
        if asks_for_source(turn.question):
            continue  # its query is the answer it asked about ('Who says "18,412"?'), not a topic
        terms = salient_terms(turn.answer.query or turn.question)
        terms = [t for t in terms if _key(t) not in replaced]
        names = [t for t in terms if _is_name_term(t)]
        if need_names:
            # The latest turn with a topic named nothing ("How many people were on board?"):
            # the names of the turn before still say which event the conversation is about.
            for term in names:
                add(term)
            if names:
                break
            continue
        for term in terms:
            add(term)
        if names:
            break
        need_names = bool(terms)
    if not added:
        return question
    return f"{question.strip()} {' '.join(added)}"


# "And her opponent?", "What about Berlin?": a noun phrase alone after a connective asks the
# previous question again of something else.
_NP_ELLIPSIS = re.compile(
    r"^\s*(?:and\s+what\s+about|what\s+about|how\s+about|and|as\s+for|same\s+for)\s+(?P<np>[^?]+?)\s*[?.!]*\s*$",
    re.IGNORECASE,
)
_WH = re.compile(r"^\s*(?:how|what|which|who|whom|whose|when|where|why)\b", re.IGNORECASE)
_ACCORDING_TO = re.compile(r"(?:according\s+to|by)\s+(?!how\b|what\b|when\b|much\b)(.+)$", re.IGNORECASE)
_SUBJECT_PRONOUNS = {"he", "she", "they", "him", "her", "them"}
_POSSESSIVES = {"her", "his", "their", "its"}
_PREPOSITIONS = {"in", "at", "on", "from", "to", "for", "during", "since", "near"}


def _expand_ellipsis(question: str, history: Sequence[Turn]) -> tuple[str, set[str]] | None:
    """The previous question asked of the noun phrase of "And <noun phrase>?" (its one personal
    pronoun, else its one name, replaced: "How many votes did she get?" + "And Pike?" -> "How
    many votes did Pike get?"), with the words not to carry over (`_key`s: the replaced name, or
    for a pronoun the earlier answers it stood for); None when ``question`` is not such a
    fragment ("And when?", "And how many shells?") or the previous question has nothing to
    replace."""
    m = _NP_ELLIPSIS.match(question)
    if not m:
        return None
    phrase = m.group("np").strip()
    other_source = _ACCORDING_TO.match(phrase)
    if other_source:
        # "How many people did the police say marched?" then "And according to the union?": the
        # same figure, of the other source ("... did the union say marched?").
        previous = (history[-1].answer.query or history[-1].question).split("?", 1)[0].strip() + "?"
        where = claimed_by_span(previous)
        if where is None:
            return None
        source = other_source.group(1)
        return (previous[:where[0]] + source + previous[where[1]:],
                {_key(w) for w in _words(previous[where[0]:where[1]])} - {_key(w) for w in _words(source)})
    words = _words(phrase)
    if not words or _WH.match(phrase) or _has_verb(words) or all(w.lower() in _STOPWORDS for w in words):
        return None
    previous = history[-1].question.strip()
    chained = _NP_ELLIPSIS.match(previous)
    if chained:
        # "And her opponent?" then "And Pike?": the question asked the time before, of Pike.
        asked = (history[-1].answer.query or "").split("?", 1)[0].strip() + "?"
        earlier = chained.group("np").strip()
        if not _WH.match(asked) or not re.search(rf"\b{re.escape(earlier)}\b", asked):
            return None
        expanded = re.sub(rf"\b{re.escape(earlier)}\b", lambda _: phrase, asked, count=1)
        dropped = {_key(w) for w in _words(earlier)}
        if _words(earlier)[0].lower() in _POSSESSIVES and len(history) > 1:
            # "And her opponent?" carried whom "her" stood for ("Sofia Marchetti"); "And Pike?"
            # is not about her.
            dropped |= {_key(w) for turn in history[:-1] if turn.answer.found and turn.answer.answer
                        for w in _words(turn.answer.answer)}
            before = _words(history[-2].question)
            dropped |= {_key(t) for i, t in enumerate(before) if i and _is_name(t, before, i)}
        return expanded, dropped - {_key(w) for w in words}
    if not _WH.match(previous):
        return None
    tokens = _words(previous)
    runs: list[list[int]] = []  # the previous question's names, as runs of token indexes
    for i, t in enumerate(tokens):
        if i and _is_name(t, tokens, i):
            if runs and runs[-1][-1] == i - 1:
                runs[-1].append(i)
            else:
                runs.append([i])
    pronouns = [t for t in tokens if t.lower() in _SUBJECT_PRONOUNS]
    if words[0].lower() in _PREPOSITIONS:
        # "And in Berlin?": the name after a preposition ("in Vienna") is what changes.
        runs = [r for r in runs if tokens[r[0] - 1].lower() in _PREPOSITIONS]
        if not runs:
            return None
        run = runs[-1]
        target = " ".join(tokens[run[0] - 1 : run[-1] + 1])
        dropped = {_key(tokens[i]) for i in run}
    elif len(pronouns) == 1 and (any(_is_name(w, words, i) or w[:1].isupper() for i, w in enumerate(words))
                                 or words[0].lower() in _POSSESSIVES):
        # "she" -> "her opponent", "Pike", "the Labour candidate": someone else (not "the
        # turnout", which is not who "she" was). Not carried: the earlier answers "she" stood for.
        target = pronouns[0]
        dropped = {_key(w) for turn in history if turn.answer.found and turn.answer.answer
                   for w in _words(turn.answer.answer)}
        if words[0].lower() in _POSSESSIVES:
            dropped = set()  # "her opponent": "her" is whom "she" stood for, still the topic
    elif len(runs) == 1 and not pronouns:
        target = " ".join(tokens[i] for i in runs[0])
        dropped = {_key(tokens[i]) for i in runs[0]}
        if words[0].lower() in _POSSESSIVES:
            dropped = set()  # "her opponent" after "... Sofia Marchetti ...": still her topic
    else:
        return None
    expanded = re.sub(rf"\b{re.escape(target)}\b", lambda _: phrase, previous, count=1)
    return expanded, dropped - {_key(w) for w in words}


def asks_again_of_another(question: str, history: Sequence[Turn]) -> bool:
    """Whether ``question`` asks the previous, whole question again of someone or something
    else ("How many votes did she get?" then "And her opponent?", "And Pike?"; see
    `_expand_ellipsis`). Not after another such fragment: "And her opponent?" then "And Pike?"
    may well ask of the same man."""
    return (bool(history) and not _NP_ELLIPSIS.match(history[-1].question.strip())
            and _expand_ellipsis(question, history) is not None)


# "Who says so?": a question about the source of the previous answer, answered by its claim
# (`qa.claims`) instead of by a new search.
_ASKS_SOURCE = re.compile(
    r"^\s*(?:and\s+)?(?:who\s+(?:says|said|claims|claimed|reported|reports|estimated|estimates)"
    r"(?:\s+(?:so|that|this|it))?|says\s+who|according\s+to\s+whom|who\s+is\s+saying\s+(?:so|that|this)"
    r"|what\s+is\s+(?:the|its|their)\s+source(?:\s+(?:of|for)\s+(?:that|this|it))?"
    r"|where\s+does\s+(?:that|this|it)\s+(?:figure|number|claim)?\s*come\s+from)\s*[?.!]*\s*$",
    re.IGNORECASE,
)


def asks_for_source(question: str) -> bool:
    """Whether ``question`` asks who says the previous answer ("Who says so?", "According to
    whom?", "Where does that figure come from?"), with nothing else in it."""
    return bool(_ASKS_SOURCE.match(question))


def is_follow_up(question: str) -> bool:
    """Whether ``question`` leans on the conversation (see the module docstring)."""
    if _CONNECTIVE.match(question) or _ELLIPTICAL.search(question):
        return True
    tokens = _words(question)
    if _has_dangling_pronoun(question, tokens):
        return True
    content = [t for t in tokens if _is_content(t)]
    if not content:
        return True
    if _is_bare_count(tokens) and not any(_is_name(t, tokens, i) for i, t in enumerate(tokens)):
        return True
    if _has_bare_definite(tokens):
        return True
    # A fragment with a single content word and no verb ("How many tanks?"), not a complete
    # question about one thing ("What is inflation?", "Who is Budanov?").
    return len(content) == 1 and not _is_name(content[0], tokens) and not _has_verb(tokens)


def _is_bare_count(tokens: list[str]) -> bool:
    """"How many were killed?", "How many arrived?": a count that does not say what it counts
    (a verb right after "how many"), so it counts what the conversation counts."""
    if len(tokens) < 2 or tokens[0].lower() != "how" or tokens[1].lower() not in ("many", "much"):
        return False
    if len(tokens) == 2:
        return True
    return _has_verb(tokens[2:3])


def leans_by_definite_only(question: str) -> bool:
    """Whether ``question`` leans on the conversation only by a definite description ("Where
    was the manifesto posted?"): no connective, no pronoun to resolve, no ellipsis."""
    tokens = _words(question)
    return not (_CONNECTIVE.match(question) or _ELLIPTICAL.search(question)
                or _has_dangling_pronoun(question, tokens)) and _has_bare_definite(tokens)


def _has_bare_definite(tokens: list[str]) -> bool:
    """"the <noun>" in a question that names nothing ("What led to the explosion?",
    "When did the spire collapse?"): a definite description whose referent is in the
    conversation, not in the question. A question with a name or a number of its own ("Who is
    the president of South Korea?") says what it is about."""
    if any(_is_name(t, tokens, i) for i, t in enumerate(tokens)):
        return False
    return any(t.lower() == "the" and i + 1 < len(tokens) and _is_content(tokens[i + 1])
               for i, t in enumerate(tokens))


def salient_terms(text: str) -> list[str]:
    """The words of ``text`` that carry its topic, in order: names (kept together) and nouns.

    Verbs, adverbs, question words and other function words are left out, so that carrying the
    terms into a follow-up brings the topic along without the earlier question's predicate.
    """
    tokens = _words(text)
    terms: list[str] = []
    seen: set[str] = set()
    verbs = _verbs_after_modal(tokens)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if _is_name(token, tokens, i):
            j = i + 1
            while j < len(tokens) and _is_name(tokens[j], tokens, j):
                j += 1
            name = " ".join(_strip_possessive(t) for t in tokens[i:j])
            if name.lower() not in seen:
                seen.add(name.lower())
                terms.append(name)
            i = j
            continue
        if i in verbs:
            i += 1
            continue
        if _is_content(token) and not _looks_like_verb_or_adverb(token):
            word = _strip_possessive(token)
            if word.lower() not in seen:
                seen.add(word.lower())
                terms.append(word)
        i += 1
    return terms


def _verbs_after_modal(tokens: list[str]) -> set[int]:
    """Positions of verbs after do/will/can and a named or pronoun subject: "did North Korea
    [ship]", "will they [arrive]" (not "did Russia's parliament": a possessive is no subject)."""
    verbs = set()
    for i, token in enumerate(tokens):
        if token.lower() not in _MODALS:
            continue
        j = i + 1
        if j < len(tokens) and tokens[j].lower() in _ANAPHORA:
            j += 1
        else:
            while j < len(tokens) and _is_name(tokens[j], tokens, j):
                j += 1
            if j == i + 1 or re.search(r"['’]s$", tokens[j - 1]):
                continue
        if j < len(tokens) and _is_content(tokens[j]) and not tokens[j][:1].isupper():
            after = tokens[j + 1] if j + 1 < len(tokens) else ""
            if after and _is_content(after) and not after[:1].isupper():
                verbs.add(j + 1)  # "did Ukrainian forces [recover]": a noun, then the verb
                continue
            verbs.add(j)
    return verbs


def _answer_terms(question: str, turn: Turn) -> list[str]:
    """The previous answer, when the follow-up points at it (see the module docstring)."""
    answer = turn.answer
    if not answer.found or not answer.answer:
        return []
    text = answer.answer.strip()
    tokens = _words(question)
    lowered = {t.lower() for t in tokens}
    no_content = not any(_is_content(t) for t in tokens)
    # "A suspected gas leak" is not a name: the capital of a first article does not count.
    is_name = bool(re.search(r"[A-Z]", _ARTICLE.sub("", text))) and len(text.split()) <= 5
    if is_name and (lowered & (_PERSONAL | _PLACE) or no_content):
        return [text]
    if no_content and len(tokens) <= 2 and _NUMBER.match(text.replace(" ", "")):
        counted = _counted_phrase(answer)
        return [text] + ([counted] if counted else [])
    return []


_MODALS = {"do", "does", "did", "will", "would", "can", "could", "should", "shall", "may", "might", "must"}
_PLURAL_OBJECT = {"they", "them", "these", "those"}
_SINGULAR_OBJECT = {"it"}
_ARTICLE = re.compile(r"^(?:the|a|an)\s", re.IGNORECASE)


def _substitute_answer_object(question: str, turn: Turn) -> str:
    """``question`` with its pronoun replaced by what the previous answer is about, when that
    is what the pronoun points at: a count's counted thing for "they"/"them" ("How many
    containers ...?" "13,000" -> "What was in them?" -> "What was in the containers?"), a
    common-noun answer for "it" ("the language barrier" -> "What could it complicate?").
    Otherwise (a name, a date, no answer) ``question`` comes back unchanged: the pronoun then
    usually means the previous question's subject, which the carried terms bring along."""
    answer = turn.answer
    tokens = _words(question)
    if not answer.found or not answer.answer:
        return _substitute_question_object(question, tokens, turn)
    text = " ".join(answer.answer.split())
    if _NUMBER.match(_number_part(text)):
        phrase = _counted_phrase(answer)
        pronouns = _PLURAL_OBJECT
    elif (not re.search(r"[A-Z0-9]", text) and len(text.split()) <= 5
          and not any(_looks_like_verb_or_adverb(w) for w in text.split())):
        phrase, pronouns = text, _SINGULAR_OBJECT
    else:
        return _substitute_question_object(question, tokens, turn)
    if not phrase:
        return question
    return _replace_pronoun(question, tokens, pronouns, phrase)


def _substitute_question_object(question: str, tokens: list[str], turn: Turn) -> str:
    """"it" when the previous answer is a name, a date or a place: the thing the previous
    question was about ("Where did Ukrainian forces recover a missile?" -> "When was it
    recovered?" -> "When was the missile recovered?"), the first singular common noun after a
    determiner there. Without one, ``question`` comes back unchanged."""
    previous = _words(turn.question)
    for i, word in enumerate(previous):
        if word.lower() not in {"a", "an", "the", "this"}:
            continue
        head = None  # the last word of the noun phrase: "a high-level security [meeting]"
        for j in range(i + 1, min(i + 5, len(previous))):
            candidate = previous[j]
            if _is_name(candidate, previous, j):
                if head:
                    break
                continue  # "the Notre Dame fire": names before the noun
            lower = candidate.lower()
            if (not _is_content(candidate) or _looks_like_verb_or_adverb(candidate)
                    or lower in _COMMON_VERBS):
                break
            head = candidate
        if head and not head.lower().endswith("s"):
            return _replace_pronoun(question, tokens, _SINGULAR_OBJECT, head)
        if head:
            break
    return question


def _replace_pronoun(question: str, tokens: list[str], pronouns: set[str], phrase: str) -> str:
    """``question`` with its one pronoun of ``pronouns`` replaced by "the ``phrase``"."""
    targets = [t for t in tokens if t.lower() in pronouns]
    if len(targets) != 1:
        return question  # none, or two to choose between: leave it to the carried terms
    if not _ARTICLE.match(phrase):
        phrase = f"the {phrase}"
    return re.sub(rf"\b{re.escape(targets[0])}\b", phrase, question, count=1)


def _number_part(text: str) -> str:
    """"13,000" of "as many as 13,000"; number words are numbers too ("eleven")."""
    words = text.split()
    last = words[-1] if words else ""
    return "0" if last.lower() in _NUMBER_WORDS else last


_NUMBER_WORDS = {
    "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
    "thirty", "forty", "fifty", "hundred", "thousand", "million", "billion", "dozen", "dozens",
}


def _counted_phrase(answer) -> str | None:
    """What the count counts, from its first cited passage: the words after the number up to
    the first common noun ("1,500 [North Korean troops] have ...", "13,000 [containers]
    filled ...")."""
    if not answer.citations:
        return None
    citation = answer.citations[0]
    _, end = citation.answer_in_passage
    following = _words(citation.passage[end : end + 60])
    phrase: list[str] = []
    for token in following[:4]:
        if not _is_content(token) or _looks_like_verb_or_adverb(token) or _NUMBER.match(token):
            break
        phrase.append(token)
        if not token[:1].isupper():
            return " ".join(phrase)  # the head noun: the phrase ends here
    return None


_FOCUS_OPENER = {"many", "much", "which", "what", "whose"}


def _focus_noun(tokens: list[str]) -> str | None:
    """The noun a question asks about: the first common noun after "how many", "how much",
    "which", "what" ("How many [shells]?", "In which [district]?", "How many North Korean
    [troops] ...?"); None when a verb comes first ("What was in them?")."""
    for i, token in enumerate(tokens):
        if token.lower() not in _FOCUS_OPENER:
            continue
        for j in range(i + 1, min(i + 5, len(tokens))):
            word = tokens[j]
            lower = word.lower()
            if lower in _AUXILIARIES or lower in _COMMON_VERBS or _looks_like_verb_or_adverb(word):
                return None
            if _is_name(word, tokens, j) or not _is_content(word):
                continue
            return _strip_possessive(word)
        return None
    return None


def _is_name_term(term: str) -> bool:
    """A term of `salient_terms` that is a name or a number (those keep their capitals)."""
    return term[:1].isupper() or bool(_NUMBER.match(term))


def _words(text: str) -> list[str]:
    return [t.rstrip(".,") for t in _TOKEN.findall(text) if t.rstrip(".,")]


def _strip_possessive(word: str) -> str:
    return re.sub(r"['’]s$", "", word)


def _key(word: str) -> str:
    """A crude normal form for "the question already has this word": case, possessive, plural."""
    w = _strip_possessive(word).lower().strip("'’")
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        return w[:-1]
    return w


def _is_content(token: str) -> bool:
    return _strip_possessive(token).lower() not in _STOPWORDS


def _is_name(token: str, tokens: list[str], index: int | None = None) -> bool:
    """A capitalised content word, or a number: part of a named entity or a quantity."""
    if not _is_content(token):
        return False
    if _NUMBER.match(token):
        return True
    if not token[:1].isupper():
        return False
    if index is None:
        index = tokens.index(token) if token in tokens else -1
    # The first word of a sentence is capitalised anyway: "Russia" is a name, "Troops" is not.
    return index != 0 or token.lower() not in _COMMON_OPENERS


_COMMON_OPENERS = {"troops", "soldiers", "people", "officials", "experts", "reports", "name", "list"}


def _has_verb(tokens: list[str]) -> bool:
    for token in tokens:
        w = token.lower()
        if w in _AUXILIARIES or w in _COMMON_VERBS:
            return True
        if not token[:1].isupper() and len(w) > 4 and w.endswith("ed") and w not in _NOT_VERB:
            return True
    return False


def _looks_like_verb_or_adverb(token: str) -> bool:
    """Lower-case -ed and -ly words: "arrived", "eventually" (names are never dropped)."""
    if token[:1].isupper():
        return False
    w = token.lower()
    if len(w) > 4 and w.endswith("ed") and w not in _NOT_VERB:
        return True
    return len(w) > 4 and w.endswith("ly") and w not in _NOT_ADVERB


def _has_dangling_pronoun(question: str, tokens: list[str]) -> bool:
    """A pronoun with no name before it in the question ("When will they be ready?")."""
    text = _EXPLETIVE_IT.sub(" ", question)
    tokens = _words(text)
    for i, token in enumerate(tokens):
        word = token.lower()
        if word not in _ANAPHORA:
            continue
        if word in {"that", "this"} and i + 1 < len(tokens) and _is_content(tokens[i + 1]):
            # "that North Korea shipped ...": a conjunction or a determiner before a noun that
            # is spelled out; "this week" is not anaphoric enough to matter either.
            continue
        if word == "that" and i > 0:
            # "said that", "the troops that ...": relative or complementiser, not a reference.
            continue
        if any(_is_name(t, tokens, j) for j, t in enumerate(tokens[:i])):
            continue  # antecedent inside the question: "Did North Korea say it would ...?"
        if word in {"their", "its"} and any(_is_content(t) and not _looks_like_verb_or_adverb(t)
                                             for t in tokens[:i]):
            continue  # "How many workers will lose their jobs?": the workers' own
        return True
    return False
