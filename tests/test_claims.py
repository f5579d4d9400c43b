"""Who says it: the claimant and statement of each answer (qa.claims), in the JSON, the chat
reply, the CLI text and the assistant's answers on the sample article."""

from __future__ import annotations

import json
import re

import pytest

from qa.answer import Answer, Candidate, Citation
from qa.answer_type import stem
from qa.claims import attributed_share, find_claim, find_claimant, same_claimant, with_claims
from qa.cli import render_answer
from qa.corpus import read_file
from qa.render import claims_html, number_sources, reply_html, sources_html
from tests.conftest import SAMPLE_ARTICLE

ARTICLE = read_file(SAMPLE_ARTICLE, SAMPLE_ARTICLE.name)[0].text


def at(text: str, answer: str, after: str = "") -> tuple[int, int]:
    """The offsets of ``answer`` in ``text`` (its first place after ``after``)."""
    start = text.index(answer, text.index(after) if after else 0)
    return start, start + len(answer)


def claimant_of(text: str, answer: str, after: str = "") -> str | None:
    span = find_claimant(text, *at(text, answer, after))
    assert span is None or text[span.start : span.end] == span.text
    return span.text if span else None


# -- the sample article's five troop figures and the munitions figure --------------------------

@pytest.mark.parametrize("figure, claimant", [
    ("1,500", "South Korea’s National Intelligence Service (NIS)"),
    ("12,000", "South Korean media reports"),
    ("10,000", "Ukrainian President Volodymyr Zelenskyy"),
    ("11,000", "Kyrylo Budanov"),
    ("13,000", "The NIS"),
])
def test_sample_article_figures_are_claimed_by_their_sources(figure, claimant):
    assert claimant_of(ARTICLE, figure) == claimant


def test_a_hedged_sentence_without_a_source_continues_the_source_of_the_sentence_before():
    # "Budanov said that these forces are expected ... . The first batch of 2,600 ... is set to
    # arrive ..."
    assert claimant_of(ARTICLE, "2,600") == "Budanov"
    # ... and of one that ends with its source ("..., according to the ministry.").
    text = ("Rescue teams have already evacuated 3,200 people, according to the ministry. A further 5,000 "
            "residents are set to be moved on Tuesday.")
    assert claimant_of(text, "5,000") == "the ministry"


def test_a_sentence_in_the_articles_own_voice_has_no_claimant_and_is_the_publications():
    claim = find_claim(ARTICLE, *at(ARTICLE, "June 19, 2024"), source="IRIA", date="2024-10-25")
    assert claim.claimant is None
    assert (claim.source, claim.date) == ("IRIA", "2024-10-25")


def test_the_statement_is_the_clause_that_says_what_the_figure_is():
    claim = find_claim(ARTICLE, *at(ARTICLE, "1,500"))
    assert claim.statement.text == "as many as 1,500 North Korean troops have already arrived in Russia"
    assert ARTICLE[claim.statement.start : claim.statement.end] == claim.statement.text
    assert find_claim(ARTICLE, *at(ARTICLE, "12,000")).statement.text == "the number could eventually rise to 12,000"


# -- the attribution patterns, one each --------------------------------------------------------

