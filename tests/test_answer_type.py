"""Answer types and question profiles (qa.answer_type): what a question asks for."""

import pytest

from qa.answer_type import (
    AnswerType,
    asks_winner,
    attributed_terms,
    counted_noun,
    expected_type,
    fits,
    mentions,
    named_terms,
    profile,
    when_event,
    word_stems,
)


@pytest.mark.parametrize("question, kind", [
    ("How many North Korean troops have already arrived in Russia?", AnswerType.QUANTITY),
    ("How much did the stadium cost?", AnswerType.QUANTITY),
    ("What percentage of voters backed the plan?", AnswerType.QUANTITY),
    ("What was the death toll of the fire?", AnswerType.QUANTITY),
    ("What was the attendance at Harbour Stadium?", AnswerType.QUANTITY),
    ("When did it dock with the space station?", AnswerType.DATE),
    ("In what year did the war start?", AnswerType.DATE),
    ("Who is Ukraine's military intelligence chief?", AnswerType.PERSON),
    ("Which company bought the newspaper?", AnswerType.PERSON),
    ("Where will the troops arrive first?", AnswerType.PLACE),
    ("A US embassy in what country was attacked by protesters?", AnswerType.PLACE),
    ("What did the statement say?", AnswerType.OTHER),
    ("Why did the talks fail?", AnswerType.OTHER),
])
def test_expected_answer_type_of_a_question(question, kind):
    assert expected_type(question) is kind


@pytest.mark.parametrize("kind, span, expected", [
    (AnswerType.QUANTITY, "13,000", True),
    (AnswerType.QUANTITY, "nearly eleven thousand", True),
    (AnswerType.QUANTITY, "7%", True),
    (AnswerType.QUANTITY, "the Kursk region", False),
    (AnswerType.DATE, "November 1", True),
    (AnswerType.DATE, "Sunday", True),
    (AnswerType.DATE, "2019", True),
    (AnswerType.DATE, "the Kremlin", False),
    (AnswerType.PERSON, "Kyrylo Budanov", True),
    (AnswerType.PLACE, "containers filled with shells", False),
    # A people is not a place ("Which nation ...?" -> "Russians"); a rank is not a count.
    (AnswerType.PLACE, "Russians", False),
    (AnswerType.PLACE, "the Kansans", False),
    (AnswerType.PLACE, "European countries", False),
    (AnswerType.PLACE, "European Union", True),
    (AnswerType.PLACE, "New Orleans", True),
    (AnswerType.PLACE, "Japan", True),
    (AnswerType.QUANTITY, "70th", False),
    (AnswerType.QUANTITY, "70 years", True),
    (AnswerType.OTHER, "anything", None),
])
def test_whether_a_span_is_of_the_type(kind, span, expected):
    assert fits(kind, span) is expected


def test_counted_noun_is_the_head_of_how_many():
    assert counted_noun("How many North Korean troops have already arrived in Russia?") == "troops"
    assert counted_noun("How many containers of munitions has North Korea shipped?") == "containers"
    assert counted_noun("How much money did the company pay?") == "money"
    assert counted_noun("How much did the company pay?") is None
    assert counted_noun("How many measles cases did Samoa report?") == "cases"  # a compound's head
    assert counted_noun("How many aid workers were killed?") == "workers"
    assert counted_noun("How many firefighters fought the fire?") == "firefighters"
    assert counted_noun("How many people died in the collapse?") == "people"
    assert counted_noun("When did it start?") is None


def test_named_terms_are_the_capitalised_words_and_numbers_after_the_first():
    assert named_terms("How many people died in the 2019 Paris fire?") == ("2019", "Paris")
    assert named_terms("A US embassy in what country was attacked?") == ("US",)
    assert named_terms("Who won?") == ()


def test_a_name_is_mentioned_by_its_adjective_too():
    stems = word_stems("Iran and America said the Korean peninsula is calm.")
    assert mentions("Iranian", stems) and mentions("American", stems) and mentions("Korea", stems)
    assert not mentions("Germany", stems) and not mentions("2019", stems)


