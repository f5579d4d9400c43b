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


def test_fragment_follow_up_is_resolved():
    assert resolve_query("How many tanks?", conversation()) == "How many tanks? North Korean troops Russia"


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