@pytest.mark.parametrize("sentence, answer, claimant", [
    ("A total of 39 are confirmed dead, officials told state media, adding that work ended.", "39", "officials"),
    ("More than 1000 people have been arrested since June, according to The Guardian.", "1000", "The Guardian"),
    ("According to a court clerk, arguments would start on October 21.", "October 21", "a court clerk"),
    ('"I knew I had done 90% of the work," Zapata told French news channel BFM TV.', "90%", "Zapata"),
    ("Local officials said 24 people were hurt, but Agence France-Presse reported as many as 32.", "32",
     "Agence France-Presse"),
    ("Local officials said 24 people were hurt, but Agence France-Presse reported as many as 32.", "24",
     "Local officials"),
    ("This, coupled with the NIS’s findings that the deliveries began in August, worries Seoul.", "August",
     "the NIS"),
    ("The toll rose to 22 people on Monday, reported officials, with 25 others injured.", "22", "officials"),
    ("The mayor defended the spending on Monday, saying the $1.5 million was needed.", "$1.5 million",
     "The mayor"),
    ("Governor Martin Reese, speaking after touring the damage, put the death toll at 11 and said more "
     "than 60 people had been injured.", "11", "Governor Martin Reese"),
    ("Governor Martin Reese, speaking after touring the damage, put the death toll at 11 and said more "
     "than 60 people had been injured.", "more than 60", "Governor Martin Reese"),
    ("Reese declared an emergency for Harlan and two neighboring counties and said 40 homes were lost.", "40",
     "Reese"),
    ("Tornadoes killed at least nine people, state and local officials said on Sunday.", "nine",
     "state and local officials"),
    ("The blaze started at about 11:40 p.m. in a storage hall, fire chief Miriam Okafor told reporters at a "
     "briefing on Wednesday morning.", "11:40 p.m.", "fire chief Miriam Okafor"),
    ("The plant had 240 workers on the night shift, the company said in a statement on Wednesday.", "240",
     "the company"),
    # A discourse aside is not part of the source's name; a figure right after "said" is not one.
    ("The union Unite Metal, however, said the closure would affect 1,800 workers.", "1,800", "The union Unite Metal"),
    ("The ministry, for its part, said 40 people died.", "40", "The ministry"),
    ("The stadium operator, Harbour Events Ltd, gave the attendance as 31,200.", "31,200", "Harbour Events Ltd"),
    ("Lindqvist's own campaign put her total at 18,450 votes.", "18,450", "Lindqvist's own campaign"),
    # "telling reporters that", "added that", and a main clause whose first verb attributes.
    ("Mayor Jon Valdera disputed the toll, telling reporters that at least 22 people were killed.", "22",
     "Mayor Jon Valdera"),
    ("The ministry added that 41 homes were destroyed.", "41", "The ministry"),
    ("The governor said 14 people died, adding that 41 homes were destroyed.", "41", "The governor"),
    # A third new user's sentences: the source after a closing quote, a capitalised "Estimates
    # by", "put the cost of X at", a promise.
    ("\u201cWe counted 1,300 tractors this morning, and more are coming,\u201d said Marc Dewulf, a spokesman.",
     "1,300", "Marc Dewulf"),
    ("Estimates by event organizers indicate roughly one million people marched.", "roughly one million",
     "event organizers"),
    ("The city of Brussels put the cost of cleaning up at 250,000 euros.", "250,000 euros", "The city of Brussels"),
    ("Chelyabinsk\u2019s governor has promised one million rubles to each family.", "one million rubles",
     "Chelyabinsk\u2019s governor"),
])
def test_attribution_patterns(sentence, answer, claimant):
    assert claimant_of(sentence, answer) == claimant


@pytest.mark.parametrize("sentence, answer", [
    ("In addition to the deaths, 33 were reported hospitalised with five seriously injured.", "33"),
    ("He announced his 2020 candidacy in 2013 during a jailhouse interview.", "2013"),
    ("Of the 2.8 million who voted, 85% were in favour and the government announced a new region.", "2.8 million"),
    ("The $1.5 million bridge opened on Monday, saying much about the town.", "$1.5 million"),
    ("The blaze started at 11:40 p.m., and Okafor said in 2019 the plant lost 40 workers.", "11:40 p.m."),
])
def test_no_source_is_invented_for_the_publications_own_statements(sentence, answer):
    assert claimant_of(sentence, answer) is None


# -- where the claim is shown -------------------------------------------------------------------

def cite(answer: str, after: str = "", **meta) -> Citation:
    start, end = at(ARTICLE, answer, after)
    lo = ARTICLE.rfind("\n", 0, start) + 1
    hi = ARTICLE.find("\n", end)
    return Citation("nk", "NK troops", start, end, ARTICLE[lo:hi], lo, "nk::1", 2, **meta)


def claimed_answer(*alternatives: str) -> Answer:
    answer = Answer(
        question="How many North Korean soldiers are in Russia?", query="How many North Korean soldiers are in Russia?",
        answer="1,500", found=True, score=0.9, citations=(cite("1,500", source="IRIA", date="2024-10-25"),),
        alternatives=tuple(Candidate(a, 0.5, (cite(a, source="IRIA", date="2024-10-25"),)) for a in alternatives),
        timings_ms={"total": 1.0},
    )
    return with_claims(answer, lambda article_id: ARTICLE)


