"""Candidate answers (qa.candidates): distinct answers from the reader's spans.

Built from real dataclasses (passages as the store returns them, spans as the reader returns
them); no model is involved, so each rule is checked on its own.
"""

import pytest

from qa.answer_type import profile
from qa.candidates import CandidateBuilder, figures, same_answer
from qa.chunking import Chunk
from qa.reader import Calibration, ReaderOutput, Span
from qa.retrieval import Passage
from qa.stores.metadata import ChunkRecord

TEXT = ("Fans gathered on the roof of the Marlow Tower on Saturday night. About 20,000 people watched "
        "the fireworks from the Marlow Tower, the old grain store. Police said 1,500 officers were on duty.")


def passage(article_id="a", text=TEXT, similarity=0.7):
    return Passage(ChunkRecord(1, Chunk(article_id, 0, 0, len(text), text), "Fireworks", None, None, None), similarity)


def span(text, score, occurrence=0, context=0, source=TEXT):
    start = -1
    for _ in range(occurrence + 1):
        start = source.index(text, start + 1)
    return Span(context, start, start + len(text), text, score, 0.0)


def build(question, spans, passages=None):
    builder = CandidateBuilder(Calibration(), None, lambda _id: TEXT)
    return builder.build(profile(question), passages or [passage()], ReaderOutput(spans, [0.0]))


def test_the_same_answer_in_other_words_is_one_candidate_with_every_place():
    cands = build("Where did fans watch the fireworks?", [
        span("roof of the Marlow Tower", 6.0),
        span("Marlow Tower, the old grain store", 5.0),
        span("the Marlow Tower", 4.0, occurrence=1),
    ])
    assert len(cands) == 1
    assert cands[0].candidate.answer == "roof of the Marlow Tower"
    assert len(cands[0].candidate.citations) == 2  # two places; the second wording overlaps the third


def test_a_span_across_a_sentence_end_is_not_an_answer():
    cands = build("Where did fans watch the fireworks?", [
        span("Marlow Tower on Saturday night. About 20,000", 9.0),
        span("Marlow Tower", 3.0),
    ])
    assert [c.candidate.answer for c in cands] == ["Marlow Tower"]


def test_different_numbers_never_merge():
    assert same_answer("nine", "9") and same_answer("at least nine people", "9 people")  # one figure
    assert not same_answer("fourteen", "sixteen") and not same_answer("nine", "90")
    assert not same_answer("1500", "12000")
    assert same_answer("as many as 1500", "1500")
    assert same_answer("roof of marlow tower", "marlow tower")
    assert not same_answer("marlow tower", "grain store")
    assert not same_answer("south korea", "north korea")


def test_the_counted_thing_decides_unit_match():
    cands = build("How many officers were on duty at the fireworks?", [span("20,000", 5.0), span("1,500", 4.0)])
    by_answer = {c.candidate.answer: c.features for c in cands}
    assert by_answer["1,500"].unit_match == 1.0 and by_answer["1,500"].unit_miss == 0.0
    assert by_answer["20,000"].unit_miss == 1.0  # 20,000 people


def test_any_count_of_people_may_answer_how_many_people():
    cands = build("How many people were on duty at the fireworks?", [span("1,500", 4.0)])
    assert cands[0].features.unit_miss == 0.0


def test_a_count_of_people_may_be_the_kind_of_people_asked_about_if_it_says_what_happened():
    text = ("Police said about 4,000 fans without tickets had gathered outside the stadium, and that 23 "
            "people were arrested after scuffles near the east gate.")
    assert build_on(text, "How many fans were arrested?", ["23", "4,000"])["23"].features.unit_miss == 0.0
    # 23 people arrested are not fans injured
    assert build_on(text, "How many fans were injured?", ["23"])["23"].features.unit_miss == 1.0
    outbreak = ("The team reported a total of 5667 cases during the outbreak. Out of these, 1846 persons were "
                "hospitalized and 1720 had already been discharged.")
    found = build_on(outbreak, "How many of the cases were hospitalized?", ["1846", "5667"])
    assert found["1846"].features.unit_miss == 0.0 and not found["1846"].unstated
    assert found["5667"].unstated == ("hospitalized",)  # all the cases, not those in hospital
    mexicans = "Six Mexican nationals were killed in the attack, and seven more were injured."
    part = build_on(mexicans, "How many of the Mexican nationals were injured?", ["seven"])["seven"]
    assert part.features.unit_miss == 0.0 and not part.unstated  # a part of the nationals, in a bare number


