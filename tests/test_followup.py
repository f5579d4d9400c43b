"""Follow-up questions are resolved against the conversation, without a language model."""

from __future__ import annotations

import pytest

from qa.answer import Answer, Citation, Turn
from qa.followup import is_follow_up, resolve_query, salient_terms

FIRST = "How many North Korean troops have already arrived in Russia?"
SECOND = "And how many could eventually be sent?"
THIRD = "When will they be ready?"


def turn(question: str, query: str | None = None, answer: str | None = None,
         citations: tuple[Citation, ...] = ()) -> Turn:
    """A past turn; ``query`` is what the assistant searched with (the question if standalone)."""
    return Turn(
        question,
        Answer(question=question, query=query or question, answer=answer,
               found=answer is not None, score=0.9 if answer else 0.05, citations=citations),
    )


def conversation() -> list[Turn]:
    """The sample conversation, each turn resolved as the assistant would."""
    history = [turn(FIRST, answer="1,500")]
    history.append(turn(SECOND, resolve_query(SECOND, history), answer="12,000"))
    return history


def test_a_question_without_history_comes_back_unchanged():
    assert resolve_query(SECOND, []) == SECOND


@pytest.mark.parametrize("question", [
    "How many containers of munitions has North Korea shipped to Russia?",
    "Who is the president of South Korea?",
    "Who is Budanov?",
    "What is inflation?",
    "Where did Putin and Kim Jong Un meet?",
    "Did North Korea say it would send more troops?",
    "Who said that North Korea shipped artillery shells?",
    "Is it true that North Korea sent troops to Russia?",
    "  How many shells were shipped to Russia?  ",
])
def test_standalone_questions_come_back_unchanged(question):
    assert not is_follow_up(question)
    assert resolve_query(question, conversation()) == question


def test_and_follow_up_gets_the_topic_of_the_previous_question():
    query = resolve_query(SECOND, [turn(FIRST, answer="1,500")])
    assert query == "And how many could eventually be sent? North Korean troops Russia"


def test_the_users_question_stays_first():
    query = resolve_query(SECOND, [turn(FIRST, answer="1,500")])
    assert query.startswith(SECOND)


def test_the_previous_questions_verbs_and_adverbs_are_not_carried():
    query = resolve_query(SECOND, [turn(FIRST, answer="1,500")])
    assert "arrived" not in query and "already" not in query


def test_pronoun_follow_up_keeps_the_topic_across_a_chain_of_follow_ups():
    query = resolve_query(THIRD, conversation())
    assert query == "When will they be ready? North Korean troops Russia"


def test_words_the_question_already_has_are_not_repeated():
    query = resolve_query("When will these troops be ready?", conversation())
    assert query == "When will these troops be ready? North Korean Russia"


def test_what_about_follow_up_carries_the_topic():
    query = resolve_query("What about Ukraine?", conversation())
    assert query.startswith("What about Ukraine? ")
    assert "troops" in query


def test_fragment_follow_up_is_resolved_with_its_new_noun_in_place_of_the_old_one():
    assert resolve_query("How many tanks?", conversation()) == "How many tanks? North Korean Russia"


def test_pronoun_after_a_name_in_the_question_is_not_a_follow_up():
    assert not is_follow_up("Did Budanov say they were training in the Far East?")


def test_a_personal_pronoun_brings_the_previous_answer_when_it_is_a_name():
    history = [turn("Who is Ukraine's military intelligence chief?", answer="Kyrylo Budanov")]
    query = resolve_query("What did he claim?", history)
    assert query.startswith("What did he claim? Kyrylo Budanov")
    assert "intelligence" in query and "chief" in query


def test_a_bare_why_brings_the_number_and_what_it_counts_from_the_cited_passage():
    passage = "North Korea has shipped as many as 13,000 containers filled with artillery shells."
    start = passage.index("13,000")
    citation = Citation(article_id="a", title="t", start=100 + start, end=100 + start + 6,
                        passage=passage, passage_start=100, chunk_id="a-1", paragraph=9)
    history = [turn("How many containers of munitions has North Korea shipped to Russia?",
                    answer="13,000", citations=(citation,))]
    query = resolve_query("Why?", history)
    assert query.startswith("Why? 13,000 containers")
    assert "munitions" in query


def test_a_not_found_answer_is_never_carried():
    history = [turn("Who is Ukraine's military intelligence chief?", answer=None)]
    assert "None" not in resolve_query("What did he claim?", history)


def test_salient_terms_keep_names_together_and_drop_function_words():
    assert salient_terms(FIRST) == ["North Korean", "troops", "Russia"]
    assert salient_terms("Why did Russia's parliament ratify the pact?") == [
        "Russia", "parliament", "ratify", "pact"]


def test_added_terms_are_capped():
    long = "Kim Jong Un Vladimir Putin Yoon Suk Yeol Volodymyr Zelenskyy Kyrylo Budanov Kursk Poltava"
    query = resolve_query("And then?", [turn(f"Did {long} meet?")])
    assert len(query.split()) - 2 <= 8