def visible(markup: str) -> str:
    import html

    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", markup)).split())


def test_json_gives_claimant_and_statement_per_citation_as_spans():
    data = json.loads(json.dumps(claimed_answer("12,000").to_dict()))
    first = data["citations"][0]
    assert first["claimant"] == {"text": "South Korea’s National Intelligence Service (NIS)",
                                 "start": ARTICLE.index("South Korea’s National"),
                                 "end": ARTICLE.index(" has claimed that")}
    assert ARTICLE[first["statement"]["start"] : first["statement"]["end"]] == first["statement"]["text"]
    assert data["alternatives"][0]["citations"][0]["claimant"]["text"] == "South Korean media reports"


def test_json_claimant_is_null_in_the_articles_own_voice():
    answer = with_claims(Answer(question="q", query="q", answer="June 19, 2024", found=True, score=0.9,
                                citations=(cite("June 19, 2024"),)), lambda _: ARTICLE)
    assert answer.to_dict()["citations"][0]["claimant"] is None


def test_chat_reply_says_the_sources_differ_and_gives_each_claim_with_its_citation():
    text = visible(reply_html(claimed_answer("12,000", "10,000")))
    assert "The sources differ:" in text
    assert ("1,500 — South Korea’s National Intelligence Service (NIS): as many as 1,500 North Korean troops "
            "have already arrived in Russia [1] 2024-10-25 · IRIA") in text
    assert "12,000 — South Korean media reports: the number could eventually rise to 12,000 [2]" in text
    assert "10,000 — Ukrainian President Volodymyr Zelenskyy:" in text


def test_chat_reply_marks_the_value_in_the_statement():
    assert re.search(r"could eventually rise to <mark>12(,|&#44;)000</mark>", reply_html(claimed_answer("12,000")))


def test_the_same_value_from_two_claimants_is_one_line_with_two_claimants():
    answer = claimed_answer()
    other = replace_claimant(answer.citations[0], "Yonhap")
    answer = Answer(**{**answer.__dict__, "citations": (answer.citations[0], other)})
    html_reply = reply_html(answer)
    assert html_reply.count('class="qa-claim-line') == 1
    assert "(NIS):" in visible(html_reply) and "Yonhap:" in visible(html_reply)


def replace_claimant(c: Citation, name: str) -> Citation:
    from dataclasses import replace

    from qa.answer import Span

    return replace(c, claimant=Span(name, 0, len(name)))


def test_sources_panel_says_who_says_each_answer():
    assert "Who says 12,000: South Korean media reports" in visible(sources_html(claimed_answer("12,000")))


def test_cli_text_gives_claimant_and_statement_of_each_citation():
    text = render_answer(claimed_answer("12,000"), 0.1)
    assert 'says: South Korean media reports: "the number could eventually rise to [12,000]" (2024-10-25, IRIA)' in \
        " ".join(text.split())
    assert "The sources differ" in text


# -- the assistant on the sample article (real index, real reader) -----------------------------

EXPECTED = {
    "1,500": "National Intelligence Service", "12,000": "South Korean media reports",
    "10,000": "Zelenskyy", "11,000": "Budanov", "2,600": "Budanov",
}


@pytest.fixture(scope="module")
def assistant(sample_assistant):
    return sample_assistant


def test_troop_figures_qa_shows_are_each_given_with_their_claimant(assistant):
    answer = assistant.ask("How many North Korean soldiers are in Russia?")
    shown = [(answer.answer, c) for c in answer.citations]
    shown += [(a.answer, c) for a in answer.alternatives for c in a.citations]
    figures = {next((f for f in EXPECTED if f in value), None): c for value, c in shown}
    figures.pop(None, None)
    assert len(figures) >= 2  # the answer and at least one other report
    for figure, citation in figures.items():
        assert citation.claimant is not None and EXPECTED[figure] in citation.claimant.text, figure
        assert figure in citation.statement.text
    text = visible(reply_html(answer))
    assert "The sources differ:" in text
    for citation in figures.values():
        assert f"{citation.claimant.text}:" in text