def test_question_names_absent_from_the_article_are_reported():
    cands = build("How many people watched the fireworks in Lisbon in 2019?", [span("20,000", 5.0)])
    assert cands[0].unmentioned == ("Lisbon", "2019") and cands[0].features.names_missing == 1.0
    cands = build("How many people watched the fireworks at the Marlow Tower?", [span("20,000", 5.0)])
    assert cands[0].unmentioned == () and cands[0].features.names_missing == 0.0


@pytest.mark.parametrize(("text", "piece", "cut"), [
    ("shipped as many as 13,000 containers", "13", True),
    ("shipped as many as 13,000 containers", "13,000", False),
    ("the first batch of 2,600 soldiers", "2,", True),
    ("the first batch of 2,600 soldiers", ",600", True),
    ("arrived in 2019, officials said", "2019,", False),
    ("a 1.5% rise", "1", True),
    ("a 1.5% rise", "1.5%", False),
    ("the Kyivstar network", "Kyiv", True),
    ("in Kyiv, officials said", "Kyiv", False),
    ("arrived in 2019.", "2019", False),
    ("(1,500)", "1,500", False),
    ("eight million 122-mm and 152-mm shells", "eight million 122-mm and 152", True),
    ("the Kyiv-based group", "Kyiv", True),
    ("a 152-mm shell", "152-mm", False),
    ("in the 2019-20 season", "2019-20", False),
    ("won in 2:05:48 on Sunday", "2", True),  # a clock time's hours
    ("won in 2:05:48 on Sunday", "2:05:48", False),
])
def test_a_span_that_cuts_a_word_or_number_is_not_an_answer(text, piece, cut):
    from qa.candidates import cuts_a_word

    start = text.index(piece)
    assert cuts_a_word(text, start, start + len(piece)) is cut


REPORT = ("Police said 1,500 officers were on duty at the parade. Next year organisers expect the number to rise "
          "to 2,000. The council paid 40,000 for the floats and $12,000 for the fireworks.")
WORDS_CLOSE = {("soldiers", "officers"), ("policemen", "officers")}  # as the embedder would judge them


def build_on(text, question, pieces, related=None):
    """The candidates, by answer, read from the spans ``pieces`` of ``text`` (best first)."""
    builder = CandidateBuilder(Calibration(), None, lambda _id: text, related=related)
    spans = [span(piece, 5.0 - i, source=text) for i, piece in enumerate(pieces)]
    return {c.candidate.answer: c for c in builder.build(profile(question), [passage(text=text)],
                                                         ReaderOutput(spans, [0.0]))}


def build_report(question, pieces, related=None):
    return build_on(REPORT, question, pieces, related)


def related(word, others):
    return max(1.0 if w == word or (word, w) in WORDS_CLOSE else 0.2 for w in others)


def unit_misses(text, question, pieces):
    """``unit_miss`` of each candidate read from ``pieces`` of ``text``, by answer."""
    return {a: c.features.unit_miss for a, c in build_on(text, question, pieces, related).items()}


def test_a_bare_number_counts_what_the_sentence_before_counts():
    # "the number ... 2,000": officers, named in the sentence before
    assert build_report("How many officers will be on duty next year?", ["2,000"])["2,000"].features.unit_match == 1.0
    assert build_report("How many policemen will be on duty next year?", ["2,000"],
                        related)["2,000"].features.unit_match == 1.0


def test_a_bare_number_with_no_word_for_the_counted_thing_nearby_does_not_count_it():
    # the sample article's "could eventually rise to 12,000" (troops) offered for tanks and workers
    cands = build_report("How many tanks will be at the parade next year?", ["2,000"], related)
    assert cands["2,000"].features.unit_miss == 1.0
    # without word similarities qa cannot tell, and does not judge
    cands = build_report("How many tanks will be at the parade next year?", ["2,000"])
    assert cands["2,000"].features.unit_miss == 0.0 and cands["2,000"].features.unit_match == 0.0