def test_empty_question_comes_back_unchanged():
    assert resolve_query("   ", conversation()) == "   "


def _cited(passage: str, answer: str) -> Citation:
    start = passage.index(answer)
    return Citation(article_id="a", title="t", start=100 + start, end=100 + start + len(answer),
                    passage=passage, passage_start=100, chunk_id="a-1", paragraph=9)


CONTAINERS = "The NIS estimates that North Korea has shipped as many as 13,000 containers filled with artillery shells."


def test_a_new_counted_noun_replaces_the_old_one():
    # Issue 15: "And how many shells?" after a question about tanks was answered with the tanks.
    history = [turn("How many tanks were sent to Russia?", answer="40")]
    query = resolve_query("And how many shells?", history)
    assert query == "And how many shells? Russia"


def test_a_new_which_noun_replaces_the_old_focus_but_keeps_the_rest():
    history = [turn("How many people were killed when the block of flats collapsed in Aleppo?", answer="eleven")]
    query = resolve_query("In which district?", history)
    assert "people" not in query.split()
    assert "Aleppo" in query and "block" in query


def test_they_after_a_count_means_the_counted_thing():
    # Issue 15: "What was in them?" after "How many containers ...?" -> "13,000".
    history = [turn("How many containers did North Korea ship to Russia?", answer="13,000",
                    citations=(_cited(CONTAINERS, "13,000"),))]
    query = resolve_query("What was in them?", history)
    assert query.startswith("What was in the containers?")
    assert "North Korea" in query


def test_it_after_a_common_noun_answer_means_that_thing():
    history = [turn("What is one of the main challenges for North Korean forces?", answer="the language barrier")]
    assert resolve_query("What could it complicate?", history).startswith("What could the language barrier complicate?")


def test_it_after_a_name_answer_is_not_replaced_by_the_name():
    history = [turn("Who convened a high-level security meeting?", answer="Yoon Suk Yeol")]
    query = resolve_query("When did he convene it?", history)
    assert query.startswith("When did he convene the meeting?")
    assert "Yoon Suk Yeol" in query


def test_a_definite_description_without_a_name_continues_the_topic():
    history = [turn("How many people died in the Magnitogorsk building collapse?", answer="39")]
    assert is_follow_up("What led to the explosion?")
    assert "Magnitogorsk" in resolve_query("What led to the explosion?", history)


@pytest.mark.parametrize("question", ["How many people were on board?", "Who was aboard?"])
def test_on_board_with_no_vehicle_continues_the_topic(question):
    history = [turn("Where did the Iranian cargo plane crash?", answer="Karaj")]
    assert is_follow_up(question)
    assert "Iranian cargo plane" in resolve_query(question, history)
    assert not is_follow_up("How many people were on board the Iranian cargo plane?")


def test_an_answer_opening_with_an_article_is_not_taken_for_a_name():
    history = [turn("What led to the explosion in Magnitogorsk?", answer="A suspected gas leak")]
    assert "suspected" not in resolve_query("When did it happen?", history)


def test_the_names_of_an_earlier_turn_carry_over_a_turn_that_named_nothing():
    history = [turn("Where did the Iranian cargo plane crash?", answer="Karaj"),
               turn("How many people were on board?", answer="sixteen")]
    query = resolve_query("Who was the lone survivor?", history)
    assert "Iranian" in query and "people" in query


def test_it_after_a_place_answer_means_the_thing_the_previous_question_was_about():
    history = [turn("Where did Ukrainian forces recover a missile?", answer="the Poltava region")]
    assert resolve_query("When was it recovered?", history).startswith("When was the missile recovered?")


def test_a_new_counted_noun_replaces_the_focus_of_an_earlier_turn_too():
    history = [turn("How many containers did North Korea ship to Russia?", answer="13,000"),
               turn("What was in them?", "What was in the containers? North Korea ship Russia",
                    answer="artillery shells")]
    assert "containers" not in resolve_query("And how many shells?", history)


def test_the_verb_after_do_or_a_modal_is_not_carried():
    assert salient_terms("How many containers did North Korea ship to Russia?") == [
        "containers", "North Korea", "Russia"]


def test_a_noun_after_a_named_adjective_is_kept_as_the_subject():
    assert salient_terms("Where did Ukrainian forces recover a missile?") == ["Ukrainian", "forces", "missile"]


@pytest.mark.parametrize(("question", "asks"), [
    ("Who says so?", True), ("who said that?", True), ("According to whom?", True), ("Says who?", True),
    ("And who says so?", True), ("Where does that figure come from?", True), ("What is the source?", True),
    ("Who said guardrails can only take so much?", False),  # a question of its own
    ("Who says the war is over?", False),
])
def test_a_question_about_the_previous_answers_source_is_recognised(question, asks):
    from qa.followup import asks_for_source

    assert asks_for_source(question) is asks


ELECTION = [
    turn("Who won the Harwick mayoral election?", answer="Sofia Marchetti"),
    turn("How many votes did she get?", "How many votes did she get? Sofia Marchetti Harwick mayoral election",
         answer="48,312"),
]