def test_munitions_question_gives_13000_claimed_by_the_nis(assistant):
    answer = assistant.ask("How many containers of munitions has North Korea shipped to Russia?")
    assert "13,000" in answer.answer
    assert answer.citations[0].claimant.text == "The NIS"
    assert "claims" in answer.timings_ms


@pytest.mark.parametrize("follow_up", ["Who says so?", "According to whom?"])
def test_who_says_so_is_answered_with_the_previous_answers_claimant(assistant, follow_up):
    from qa.answer import Turn

    first = assistant.ask("How many containers of munitions has North Korea shipped to Russia?")
    answer = assistant.ask(follow_up, [Turn(first.question, first)])
    claimant = first.citations[0].claimant
    assert answer.found and answer.answer == claimant.text == "The NIS"
    cited = answer.citations[0]
    # a span of the article, like every answer: where the article names the source
    assert (cited.start, cited.end) == (claimant.start, claimant.end)
    assert cited.passage[cited.start - cited.passage_start:cited.end - cited.passage_start] == "The NIS"
    assert "13,000" in answer.query


def test_who_says_so_without_a_previous_answer_is_searched_as_usual(assistant):
    from qa.answer import Turn

    refused = assistant.ask("Who won the 2022 FIFA World Cup final?")
    answer = assistant.ask("Who says so?", [Turn(refused.question, refused)])
    assert answer.query != 'Who says "None"?' and not answer.query.startswith("Who says \"")


def test_qa_batch_rows_carry_the_claimant_and_statement_of_each_citation(trained_reader, tmp_path):
    from qa.cli import main

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / SAMPLE_ARTICLE.name).write_bytes(SAMPLE_ARTICLE.read_bytes())
    questions = tmp_path / "q.txt"
    questions.write_text("How many containers of munitions has North Korea shipped to Russia?\n", encoding="utf-8")
    out = tmp_path / "answers.jsonl"
    rc = main(["batch", str(questions), "-o", str(out), "--no-progress", "--corpus", str(corpus),
               "--index", str(tmp_path / "index"), "--reader", str(trained_reader)])
    assert rc == 0
    row = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    citation = row["citations"][0]
    assert citation["claimant"]["text"] == "The NIS"
    assert "13,000" in citation["statement"]["text"]


def test_a_clock_time_is_not_cut_at_its_colons():
    text = "Tanaka finished second in 2:22:31 and Price was third in 2:24:02, the organisers said."
    assert find_claim(text, *at(text, "2:22:31")).statement.text.startswith("Tanaka finished second in 2:22:31")


FIRE = """Fire at Ravensholm plastics factory: officials give conflicting death toll

A fire that tore through the Kestrel Polymers plant on the outskirts of Ravensholm on Tuesday night has killed at least 14 people, according to the regional fire service, although other officials put the number of dead considerably higher.

The blaze started at about 11:40 p.m. in a storage hall used for solvent drums, fire chief Miriam Okafor told reporters at a briefing on Wednesday morning.

Okafor said that 14 bodies had been recovered from the wreckage and that 37 people had been taken to hospital, nine of them with severe burns. But the mayor of Ravensholm, Daniel Brandt, told the local broadcaster RTV that 21 workers had died, citing figures from the city's morgue. Brandt said the fire service figure did not include seven workers who died in hospital overnight.

About 240 employees were working the night shift when the fire broke out, according to the company.
"""


@pytest.mark.reader
def test_officials_who_disagree_on_a_figure_are_both_shown(trained_reader, tmp_path):
    """A team-written article in the shape a new user's was: the fire service's 14 dead and the
    mayor's 21 in the next sentences. The mayor's figure scores far under the report floor, but
    it is the same count, as close to the question, from a claimant of its own."""
    from qa.assistant import Assistant
    from qa.settings import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "fire.txt").write_text(FIRE, encoding="utf-8")
    assistant = Assistant(Settings(corpus_dir=corpus, index_dir=tmp_path / "index", reader_model=str(trained_reader)))
    answer = assistant.ask("How many people died in the Ravensholm factory fire?")
    figures = {answer.answer: answer.citations[0]} | {a.answer: a.citations[0] for a in answer.alternatives}
    assert {"14", "21"} <= set(figures), figures
    assert "Brandt" in figures["21"].claimant.text
    assert not {"37", "240", "nine", "seven"} & set(figures)