def test_a_question_about_money_wants_a_sum_with_its_currency():
    from qa.answer_type import asks_money

    assert asks_money("How much is Russia paying North Korea for its troops?")
    assert asks_money("How much did the fireworks cost?") and asks_money("What was the price of the tickets?")
    assert not asks_money("How much rain fell on Sunday?") and not asks_money("How many troops were paid?")
    cands = build_report("How much did the council pay for the floats and the fireworks?", ["40,000", "$12,000"])
    assert cands["40,000"].features.unit_miss == 1.0  # "40,000": no currency, it may count anything
    assert cands["$12,000"].features.unit_miss == 0.0 and cands["$12,000"].features.unit_match == 1.0


@pytest.mark.parametrize(("text", "piece", "whole"), [
    ("eight million 122-mm and 152-mm shells", "eight million 122-mm and 152", "eight million 122-mm and 152-mm"),
    ("the Kyiv-based group", "Kyiv", "Kyiv-based"),
    ("the Kyiv-based group", "based", "Kyiv-based"),
    ("a 152-mm shell", "152-mm", "152-mm"),
    ("in Kyiv - officials said", "Kyiv", "Kyiv"),
])
def test_a_span_is_widened_to_whole_hyphenated_words(text, piece, whole):
    from qa.candidates import widen_to_compound

    start = text.index(piece)
    s, e = widen_to_compound(text, start, start + len(piece))
    assert text[s:e] == whole


def test_the_dateline_is_not_when_the_event_happened():
    from qa.answer_type import is_dateline

    assert is_dateline("Tuesday, March 5, 2019") and is_dateline("March 5th, 2019")
    assert not is_dateline("On Sunday, the capsule docked.") and not is_dateline("")
    cands = build_on("Tuesday, March 5, 2019\n\nOn Sunday, the SpaceX Crew Dragon capsule docked with the station.",
                     "When did the Crew Dragon dock with the station?", ["March 5, 2019", "Sunday"])
    assert list(cands) == ["Sunday"]


def test_a_bare_number_is_not_a_count_its_sentence_gives_with_another_number():
    cands = build_on("The magnitude of the earthquake was 6.6 and 1885 aftershocks had occurred since.",
                     "How many aftershocks occurred after the earthquake?", ["6.6", "1885"])
    assert cands["6.6"].features.unit_miss == 1.0 and cands["1885"].features.unit_match == 1.0


def test_a_number_joined_to_a_unit_measures_the_thing_it_does_not_count_it():
    cands = build_on("North Korea has shipped eight million 122-mm and 152-mm shells to Russia.",
                     "How many shells has North Korea shipped?", ["152-mm shells", "eight million"])
    assert cands["152-mm shells"].features.unit_miss == 1.0 and cands["eight million"].features.unit_miss == 0.0


SPILL = ("A semi truck broke through the guardrail; around 50 gallons of diesel fuel, officials said, spilled "
         "and ignited. Over 400 firefighters took part in putting out the blaze. Some 300 troops arrived on Monday.")


def test_a_measure_of_the_thing_asked_about_counts_it():
    # "How much diesel fuel ...": "50 gallons" measures the diesel named after "of"
    cands = build_on(SPILL, "How much diesel fuel spilled in the crash?", ["50 gallons"], related)
    assert cands["50 gallons"].features.unit_match == 1.0
    cands = build_on(SPILL, "How much water spilled in the crash?", ["50 gallons"], related)
    assert cands["50 gallons"].features.unit_miss == 1.0  # a measure of something else


def test_a_figure_is_of_another_event_only_when_its_sentence_states_one():
    # "fought" is in no event group and the sentence states no other event: not refused for it
    cands = build_on(SPILL, "How many firefighters fought the blaze?", ["Over 400"], related)
    assert cands["Over 400"].unstated == ()
    # "killed": the troops' sentence states another event ("arrived"), so 300 is not troops killed
    cands = build_on(SPILL, "How many troops were killed on Monday?", ["300"], related)
    assert cands["300"].unstated == ("killed",)


def test_a_news_event_of_the_table_must_be_stated():
    # "died" is a news event qa knows: a figure whose sentence does not state it is not a toll
    text = "The 1973 building was home to over 1,000 people. Rescuers worked through the night."
    cands = build_on(text, "How many people died in the building?", ["over 1,000"], related)
    assert cands["over 1,000"].unstated == ("died",)


