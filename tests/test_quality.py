"""Answer quality with the trained reader in models/reader, on the sample article.

These are the product's promises on its own sample: the card question, the disagreement
between sources, a question the article cannot answer, and a follow-up conversation.
"""

import pytest

from qa.answer import Turn
from qa.answer_type import time_frame
from qa.claims import find_claim
from tests.conftest import CARD_QUESTION

pytestmark = pytest.mark.reader


@pytest.fixture(scope="module")
def assistant(sample_assistant):
    return sample_assistant


def test_card_question_is_answered_13000_citing_paragraph_10(assistant):
    answer = assistant.ask(CARD_QUESTION)
    assert answer.found and "13,000" in answer.answer and not answer.tentative
    c = answer.citations[0]
    assert c.paragraph == 10 and "containers filled with artillery shells" in c.passage
    assert c.title == "South Korea and Ukraine claim North Korea is sending troops to support Russia"


def test_every_troop_figure_a_source_of_its_own_gives_is_shown_with_its_claimant(assistant):
    answer = assistant.ask("How many North Korean soldiers are in Russia?")
    shown = {answer.answer: answer.citations[0]} | {a.answer: a.citations[0] for a in answer.alternatives}
    claimants = {"1,500": "National Intelligence Service", "12,000": "South Korean media reports",
                 "10,000": "Zelenskyy", "11,000": "Budanov", "2,600": "Budanov"}
    for figure, claimant in claimants.items():
        assert figure in shown, list(shown)
        assert shown[figure].claimant is not None and claimant in shown[figure].claimant.text, figure
    assert "13,000" not in shown  # containers, not soldiers


@pytest.mark.parametrize("question", [
    "Who won the 2022 FIFA World Cup final?",  # off topic
    "What is the capital of Australia?",
    "How many tanks did Germany send to Ukraine?",  # the article's war, not its facts
])
def test_questions_the_article_cannot_answer_are_not_found(assistant, question):
    answer = assistant.ask(question)
    assert not answer.found and answer.answer is None and answer.passages


def test_follow_up_conversation(assistant):
    history = []
    first = assistant.ask("How many North Korean troops have already arrived in Russia?")
    history.append(Turn(first.question, first))
    second = assistant.ask("And how many could eventually be sent?", history)
    assert second.found and "12,000" in second.answer, second.to_dict()
    history.append(Turn(second.question, second))
    third = assistant.ask("When will they be ready?", history)
    assert third.found and "November 1" in third.answer, third.to_dict()


def test_troops_arrived_is_1500_and_figures_still_to_come_are_not_other_reports(assistant):
    # "as many as 1,500 ... have already arrived": the first batch of 2,600 "is set to arrive" and
    # the number "could eventually rise to 12,000" do not differ from it (a second new user's
    # note: qa listed 2,600 under "The sources differ"). Without "already" the question does not
    # say, and every troop figure stays, with its claimant (the test above).
    snap = assistant.snapshot()
    answer = assistant.ask("How many North Korean troops have already arrived in Russia?")
    assert answer.found and "1,500" in answer.answer and not answer.tentative
    for alt in answer.alternatives:
        for c in alt.citations:
            statement = find_claim(snap.article_text(c.article_id), c.start, c.end).statement.text
            assert time_frame(statement) != "prospective", (alt.answer, statement)


def test_a_fresh_assistant_scores_a_reading_done_elsewhere_as_its_own(assistant):
    # `answer_from` with the reader's output from another Assistant (the benchmarks compare
    # deciders that way): the fresh one's reader had not loaded, so its calibration was the
    # default one and every candidate's reader_confidence came from it (0.921 for 0.905).
    from qa.assistant import Assistant

    question = "How many North Korean soldiers are in Russia?"
    passages = assistant.retriever.retrieve(assistant.snapshot(), question)
    output = assistant.reader.read(question, [p.text for p in passages])
    fresh = Assistant(assistant.settings)
    theirs = fresh.candidates(fresh.snapshot(), question, passages, output)
    mine = assistant.candidates(assistant.snapshot(), question, passages, output)
    assert [(c.candidate.answer, c.features) for c in theirs] == [(c.candidate.answer, c.features) for c in mine]