@pytest.mark.parametrize("follow_up, query", [
    # Someone else in the previous question's place; who "she" was is not carried along, except
    # where the phrase says whose ("her opponent": Sofia Marchetti's).
    ("And her opponent?", "How many votes did her opponent get? Sofia Marchetti Harwick mayoral election"),
    ("And Pike?", "How many votes did Pike get? Harwick mayoral election"),
    ("What about the Labour candidate?", "How many votes did the Labour candidate get? Harwick mayoral election"),
])
def test_a_noun_phrase_alone_asks_the_previous_question_of_it(follow_up, query):
    assert resolve_query(follow_up, ELECTION) == query


def test_a_name_after_her_opponent_drops_whom_her_stood_for():
    history = [*ELECTION, turn("And her opponent?",
                               "How many votes did her opponent get? Sofia Marchetti Harwick mayoral election",
                               answer="46,905")]
    assert resolve_query("And Pike?", history) == "How many votes did Pike get? Harwick mayoral election"


def test_only_a_whole_question_asked_again_of_another_leaves_its_answer_out():
    from qa.followup import asks_again_of_another

    assert asks_again_of_another("And her opponent?", ELECTION)
    assert not asks_again_of_another("And when?", ELECTION)
    # After "And her opponent?", "And Pike?" may ask of the same man: his answer may stand.
    history = [*ELECTION, turn("And her opponent?", "How many votes did her opponent get?", answer="46,905")]
    assert not asks_again_of_another("And Pike?", history)


def test_a_second_noun_phrase_replaces_the_first():
    history = [*ELECTION, turn("And her opponent?", "How many votes did her opponent get? Harwick mayoral election",
                               answer="46,905")]
    assert resolve_query("And the Labour candidate?", history) == (
        "How many votes did the Labour candidate get? Harwick mayoral election")


def test_a_place_after_a_preposition_replaces_the_previous_questions_place():
    history = [turn("When did Kipchoge run the marathon in Vienna?", answer="Saturday")]
    assert resolve_query("And in Berlin?", history) == "When did Kipchoge run the marathon in Berlin?"


@pytest.mark.parametrize("follow_up", ["And when?", "And how many shells?", "And the turnout?"])
def test_other_fragments_keep_the_previous_topic_instead(follow_up):
    # A wh-fragment, a new counted noun, or a thing that is not who "she" was.
    query = resolve_query(follow_up, ELECTION)
    assert query.startswith(follow_up) and "Harwick" in query


def test_their_with_a_noun_before_it_in_the_question_is_not_a_follow_up():
    assert not is_follow_up("How many workers will lose their jobs at the Dunmore plant?")
    assert is_follow_up("How many of their troops were killed?")


def test_a_who_says_so_turn_lends_no_topic_words():
    # Its query quotes the answer it asked about; the topic is the turn's before it.
    history = [turn("How many votes did Greta Lindqvist get?", answer="18,412"),
               turn("Who says so?", 'Who says "18,412"?', answer="the city's election office")]
    query = resolve_query("And how many votes did Hendry get?", history)
    assert "18,412" not in query and "Lindqvist" in query


@pytest.mark.parametrize(("question", "leans"), [
    ("Where was the manifesto posted?", True),  # "the manifesto": read as typed (qa.assistant)
    ("What led to the explosion?", True),
    ("When was it recovered?", False),  # a pronoun to resolve
    ("And how many shells?", False),  # a connective
    ("How many people were on board?", False),  # the vehicle left out
    ("Who is the president of South Korea?", False),  # names its subject: standalone
])
def test_a_question_leaning_only_on_a_definite_description(question, leans):
    from qa.followup import leans_by_definite_only

    assert leans_by_definite_only(question) is leans


@pytest.mark.parametrize("question", ["How many were killed?", "How many have already arrived?", "How many arrived?"])
def test_a_count_that_does_not_say_what_it_counts_counts_what_the_conversation_counts(question):
    history = [turn("How many North Korean troops could eventually be sent?", answer="12,000")]
    assert is_follow_up(question)
    assert "troops" in resolve_query(question, history)
    # one that names its own subject stands alone
    assert not is_follow_up("How many were killed in Magnitogorsk?")


@pytest.mark.parametrize(("previous", "follow", "expected"), [
    ("How many people did the police say marched in Port Alder?", "And according to the union?",
     "How many people did the union say marched in Port Alder?"),
    ("How many people marched in Port Alder according to the police?", "And according to the organisers?",
     "How many people marched in Port Alder according to the organisers?"),
    ("How many people marched in Port Alder according to the police?", "And by the union?",
     "How many people marched in Port Alder according to the union?"),
])
def test_and_according_to_another_source_asks_the_same_figure_of_it(previous, follow, expected):
    assert resolve_query(follow, [turn(previous, answer="12,000")]).startswith(expected)


def test_and_according_to_another_source_needs_a_source_in_the_previous_question():
    assert not resolve_query("And according to the union?",
                             [turn("How many people marched in Port Alder?", answer="12,000")]).startswith(
        "How many people marched in Port Alder according")