def test_event_words_are_what_happened_to_the_counted_thing():
    from qa.answer_type import profile

    assert profile("How many North Korean troops have been killed in Ukraine?").event == ("killed",)
    assert profile("How many North Korean troops have already arrived in Russia?").event == ("arrived",)
    assert profile("When will they be ready?").event == ()  # not a "how many" question
    # Whose the count is, not what happened: "Marchetti won 48,312 votes" answers "get".
    assert profile("How many votes did she get?").event == ()
    assert profile("How many seats do the Greens hold?").event == ()
    assert profile("How many votes did her opponent get?").event == ()
    # A part of what is counted: counted in its own noun, with what happened to it.
    assert profile("How many of the cases were hospitalized?").event == ("hospitalized",)
    assert profile("How many of the cases were hospitalized?").counted == "cases"
    assert profile("How many of them were injured?").event == ("injured",)
    # A follow-up's carried-over words (after the question mark) are not the event.
    assert profile("How many votes did she get? Sofia Marchetti Harwick mayoral election").event == ()
    # Where they were is not what happened ("carried 33 passengers" answers "on board").
    assert profile("How many passengers were on board the Conception?").event == ()
    assert profile("How many people were in the building?").event == ()
    assert profile("How many troops are stationed on the border?").event == ("stationed",)


def test_an_event_is_stated_in_its_own_words_or_a_news_synonym():
    from qa.answer_type import states

    assert states("sent", word_stems("1,500 troops have already arrived in Russia"))
    assert states("fighting", word_stems("they could be deployed to fight in Ukraine"))
    assert states("died", word_stems("the death toll rose to 39"))
    assert not states("killed", word_stems("10,000 soldiers could soon be deployed to fight"))
    assert not states("captured", word_stems("1,500 troops have already arrived in Russia"))


def test_key_names_leave_out_titles_generic_words_and_small_numbers():
    from qa.answer_type import key_names

    assert key_names(named_terms("Did President Biden visit Kyiv in 2023 with 3 US senators?")) == ("Biden", "Kyiv", "2023")


def test_what_could_happen_is_asked_by_a_modal_of_possibility_not_by_reported_speech():
    from qa.answer_type import asks_what_could_be
    assert asks_what_could_be("How many people could eventually die in the dam collapse?")
    assert asks_what_could_be("How many troops are expected to arrive?")
    assert not asks_what_could_be("How much did the engineers estimate the extension would cost?")
    assert not asks_what_could_be("How much will the extension cost?")
    # "may" in a clause of its own is permission, not what could happen
    assert not asks_what_could_be("How many hours of training are required before a driver may carry passengers?")


def test_a_requirement_is_no_time_frame():
    from qa.answer_type import time_frame
    assert time_frame("Drivers must have at least 40 hours of training") is None
    assert time_frame("40 drivers have already qualified") == "actual"


def test_words_for_when_a_figure_holds_are_compared_by_meaning():
    from qa.answer_type import time_qualifiers
    assert time_qualifiers("How many could eventually be sent?") == time_qualifiers("could ultimately rise to 12,000")
    assert time_qualifiers("have already arrived") == time_qualifiers("so far") == frozenset({"so far"})
    assert not time_qualifiers("How many could eventually be sent?") & time_qualifiers("could soon be deployed")
    assert time_qualifiers("10,000 soldiers were deployed") == frozenset()


def test_the_time_frame_of_a_figure_is_what_already_is_or_what_could_be():
    from qa.answer_type import profile, time_frame

    assert profile("How many North Korean troops have already arrived in Russia?").frame == "actual"
    assert profile("How many could eventually be sent?").frame == "prospective"
    assert profile("How many North Korean soldiers are in Russia?").frame is None  # does not say
    assert profile("Which company has said it will cut jobs?").frame is None  # not a "how many" question
    assert time_frame("a first batch of 2,600 is set to arrive in Kursk") == "prospective"
    assert time_frame("1,500 North Korean troops have already arrived") == "actual"
    assert time_frame("nearly 11,000 are training in the Far East") is None