PORTO = """Tens of thousands march in Porto against soaring rents

PORTO, Portugal, March 9 (Trial Newswire) - Tens of thousands of people marched through central Porto on Saturday to protest against soaring rents, although police and organisers gave sharply different figures for the size of the crowd.

The Public Security Police (PSP) put the crowd at 18,000 at its peak, a police spokesman told reporters. The organising collective, Casa Para Todos, said 65,000 people had taken part, calling it "the biggest housing protest this city has ever seen". According to a count by the University of Porto's urban studies centre, which analysed aerial photographs, about 31,000 people were on the streets at 4 p.m.

Marchers set off from Praça da Batalha at 3 p.m. and ended outside City Hall on Avenida dos Aliados.
"""
FACTORY = """Garment factory fire kills at least 12 in Bangladesh

NARAYANGANJ, Bangladesh, May 22 (Trial Newswire) - A fire ripped through a seven-storey garment factory in Narayanganj, south of Dhaka, on Wednesday, killing at least 12 workers and injuring dozens, officials said.

The fire service said 12 workers had been killed and 62 injured. A statement from the factory's owners, Meghna Knitwear, said 40 people had been injured. The workers' union put the death toll at 19, saying several bodies had been found on the fourth floor after the fire service left.

About 1,400 workers were inside when the fire started, the factory's manager, Rafiqul Alam, told reporters.

The Dhaka Medical College Hospital said 17 of the injured were being treated for serious burns.

Labour Minister Nazrul Hossain said each victim's family would receive 200,000 taka in compensation.
"""
FLOODS = """Flash floods kill dozens in Bulgarian town of Tarnova; tolls differ

TARNOVA, Bulgaria, October 14, 2023 (Trial Newswire) - Flash floods tore through the town of Tarnova in northern Bulgaria overnight, killing dozens of people and forcing thousands from their homes, officials said on Monday, although the authorities gave different death tolls.

The Interior Ministry put the death toll at 27 in a statement released at noon. The regional hospital in Tarnova had received 34 bodies, hospital director Petar Ivanov told reporters, warning that the toll could rise to 50 as rescuers reached cut-off villages. Mayor Elena Dimova said at least 41 residents had died, telling reporters that "the real number is much higher than Sofia admits". She said 19 people were still missing.

Rescue teams have already evacuated 3,200 people from low-lying districts, according to the ministry. Civil protection chief Georgi Marinov warned that the number of people displaced could rise to 12,000.

The floods are the deadliest in the region since 2014, when a storm near Lovech killed 60 people. Six children were among the dead, the ministry said. Under Bulgarian law, a state of disaster is declared where five or more people are killed.
"""


KESSIN = """Wildfire in Kessin Hills forces thousands from their homes
August 14, 2025

LORNA, Aug 14, 2025 (Trial Newswire) - A wildfire that broke out on Monday in the Kessin Hills had burned through about 6,200 hectares by Thursday morning, the regional fire service said, as crews battled flames fanned by strong winds.

The European Forest Fire Information System, which measures burned areas from satellite images, put the figure at 9,800 hectares.

About 4,500 residents of eleven villages have been evacuated, the regional governor's office said. Mayor Petra Lind of Lorna said 27 homes had been destroyed in her town alone; the fire service counted 19 homes destroyed across the whole area.

One firefighter, 34-year-old Jonas Edel, died on Wednesday when his vehicle was caught by the flames, and five others were treated for burns, fire chief Arvid Kross said.

Some 650 firefighters, supported by nine water-bombing aircraft, were fighting the blaze on Thursday. Kross said the fire could burn another 3,000 hectares before it was contained if the wind did not drop.

Police arrested a 52-year-old man on Tuesday on suspicion of starting the fire while burning garden waste, prosecutors said.

The Kessin Hills fire is already the largest in the region since 2018, when a fire near Valby burned 5,400 hectares and destroyed 60 homes.

Forecasters expect temperatures to fall on Saturday.
"""