@pytest.mark.parametrize(("text", "piece", "whole"), [
    ("ran it in 1 hour 59 minutes 40.2 seconds in Vienna", "40.2 seconds", "1 hour 59 minutes 40.2 seconds"),
    ("won in 2 hours, 5 minutes and 48 seconds, breaking", "2 hours", "2 hours, 5 minutes and 48 seconds"),
    ("took 40 minutes to arrive", "40 minutes", "40 minutes"),
    ("in 5 minutes", "5", "5"),  # a bare number is not widened
])
def test_a_span_is_widened_to_the_whole_duration(text, piece, whole):
    from qa.candidates import widen_to_duration

    start = text.index(piece)
    s, e = widen_to_duration(text, start, start + len(piece))
    assert text[s:e] == whole


@pytest.mark.parametrize(("text", "piece", "kept"), [
    ("began at 10:39 a.m. local time (1639 UTC) on Saturday", "10:39 a.m. local time (1639", "10:39 a.m. local time"),
    ("began at 10:39 a.m. local time (1639 UTC) on Saturday", "UTC) on Saturday", "on Saturday"),
    ("began at 10:39 a.m. local time (1639 UTC) on Saturday", "(1639 UTC)", "(1639 UTC)"),
    ("Kim (the leader) said so", "Kim (the leader)", "Kim (the leader)"),
    ("to use \u201call available means\u201d to respond", "all available means\u201d", "all available means"),
    ("to use \u201call available means\u201d to respond", "\u201call available means", "all available means"),
    ("to use \u201call available means\u201d to respond", "\u201call available means\u201d", "\u201call available means\u201d"),
    # a full stop or comma at the end goes, an abbreviation's point stays
    ("The organisers said the march was 30,000 strong.", "30,000 strong.", "30,000 strong"),
    ("It struck a sandbank at about 3:40 a.m.", "3:40 a.m.", "3:40 a.m."),
    ("The suspect was taken to the U.S.", "the U.S.", "the U.S."),
    ("About 4,500 residents, officials said", "4,500 residents,", "4,500 residents"),
])
def test_a_bracket_the_span_never_closes_is_cut_off(text, piece, kept):
    from qa.candidates import trim_unclosed

    start = text.index(piece)
    s, e = trim_unclosed(text, start, start + len(piece))
    assert text[s:e] == kept


def test_another_article_gives_the_same_words_as_a_source_only_about_the_same_subject(embedder):
    council = "The city council voted on Wednesday to close the central library, officials said."
    final = "The football cup final was played on Wednesday in Madrid before 60,000 fans."
    texts = {"council": council, "final": final, "vote": "The council said on Wednesday that the library vote had passed."}
    passages = [passage(a, t) for a, t in texts.items()]
    spans = [Span(i, t.index("Wednesday"), t.index("Wednesday") + 9, "Wednesday", 5.0 - i, 0.0)
             for i, t in enumerate(texts.values())]
    builder = CandidateBuilder(Calibration(), None, texts.__getitem__, embed=embedder.encode)
    [cand] = builder.build(profile("When did the council vote to close the library?"), passages,
                           ReaderOutput(spans, [0.0] * 3))
    assert {c.article_id for c in cand.candidate.citations} == {"council", "vote"}


def test_the_same_words_elsewhere_in_the_article_cite_it_only_about_the_same_subject(embedder):
    # A new user's case: "Poltava region of Ukraine" also cited the opening sentence's "war in
    # Ukraine" and a later "troops in Ukraine" (same words, the same answer, not about the missile).
    text = ("Sources have raised alarm over North Korean troops in Russia's war in Ukraine. "
            "Earlier this month, Ukrainian forces recovered a missile in the Poltava region of Ukraine. "
            "South Korea's president convened a security meeting on Friday. "
            "The deployment of North Korean troops in Ukraine has broad implications.")
    spans = [span("Poltava region of Ukraine", 6.0, source=text), span("Ukraine", 3.0, source=text),
             span("Ukraine", 2.0, occurrence=2, source=text)]
    builder = CandidateBuilder(Calibration(), None, lambda _id: text, embed=embedder.encode)
    cands = builder.build(profile("Where was the missile recovered?"), [passage(text=text)], ReaderOutput(spans, [0.0]))
    best = cands[0]
    assert best.candidate.answer == "Poltava region of Ukraine"
    assert [text[c.start:c.end] for c in best.candidate.citations] == ["Poltava region of Ukraine"]