def test_he_or_she_with_no_source_in_the_sentence_is_the_previous_sentences_source():
    text = ("The blaze started at 11:40 p.m., fire chief Miriam Okafor told reporters. "
            "She said that 62 firefighters were sent to the site.")
    assert claimant_of(text, "62") == "fire chief Miriam Okafor"
    alone = "The blaze started at 11:40 p.m. in a storage hall. She said that 62 firefighters were sent."
    assert claimant_of(alone, "62") is None  # no source before it to stand for


def test_a_quote_opening_after_the_verb_is_what_the_source_says():
    text = ('Transportation official Troy Roberts said the road will be examined. '
            'He said "Guardrails can only take 40 tonnes."')
    assert claimant_of(text, "40") == "Transportation official Troy Roberts"


GUARDRAILS = ("Another eyewitness, Nicole Towarek, described extensive tire marks and \"insane\" heat. "
              "Transportation official Troy Roberts said the road will be examined as part of investigations. "
              'He said "Guardrails can only take so much."')


def test_a_source_is_credited_with_what_its_next_sentence_says_he_said():
    stems = {stem(w) for w in ("guardrails", "take")}
    assert attributed_share(GUARDRAILS, *at(GUARDRAILS, "Troy Roberts"), stems) == 1.0
    assert attributed_share(GUARDRAILS, *at(GUARDRAILS, "Nicole Towarek"), stems) == 0.0  # the sentence before


def test_an_answer_that_is_the_source_itself_is_the_articles_own_voice():
    # Not the eyewitness of the sentence before, carried over by the hedge "will".
    assert claimant_of(GUARDRAILS, "Troy Roberts") is None


CRASH = """Bus leaves Route 9 near Halvorsen; county to examine the bend

Two passengers were hurt when a tour bus left Route 9 near Halvorsen on Sunday afternoon.

Another witness, Maria Lindqvist, described long skid marks and a strong smell of burning rubber. County road engineer Paul Okonkwo said on Monday the bend itself will be examined as part of the inquiry. He said "Barriers can only hold so much weight." The barrier would be replaced within a month, Okonkwo said.
"""


@pytest.mark.reader
def test_who_said_a_quote_is_answered_with_its_source_not_the_name_beside_it(trained_reader, tmp_path):
    from qa.assistant import Assistant
    from qa.settings import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "crash.txt").write_text(CRASH, encoding="utf-8")
    assistant = Assistant(Settings(corpus_dir=corpus, index_dir=tmp_path / "index", reader_model=str(trained_reader)))
    answer = assistant.ask("Who said barriers can only hold so much weight?")
    assert answer.found and "Okonkwo" in answer.answer, answer
    assert not any("Lindqvist" in a.answer for a in answer.alternatives)


PLANT = """Appliance maker to shut Kelby factory

The appliance maker Norvane said on Tuesday that it will shut its Kelby factory in the spring. Its shares rose 4 percent in morning trading in Frankfurt.

The company said 640 workers would lose their jobs. The workers' union, however, said the shutdown would affect 910 workers once cleaners and canteen staff employed by contractors were counted.

The factory opened in 1986 and once employed about 2,000 people.
"""


@pytest.mark.reader
def test_a_count_of_the_same_thing_from_another_source_is_shown_though_worded_for_another_framing(
        trained_reader, tmp_path):
    """The union's 910 workers 'affected' beside the company's 640 who 'would lose their jobs':
    the two sentences are not equally close to either question, but both count the workers."""
    from qa.assistant import Assistant
    from qa.settings import Settings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "plant.txt").write_text(PLANT, encoding="utf-8")
    assistant = Assistant(Settings(corpus_dir=corpus, index_dir=tmp_path / "index", reader_model=str(trained_reader)))
    for question in ("How many workers will be affected by the Kelby shutdown?",
                     "How many workers will lose their jobs at the Kelby factory?"):
        answer = assistant.ask(question)
        figures = {answer.answer: answer.citations[0]} | {a.answer: a.citations[0] for a in answer.alternatives}
        assert {"640", "910"} <= set(figures), (question, figures)
        assert figures["640"].claimant.text == "The company"
        assert "union" in figures["910"].claimant.text and "however" not in figures["910"].claimant.text
        assert "2,000" not in figures