HALDEN = """# Audit says Halden tram extension will cost nearly double city's estimate

*By Wire staff* | May 3, 2022

HALDEN, May 3, 2022 (Trial Newswire) - The extension of Halden's tram network will cost 612 million crowns, almost twice what the city council has told residents, the regional audit office said in a report published on Tuesday.

The council has budgeted 340 million crowns for the 7.5-kilometre line to the Nordhavn district, which is due to open in 2026.

The audit office said the council had left out the cost of moving underground utilities and had underestimated land purchases. It also said the opening was likely to slip to 2028.

Deputy Mayor Ingrid Falk, who is responsible for transport, rejected the findings. "The auditors have counted some costs twice," she said, adding that the council's figure included a reserve of 40 million crowns.

The opposition Green Party said the extension should be paused. Its leader on the council, Mats Oberg, said the city's own engineers had privately estimated the cost at 520 million crowns.

The council voted 31 to 18 in favour of the extension in September 2020.

The line would carry 22,000 passengers a day, according to the council. The audit office said 14,000 was a more realistic estimate.

Halden's first tram line, which opened in 2004, cost 280 million crowns, 60 million more than budgeted.
"""

DALVANO = """Cholera outbreak in Dalvano kills dozens as toll is disputed
July 19, 2024

KESSARA, July 19, 2024 (Trial Newswire) - A cholera outbreak in the eastern province of Dalvano has killed at least 37 people since late June, the health ministry said on Friday, but a medical charity working in the area says the real toll is more than twice as high.

The ministry said 1,420 suspected cases had been recorded, including 37 deaths, nine of them children under five.

Medecins Sans Frontieres (MSF), which runs two treatment centres in the province, said its teams alone had treated 2,650 patients and that at least 81 people had died, counting deaths in villages far from any clinic.

"The official figures only count people who die in hospital," said Dr Amara Nwosu, MSF's emergency coordinator in Kessara. "Many families are burying relatives at home."

The World Health Organization warned that the number of cases could rise to 5,000 by the end of August if the rainy season brings further flooding of wells.

Health Minister Joseph Temba said the outbreak was "under control" and that 400,000 doses of oral vaccine would arrive from a WHO-managed stockpile next week. Vaccination would begin on July 25 in the districts of Oru and Beleke, he said.

The outbreak was first detected on June 27 at a market in Oru district. Dalvano's last major outbreak, in 2017, infected 3,100 people and killed 64, according to ministry records.

The provincial government has closed 14 markets and banned the sale of street food in Kessara, the provincial capital.
"""


@pytest.fixture(scope="module")
def desk(trained_reader, tmp_path_factory):
    """A third new user's disputed stories (shortened), with the trained reader."""
    from qa.assistant import Assistant
    from qa.settings import Settings

    corpus = tmp_path_factory.mktemp("desk")
    (corpus / "porto-housing-march.txt").write_text(PORTO, encoding="utf-8")
    (corpus / "narayanganj-factory-fire.txt").write_text(FACTORY, encoding="utf-8")
    (corpus / "tarnova-floods.txt").write_text(FLOODS, encoding="utf-8")
    (corpus / "kessin-wildfire.txt").write_text(KESSIN, encoding="utf-8")
    (corpus / "halden-tram-audit.md").write_text(HALDEN, encoding="utf-8")
    (corpus / "dalvano-cholera.txt").write_text(DALVANO, encoding="utf-8")
    return Assistant(Settings(corpus_dir=corpus, index_dir=tmp_path_factory.mktemp("desk-index"),
                              reader_model=str(trained_reader)))


def test_a_figure_asked_of_a_source_is_that_source_s(desk):
    answer = desk.ask("How many people did the police say marched in Porto?")
    assert answer.found and answer.answer == "18,000", answer.answer
    assert "police" in answer.citations[0].claimant.text.lower()  # the PSP, or its spokesman


def test_every_source_s_death_toll_is_shown_and_no_injured_count(desk):
    answer = desk.ask("How many workers were killed in the Narayanganj factory fire?")
    assert answer.found and "12" in answer.answer
    others = {a.answer: a.citations[0].claimant.text if a.citations[0].claimant else None for a in answer.alternatives}
    assert "19" in others and "union" in others["19"], others
    assert not {"40", "62"} & set(others), others


def test_a_sum_in_the_local_currency_answers_how_much(desk):
    answer = desk.ask("How much compensation will each victim's family receive?")
    assert answer.found and "200,000 taka" in answer.answer


def _figures(answer) -> dict:
    return {answer.answer: answer.citations[0]} | {a.answer: a.citations[0] for a in answer.alternatives}


@pytest.mark.parametrize("question", ["What is the death toll of the Tarnova floods?",
                                      "How many people died in the Tarnova floods?"])