def test_a_persons_age_set_off_after_the_name_counts_nothing_else():
    from qa.candidates import is_age_aside

    text = "Wanjiru, 27, broke away near the 35-kilometer mark. He won by 52 seconds, 7 clear of the pack."
    age = text.index("27")
    assert is_age_aside(text, age, age + 2)
    assert not is_age_aside(text, text.index("52"), text.index("52") + 2)
    assert not is_age_aside(text, text.index("7 clear"), text.index("7 clear") + 1)
    race = passage(text=text)
    for question, unit_miss in (("By how much did Wanjiru win?", True), ("How old is Wanjiru?", False)):
        [cand] = CandidateBuilder(Calibration(), None, lambda _id: text).build(
            profile(question), [race], ReaderOutput([Span(0, age, age + 2, "27", 5.0, 0.0)], [0.0]))
        assert bool(cand.features.unit_miss) is unit_miss, question


def test_the_side_beaten_cannot_answer_who_won():
    text = "Greta Lindqvist was elected mayor on Sunday, defeating incumbent Paul Hendry in a close race."
    won = build_on(text, "Who won the mayoral race?", ["Paul Hendry", "Greta Lindqvist"])
    assert won["Paul Hendry"].defeated and not won["Greta Lindqvist"].defeated
    # Asked the other way round, the beaten side is the answer.
    assert not build_on(text, "Who did Lindqvist defeat?", ["Paul Hendry"])["Paul Hendry"].defeated
    cup = "Northport City won the cup on Saturday, beating Eastfield Rovers 4-3 on penalties."
    assert build_on(cup, "Which team won the cup?", ["Eastfield Rovers"])["Eastfield Rovers"].defeated


def test_a_span_with_two_figures_is_not_one_figure():
    # Another source's figure shown at the candidate floor must be one figure, not a stretch of text.
    assert figures("22 people on Monday, reported officials, with 25") == 2
    assert figures("1.5 million") == figures("eight million") == figures("61,450") == 1


@pytest.mark.parametrize(("question", "aside_kept"), [
    ("When did the shooting begin?", False),  # "1639" only restates the local time
    ("At what time UTC did the shooting begin?", True),  # asked in the aside's terms
])
def test_a_figure_in_brackets_restating_the_one_before_is_not_a_candidate(question, aside_kept):
    text = "The shooting began at 10:39 a.m. local time (1639 UTC) on Saturday."
    builder = CandidateBuilder(Calibration(), None, lambda _id: text)
    spans = [span("1639", 9.0, source=text), span("10:39 a.m. local time", 8.0, source=text)]
    cands = builder.build(profile(question), [passage(text=text)], ReaderOutput(spans, [0.0]))
    answers = [c.candidate.answer for c in cands]
    assert ("1639" in answers) is aside_kept
    assert "10:39 a.m. local time" in answers
    if not aside_kept:
        assert answers[0] == "10:39 a.m. local time"


def test_a_date_from_a_sentence_stating_another_event_is_not_the_date_asked_for():
    text = ("Earlier this month, Ukrainian forces recovered a missile in the Poltava region. North Korea "
            "has been delivering ammunition to Russia since August, officials said.")
    cands = build_on(text, "When was the missile recovered?", ["August", "Earlier this month"])
    assert cands["August"].unstated == ("recovered",)  # the sentence before states it, not its own
    assert cands["Earlier this month"].unstated == ()
    # A verb that only says something began is no event a date's sentence must repeat.
    cands = build_on(text, "When did the recovery begin?", ["August"])
    assert cands["August"].unstated == ()


@pytest.mark.parametrize(("text", "question", "piece", "part"), [
    ("The hospital said 17 of the injured were being treated for burns.", "How many were injured?", "17", True),
    ("Police said 23 people had been detained, including two minors.", "How many people were arrested?", "two",
     True),
    ("The blast killed 12, including three children.", "How many children were killed?", "three", False),
    ("Okafor said the toll did not include seven workers who died later.", "How many people died?", "seven",
     True),
    ("Officials said 1,500 of the troops have arrived.", "How many troops have arrived?", "1,500", False),
    ("The deliveries are estimated to include eight million 122-mm and 152-mm shells.",
     "How many shells are the deliveries estimated to include?", "eight million", False),
])
def test_a_part_of_the_total_does_not_count_the_total(text, question, piece, part):
    from qa.candidates import is_part

    start = text.index(piece)
    assert is_part(profile(question), text, start, start + len(piece)) is part