def test_who_says_so_after_an_answer_in_the_articles_own_voice_says_so_without_a_search():
    from qa.assistant import source_of

    previous = with_claims(Answer(
        question="How many bridges cross the river?", query="How many bridges cross the river?", answer="3",
        found=True, score=0.8, citations=(Citation("b", "Bridges", 4, 5, "The 3 bridges", 0, "b::1", 1,
                                                   source="Coastal Herald"),),
    ), lambda _id: "The 3 bridges cross the river.")
    answer = source_of("According to whom?", previous)
    assert answer is not None and answer.found and answer.answer == "3"
    assert answer.citations[0].claimant is None
    assert "Coastal Herald (in its own voice)" in visible(reply_html(answer))


def test_a_who_says_so_reply_names_the_claimant_once_in_its_claim_line():
    from qa.assistant import source_of

    previous = claimed_answer()
    name = previous.citations[0].claimant.text
    answer = source_of("Who says so?", previous)
    claim_line = visible(claims_html(number_sources(answer)))
    assert claim_line.count(name) == 1 and "1,500" in claim_line, claim_line


def test_a_source_of_a_figure_must_state_that_figure():
    """"Who put the death toll at 27?" is not asked of the union that put it at 19."""
    text = ("The Interior Ministry put the death toll at 27 in a statement. "
            "The workers' union put the death toll at 19, saying bodies had been found.")
    stems = {stem(w) for w in ("death", "toll", "27")}
    assert attributed_share(text, *at(text, "The Interior Ministry"), stems) == 1.0
    assert attributed_share(text, *at(text, "The workers' union"), stems) == 0.0


def test_a_figure_asked_of_two_clauses_is_credited_to_the_clause_that_gives_it():
    """The question's words are in both clauses ("clean-up" only in the company's); the 25
    million is the agency's."""
    text = ("Northline Freight estimated the clean-up would cost 9 million dollars; the state environmental "
            "agency said it could cost as much as 25 million dollars.")
    stems = {stem(w) for w in ("Millbrook", "clean-up", "cost", "25", "million", "dollars")}
    assert attributed_share(text, *at(text, "Northline Freight"), stems) == 0.0
    assert attributed_share(text, *at(text, "the state environmental agency"), stems) > 0.5



def test_two_claimants_of_one_sentence_behind_a_wire_dateline():
    text = ("PORT ALDER (Wire) \u2014 Police said 12,000 people marched through Port Alder on Monday, while the General "
            "Workers' Union put the crowd at 85,000.")
    assert find_claim(text, *at(text, "12,000")).claimant.text == "Police"
    assert find_claim(text, *at(text, "85,000")).claimant.text == "the General Workers' Union"


@pytest.mark.parametrize(("text", "figure", "claimant"), [
    # a relative clause between the source and its verb; ", said about 1,200" is no source after its verb
    ("Halvard Shipping, which operates the tanker Marisol Crest, said about 1,200 tonnes of crude had leaked.",
     "1,200", "Halvard Shipping"),
    # the source said it "on Friday", then the sentence goes on
    ("A cholera outbreak has killed at least 37 people since late June, the health ministry said on Friday, but a "
     "medical charity says the real toll is more than twice as high.", "37", "the health ministry"),
    # "what the council has told residents" is a thing said, not the sentence's source
    ("The extension will cost 612 million crowns, almost twice what the city council has told residents, the "
     "regional audit office said in a report published on Tuesday.", "612", "the regional audit office"),
    # "counted" attributes, after a semicolon too
    ("Mayor Petra Lind said 27 homes had been destroyed in her town alone; the fire service counted 19 homes "
     "destroyed across the whole area.", "19", "the fire service"),
])
def test_a_trial_users_claimants(text, figure, claimant):
    assert find_claim(text, *at(text, figure)).claimant.text == claimant


def test_a_claimant_named_shorter_the_second_time_is_the_same_source():
    assert same_claimant("the health ministry", "The ministry") and same_claimant("the ministry", "the ministry")
    assert not same_claimant("the interior ministry", "the health ministry")
    assert not same_claimant("the police", "the police spokesman") and not same_claimant(None, "the police")
    assert same_claimant(None, None)