def test_every_source_of_a_death_toll_is_shown_however_low_the_reader_scores_it(desk, question):
    """The reader scores the hospital's 34 and the mayor's 41 at about -6 against the ministry's
    27: they are found as figures stated of the deaths, each with its claimant."""
    figures = _figures(desk.ask(question))
    assert {"27", "34", "41"} <= set(figures), figures
    assert "Ivanov" in figures["34"].claimant.text and "Dimova" in figures["41"].claimant.text
    assert not {"19", "3,200", "12,000", "14"} & set(figures), figures


def test_a_figure_of_another_event_in_the_same_clause_pair_is_not_another_report(desk):
    """"killing at least 12 workers and injuring dozens", "12 workers had been killed and 62
    injured": the 12 are the dead, the 62 the injured; the 17 are some of the injured."""
    injured = _figures(desk.ask("How many people were injured in the garment factory fire?"))
    assert {"40", "62"} <= set(injured), injured
    assert not {"12", "12 workers", "17", "22", "1,400"} & set(injured), injured


def test_where_the_workers_were_is_not_how_many_were_killed(desk):
    """"About 1,400 workers were inside when the fire started", after the union's death toll."""
    answer = desk.ask("How many workers were killed in the factory fire?")
    assert answer.found and answer.answer != "1,400" and "1,400" not in _figures(answer), _figures(answer)


def test_what_could_happen_is_answered_by_a_projection_not_by_a_count_so_far(desk):
    """"the toll could rise to 50" answers "could eventually die"; "34 bodies" and the
    ministry's 27 are counts so far."""
    answer = desk.ask("How many people could eventually die in the Tarnova floods?")
    assert answer.found and answer.answer == "50", _figures(answer)



def test_a_figure_of_another_years_event_is_not_this_one_s(desk):
    """"since 2018, when a fire near Valby ... destroyed 60 homes": the reader's likeliest span,
    but of the 2018 fire; this fire's figures are the mayor's 27 and the fire service's 19."""
    answer = desk.ask("How many homes have been destroyed by the Kessin Hills fire?")
    figures = _figures(answer)
    assert answer.answer in ("27", "19") and {"27", "19"} <= set(figures) and "60" not in figures, figures
    assert figures["19"].claimant.text == "the fire service" and "Lind" in figures["27"].claimant.text
    asked = desk.ask("How many homes did the 2018 Valby fire destroy?")
    assert asked.found and asked.answer == "60"


def test_a_cost_in_crowns_each_source_s_figure_once_and_the_year_of_an_aside(desk):
    """A new user's story: the audit office's 612 million crowns (it had been refused: crowns
    were not a currency), the engineers' 520 million through the councillor who told of it, and
    the first line's 280 million ("which opened in 2004" is an aside, not another year's news)."""
    cost = desk.ask("How much will the Halden tram extension cost?")
    assert cost.found and cost.answer == "612 million crowns", _figures(cost)
    assert cost.citations[0].claimant.text == "the regional audit office"
    engineers = desk.ask("How much did Halden's own engineers estimate the tram extension would cost?")
    assert engineers.answer == "520 million crowns", _figures(engineers)
    assert [a.answer for a in engineers.alternatives].count("612") == 0, _figures(engineers)  # not twice
    first = desk.ask("How much did Halden's first tram line cost?")
    assert first.found and first.answer == "280 million crowns", _figures(first)
    length = desk.ask("How long is the Halden tram extension?")
    assert "crowns" not in (length.answer or ""), length.answer



def test_where_a_story_was_filed_is_not_where_it_happened(desk):
    """"KESSARA, July 19, 2024 (Trial Newswire) -" is the dateline; the outbreak "was first
    detected on June 27 at a market in Oru district"."""
    answer = desk.ask("Where was the Dalvano cholera outbreak first detected?")
    assert answer.found and "Oru" in answer.answer and "KESSARA" not in _figures(answer), _figures(answer)


def test_a_source_named_again_shorter_and_parts_of_the_toll_are_no_other_reports(desk):
    """"the health ministry said ... at least 37"; "The ministry said 1,420 suspected cases had
    been recorded, including 37 deaths, nine of them children under five"."""
    answer = desk.ask("How many people have died in the Dalvano cholera outbreak?")
    assert answer.found and answer.answer == "37"
    assert not {"1,420", "nine", "five"} & set(_figures(answer)), _figures(answer)