def test_a_question_that_insists_on_what_has_happened_so_far():
    from qa.answer_type import asks_already

    assert asks_already("How many North Korean troops have already arrived in Russia?")
    assert asks_already("How many have been vaccinated so far?") and asks_already("How many to date?")
    assert not asks_already("How many North Korean troops have arrived in Russia?")
    assert not asks_already("How many could eventually be sent?")


def test_a_race_time_question_wants_a_duration():
    for q in ("What was Eliud Kipchoge's marathon time in Vienna?", "What was his winning time?"):
        assert expected_type(q) is AnswerType.DURATION
    assert expected_type("What time did the fire start?") is AnswerType.DATE  # a clock time
    assert fits(AnswerType.DURATION, "2:05:48") and fits(AnswerType.DURATION, "1 hour 59 minutes 40.2 seconds")
    assert not fits(AnswerType.DURATION, "27") and not fits(AnswerType.DURATION, "42.195 kilometers")


@pytest.mark.parametrize(("span", "fit"), [
    ("an eleven-month-old boy", True), ("a child", True), ("the police", True), ("Yoon Suk Yeol", True),
    ("the state environmental agency", True), ("the labour ministry", True),  # who: an organisation
    ("depleted munitions supplies", False), ("all available means", False),
])
def test_a_person_is_a_name_or_a_noun_that_names_one(span, fit):
    assert fits(AnswerType.PERSON, span) is fit


@pytest.mark.parametrize(("event", "text", "stated"), [
    ("attended", "Attendance was given as 61,450 by the stadium operator.", True),
    ("evacuated", "The evacuation of 300 residents began at noon.", True),
    ("attended", "The stadium holds 61,450 people.", False),
])
def test_a_noun_made_from_the_verb_states_the_event(event, text, stated):
    from qa.answer_type import states

    assert states(event, word_stems(text)) is stated


@pytest.mark.parametrize(("question", "event"), [
    ("And how many were injured?", ("injured",)),
    ("How many have been arrested so far?", ("arrested",)),
    ("How many were there?", ()),
    ("How much did it cost?", ()),  # a sum is stated in other words ("built for $1.2 billion")
])
def test_how_many_with_nothing_counted_takes_the_news_event_after_it(question, event):
    from qa.answer_type import profile

    assert profile(question).event == event


@pytest.mark.parametrize("question, terms", [
    ("Who said guardrails can only take so much?", ("guardrails", "take")),
    ("Which official warned that the dam could fail?", ("dam", "fail")),
    ("Who first reported the outbreak?", ("outbreak",)),
    ("According to whom did 1,500 troops arrive?", ("1", "500", "troops", "arrive")),
    ("Who is the suspect in the shooting?", ()),  # asks for a person, not for a source
    ("Who was told to leave the building?", ()),
    ("Who said so?", ()),  # a follow-up (qa.followup), nothing stated to look for
])
def test_a_who_said_question_gives_the_words_of_the_statement(question, terms):
    assert attributed_terms(question) == terms


def test_who_won_asks_for_the_winner_not_the_beaten():
    assert asks_winner("Who won the Northfield mayoral race?") and asks_winner("Which team won the cup final?")
    assert asks_winner("Who was elected mayor?")
    assert not asks_winner("Who did Lindqvist defeat?") and not asks_winner("Who is the mayor?")