def test_where_the_counted_were_is_not_what_happened_to_them():
    text = ("The union put the death toll at 19, saying bodies had been found. About 1,400 workers were "
            "inside when the fire started, the manager said.")
    cands = build_on(text, "How many workers were killed in the fire?", ["1,400", "19"], related)
    assert cands["1,400"].unstated == ("killed",) and cands["19"].unstated == ()


def test_a_count_of_another_thing_the_question_names_does_not_count_the_people():
    text = "Marc Dewulf said they counted 1,300 tractors this morning, and some 5,000 farmers took part."
    cands = build_on(text, "How many people drove tractors into Brussels?", ["1,300", "5,000"], related)
    assert cands["1,300"].features.unit_miss == 1.0 and cands["5,000"].features.unit_miss == 0.0


def test_the_day_of_a_date_counts_nothing():
    text = "The fire broke out on May 22 and killed 12 workers, officials said."
    cands = build_on(text, "How many people were killed in the fire?", ["22", "12"], related)
    assert cands["22"].features.unit_miss == 1.0 and cands["12"].features.unit_miss == 0.0
    # in a wire dateline it is not read at all
    text = "NARAYANGANJ, May 22 (Trial Newswire) - A fire killed 12 workers, officials said."
    assert "22" not in build_on(text, "How many people were killed in the fire?", ["22", "12"], related)


@pytest.mark.parametrize(("text", "question", "piece", "another"), [
    ("A fire broke out, killing at least 12 workers and injuring dozens.", "How many were injured?", "12", True),
    ("A fire broke out, killing at least 12 workers and injuring dozens.", "How many were killed?", "12", False),
    ("The fire service said 12 workers had been killed and 62 injured.", "How many were killed?", "62", True),
    ("The fire service said 12 workers had been killed and 62 injured.", "How many were injured?", "62", False),
])
def test_the_event_of_a_figures_own_clause_decides_which_count_it_is(text, question, piece, another):
    cands = build_on(text, question, [piece], related)
    assert CandidateBuilder.clause_states_another(profile(question), cands[piece]) is another


def test_a_sum_for_something_else_is_not_the_sum_asked_about():
    text = ("Prime Minister Stefan Rusev announced 50 million leva in emergency aid. The opposition said the sum "
            "was too small, putting the damage at 400 million leva.")
    cands = build_on(text, "How much money did the government announce in emergency aid?",
                     ["50 million leva", "400 million leva"])
    assert cands["50 million leva"].features.unit_miss == 0.0 and cands["400 million leva"].features.unit_miss == 1.0
    cands = build_on(text, "How much damage did the floods cause?", ["400 million leva", "50 million leva"])
    assert cands["400 million leva"].features.unit_miss == 0.0 and cands["50 million leva"].features.unit_miss == 1.0


def test_a_wire_datelines_date_is_when_the_story_was_filed_not_when_the_event_happened():
    text = ("Fire at Sunrise Garments factory in Kolmar kills at least 12\nKOLMAR, November 18, 2021 (Wire) \u2014 A fire "
            "tore through the factory late on Tuesday, killing at least 12 workers. It broke out at about 9:15 p.m.")
    cands = build_on(text, "When did the Kolmar fire break out?", ["November 18, 2021", "Tuesday", "9:15 p.m."])
    assert "November 18, 2021" not in cands and {"Tuesday", "9:15 p.m."} <= set(cands)


def test_a_part_counted_in_the_wholes_noun_counts_it_and_the_whole_is_not_what_happened():
    text = "Twenty-two of the train's 80 cars left the tracks, the safety board said."
    cands = build_on(text, "How many cars left the tracks in Millbrook?", ["80", "Twenty-two"])
    assert cands["Twenty-two"].features.unit_miss == 0.0 and cands["80"].features.unit_miss == 1.0


def _dated_passage(text, date):
    return Passage(ChunkRecord(1, Chunk("a", 0, 0, len(text), text), "March", None, date, None), 0.7)