@pytest.mark.parametrize(("question", "event"), [
    ("When was the missile recovered?", ("recovered",)),
    ("When was it recovered? Ukrainian forces", ("recovered",)),  # a follow-up's carried words
    ("When did it dock with the space station?", ("dock",)),
    ("When did Russia invade Ukraine?", ("invade",)),
    ("When were the troops sent to Russia?", ("sent",)),
    ("When did the shooting begin?", ()),  # began, broke out, started: no event to state
    ("When did the crash happen?", ()),
    ("When will they be ready for deployment?", ()),  # not a verb
    ("When is the election?", ()),
])
def test_a_when_question_asks_the_date_of_its_verb(question, event):
    assert when_event(question) == event
    assert profile(question).event == event


def test_money_questions_and_the_currencies_of_the_news():
    from qa.answer_type import MONEY_SPAN, asks_money

    # A third new user's articles: aid in leva, compensation in taka, damage put at a sum.
    assert asks_money("How much emergency aid did the Bulgarian government announce?")
    assert asks_money("How much damage did the Tarnova floods cause?")
    assert not asks_money("How much rain fell in Tarnova?")
    for sum_ in ("50 million leva", "200,000 taka", "1.2 billion naira", "30,000 hryvnias", "$5 million"):
        assert MONEY_SPAN.search(sum_), sum_
    assert not MONEY_SPAN.search("12 workers")


def test_whose_figure_a_question_asks_for():
    from qa.answer_type import profile

    assert profile("How many people did the police say marched in Porto?").source == ("police",)
    assert profile("How many took part in the march according to the university?").source == ("university",)
    assert profile("By the organisers' count, how many people marched?").source == ("organisers",)
    assert profile("How many tractors did Marc Dewulf count?").source == ("marc", "dewulf")
    assert profile("How many people died in the floods?").source == ()
    assert profile("How many votes did she get?").source == ()
    assert profile("Who said 65,000 took part?").source == ()  # not a figure question


@pytest.mark.parametrize(("question", "event"), [
    ("What is the death toll of the Tarnova floods?", ("death",)),
    ("What was the number of casualties in the attack?", ("casualties",)),
    ("What is the population of Narayanganj?", ()),
    ("What was the price of oil?", ()),  # a sum, not people that something happened to
    ("How old was the cosmonaut when he died?", ()),  # "died" is when, not what is counted
])
def test_a_count_named_by_its_news_event_takes_that_event(question, event):
    assert profile(question).event == event


@pytest.mark.parametrize(("span", "fit"), [
    ("February 1", False), ("22 May 2019", False), ("May 22, 2019", False), ("12 March", False),
    ("1,300", True), ("2019", True), ("5,000 farmers on February 1", True), ("may 5", True),
])
def test_a_day_of_a_month_is_not_a_count(span, fit):
    assert fits(AnswerType.QUANTITY, span) is fit


def test_the_day_of_a_dateline_is_inside_a_calendar_day():
    from qa.answer_type import in_calendar_day

    text = "NARAYANGANJ, Bangladesh, May 22 (Trial Newswire) - A fire killed 12 workers."
    assert in_calendar_day(text, text.index("22"), text.index("22") + 2)
    assert not in_calendar_day(text, text.index("12"), text.index("12") + 2)


@pytest.mark.parametrize("question", ["Who put the death toll of the factory fire at 19?",
                                      "Whose estimate of the death toll was highest?"])
def test_who_asks_for_a_source_even_about_a_death_toll(question):
    assert expected_type(question) is AnswerType.PERSON


def test_who_put_a_figure_at_asks_for_the_source_of_that_figure():
    assert attributed_terms("Who put the death toll at 27?") == ("death", "toll", "27")


def test_a_question_for_a_sum_wants_a_quantity_however_it_is_worded():
    from qa.answer_type import profile
    for question in ("What is the average salary of a teacher in Belmora?", "What was the total cost of the bridge?"):
        p = profile(question)
        assert p.money and p.answer_type is AnswerType.QUANTITY, question


def test_where_the_counted_were_is_no_event_though_a_name_comes_between():
    from qa.answer_type import profile
    assert profile("How many workers were in the Kolmar factory?").event == ()
    assert profile("How many troops were deployed in the Kursk region?").event == ("deployed",)