def test_a_year_the_question_names_must_be_beside_the_answer_in_an_article_of_another_year():
    text = ("Police said 12,000 people marched through Port Alder on Monday. A similar march in March 2019 drew "
            "40,000 people, police said at the time.")
    builder = CandidateBuilder(Calibration(), None, lambda _id: text)
    spans = [span("12,000", 5.0, source=text), span("40,000", 4.0, source=text)]

    def build_dated(question, date):
        return {c.candidate.answer: c for c in builder.build(profile(question), [_dated_passage(text, date)],
                                                              ReaderOutput(spans, [0.0]))}

    cands = build_dated("How many people marched in Port Alder in 2019?", "2023-05-02")
    assert cands["12,000"].other_year == "2019" and cands["12,000"].names_missing
    assert cands["40,000"].other_year is None and not cands["40,000"].names_missing
    assert cands["40,000"].stated_year == "2019" and cands["12,000"].stated_year is None
    # an article of that year, or of no known date: nothing says 2019 is another time
    assert build_dated("How many people marched in Port Alder in 2019?", "2019-03-02")["12,000"].other_year is None
    assert build_dated("How many people marched in Port Alder in 2019?", None)["12,000"].other_year is None


@pytest.mark.parametrize(("text", "piece", "superseded"), [
    ("Casualties increased to 167 from a previous 93 injured people.", "93", True),
    ("Casualties increased to 167 from a previous 93 injured people.", "167", False),
    ("Bodies recovered increased the confirmed death toll from fourteen to 31.", "fourteen", True),
    ("Bodies recovered increased the confirmed death toll from fourteen to 31.", "31", False),
    ("Flights from 12 countries were cancelled.", "12", False),
    ("Imports from 12 countries rose to record levels.", "12", False),
    ("Casualties increased to 167 from a previous 93 injured people.", "167 from a previous 93", True),
])
def test_what_a_count_was_before_it_changed_is_not_what_it_is(text, piece, superseded):
    from qa.candidates import is_superseded

    start = text.index(piece)
    assert is_superseded(text, start, start + len(piece)) is superseded


def test_a_superseded_figure_does_not_answer_unless_the_question_asks_what_it_was():
    text = "The NDRRMC said casualties increased to 167 from a previous 93 injured people."
    assert build_on(text, "How many people were injured?", ["93", "167"], related)["93"].features.unit_miss == 1.0
    cands = build_on(text, "How many people were injured in the previous count?", ["93", "167"], related)
    assert cands["93"].features.unit_miss == 0.0


def test_a_figure_said_of_another_place_right_before_it_is_of_another_event():
    text = ("Officials said the death toll of the El Paso shooting rose to 22 people on Monday. The El Paso "
            "shooting preceded another one less than thirteen hours later in Dayton, Ohio where ten people died.")
    cands = build_on(text, "How many people died in the El Paso shooting?", ["ten", "22"], related)
    assert cands["ten"].other_place == "Dayton" and cands["ten"].names_missing
    assert cands["22"].other_place is None and not cands["22"].names_missing
    # the question's own place right before the figure is no other place
    text = "A gunman opened fire in El Paso, where 22 people died."
    assert build_on(text, "How many people died in the El Paso shooting?", ["22"], related)["22"].other_place is None


def test_a_place_where_the_questions_subject_was_is_not_another_event():
    text = "Kane Tanaka died in Japan at age 119. Born in 1903, she worked in the family store until she was 103."
    cands = build_on(text, "Kane Tanaka, the world's oldest person, died this week. How old was she?", ["119"], related)
    assert cands["119"].other_place is None and not cands["119"].names_missing


def test_what_a_sum_is_for_may_come_before_a_comma():
    text = "Foreign investment in Ukraine, at about $40 a head, is one of the lowest in the region."
    cands = build_on(text, "How much money has the US committed to Ukraine in assistance?", ["$40"])
    assert cands["$40"].features.unit_miss == 1.0


def test_a_count_of_everyone_is_not_a_count_of_a_group_among_them():
    text = ("At least 19 people died when the dam gave way, the ministry said. The hospital put the death toll "
            "at 26, including five children.")
    assert unit_misses(text, "How many children died in the flood?", ["five", "19"]) == {"five": 0.0, "19": 1.0}
    # ... while a count of people may still be the kind of people asked about
    assert unit_misses(text, "How many residents died in the flood?", ["19"]) == {"19": 0.0}


def test_a_bound_a_rule_sets_is_not_a_count():
    text = ("The archive counts events where four or more people are killed or injured as mass shootings. "
            "Officials said 25 people were injured.")
    assert unit_misses(text, "How many people were injured in the shooting?", ["four", "25"]) == {"four": 1.0, "25": 0.0}


def test_a_part_of_the_whole_answers_what_the_part_did_and_the_two_together_are_no_answer():
    text = "The union said 41,000 of the province's 52,000 teachers took part."
    pieces = ["52,000", "41,000 of the province's 52,000", "41,000"]
    # the whole is not those who took part, and the two together are no answer
    assert unit_misses(text, "How many teachers took part in the strike?", pieces) == {
        "52,000": 1.0, "41,000 of the province's 52,000": 1.0, "41,000": 0.0}
    # asked for the whole, the whole answers
    assert unit_misses(text, "How many teachers are there in all?", ["52,000"]) == {"52,000": 0.0}


@pytest.mark.parametrize("sum_", ["612 million crowns", "4.2 billion kronor", "80 million korun"])
def test_a_sum_in_crowns_is_a_sum_of_money(sum_):
    text = f"The extension of the tram network will cost {sum_}, the audit office said."
    assert unit_misses(text, "How much will the tram extension cost?", [sum_]) == {sum_: 0.0}


@pytest.mark.parametrize(("text", "figure", "year", "tied"), [
    ("The fire is the largest since 2018, when a fire near Valby burned 5,400 hectares and destroyed 60 homes.",
     "60", "2018", True),
    ("Floods in the same valley in 2016 killed seven people.", "seven", "2016", True),
    ("60 homes were destroyed in 2018.", "60", "2018", True),
    ("the record held by Boros, who won in 1968 at age 48", "1968 at age 48", "1968", True),
    # an aside about the subject: the first line's cost, not a figure of 2004's news
    ("Halden's first tram line, which opened in 2004, cost 280 million crowns.", "280", "2004", False),
    ("60 homes were destroyed, more than in 2018.", "60", "2018", False),
    ("The 2018 fire was smaller. This one destroyed 60 homes.", "60", "2018", False),
])
def test_a_figure_is_of_a_year_its_clause_names(text, figure, year, tied):
    from qa.candidates import of_the_year

    start = text.index(figure)
    assert of_the_year(text, start, start + len(figure), year) is tied


def test_a_sum_of_money_is_not_how_long_something_is():
    text = "The extension will cost 612 million crowns. The council has budgeted for the 7.5-kilometre line."
    assert unit_misses(text, "How long is the tram extension?", ["612 million crowns"]) == {"612 million crowns": 1.0}


def test_some_of_them_and_an_age_are_not_the_total():
    text = "At least 37 people have died, nine of them children under five, the ministry said."
    assert unit_misses(text, "How many people have died in the outbreak?", ["37", "nine", "five"]) == {
        "37": 0.0, "nine": 1.0, "five": 1.0}
    assert unit_misses(text, "How many children have died in the outbreak?", ["nine", "five"]) == {"nine": 0.0, "five": 1.0}


def test_a_part_named_by_its_own_noun_counts_only_that_noun():
    text = "The ministry said 380 schools were shut. The union said 41,000 of the province's 52,000 teachers took part."
    assert unit_misses(text, "How many schools were closed by the strike?", ["380", "41,000"]) == {"380": 0.0, "41,000": 1.0}


def test_those_something_happened_to_are_not_those_who_were_there():
    text = ("A fire tore through the factory, killing at least 12 workers. About 1,400 workers were inside "
            "when the fire started.")
    assert unit_misses(text, "How many workers were in the Kolmar factory?", ["12", "1,400"]) == {"12": 1.0, "1,400": 0.0}
    plane = "There were 190 people on board. The minister said 18 people died."
    assert unit_misses(plane, "How many people were on board the flight?", ["190", "18"]) == {"190": 0.0, "18": 1.0}
    # ... unless the figure itself says they were there
    crash = "All but one of the sixteen on-board died; no deaths were reported on the ground."
    assert unit_misses(crash, "How many people were on board?", ["sixteen"]) == {"sixteen": 0.0}


def test_a_total_is_not_what_one_ticket_costs():
    text = ("The extension will cost 612 million crowns, the audit office said. A single ticket will cost 30 crowns, "
            "the council said.")
    assert unit_misses(text, "How much will a ticket on the tram extension cost?", ["612 million crowns", "30 crowns"]) == {
        "612 million crowns": 1.0, "30 crowns": 0.0}
