"""The reader's span decoding, scoring and model loading."""

import numpy as np
import pytest

from qa.errors import ModelProblem
from qa.reader import Calibration, Reader, Span


def decode(reader, start, end, seq_ids, top_n=5):
    return reader._top_spans(np.array(start, float), np.array(end, float), seq_ids, 1, top_n)


def test_best_span_is_the_highest_start_plus_end_inside_the_context():
    r = Reader("unused", max_answer_tokens=5)
    seq = [None, 0, 0, None, 1, 1, 1, 1, None]
    start = [9, 9, 9, 9, 0, 5, 0, 0, 9]  # tokens outside the context score high: ignored
    end = [9, 9, 9, 9, 0, 0, 4, 0, 9]
    s, e, score = decode(r, start, end, seq)[0]
    assert (s, e, score) == (5, 6, 9.0)


def test_end_before_start_and_over_long_spans_are_excluded():
    r = Reader("unused", max_answer_tokens=2)
    seq = [None] + [1] * 6 + [None]
    start = [0, 0, 0, 0, 0, 9, 0, 0]
    end = [0, 8, 0, 0, 0, 0, 0, 7]
    spans = decode(r, start, end, seq, top_n=50)
    assert all(0 <= e - s < 2 for s, e, _ in spans)
    assert (5, 1) not in [(s, e) for s, e, _ in spans]


def test_spans_come_out_best_first():
    r = Reader("unused")
    seq = [None] + [1] * 10 + [None]
    rng = np.random.default_rng(0)
    spans = decode(r, rng.normal(size=12), rng.normal(size=12), seq, top_n=10)
    scores = [x[2] for x in spans]
    assert scores == sorted(scores, reverse=True) and len(spans) == 10


def test_default_calibration_is_span_beats_no_answer():
    cal = Calibration()
    assert cal.confidence(Span(0, 0, 1, "a", score=5.0, null_score=4.0)) > 0.5
    assert cal.confidence(Span(0, 0, 1, "a", score=3.0, null_score=4.0)) < 0.5


def test_calibration_round_trips_through_its_file(tmp_path):
    cal = Calibration(w_margin=0.7, w_score=0.1, bias=-1.2, threshold=0.42, fitted_on="x")
    cal.save(tmp_path)
    assert Calibration.load(tmp_path) == cal


def test_spans_are_character_spans_of_the_given_context(tiny_reader):
    reader = Reader(str(tiny_reader), max_length=64, stride=16)
    contexts = ["Short context about troops.", "A much longer context. " * 30]
    out = reader.read("How many troops?", contexts)
    assert out.spans and len(out.null_scores) == 2
    for span in out.spans:
        assert contexts[span.context_index][span.start : span.end] == span.text
    assert [s.score for s in out.spans] == sorted((s.score for s in out.spans), reverse=True)


def test_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ModelProblem, match="does not exist"):
        Reader(str(tmp_path / "nope")).warm_up()


def test_unknown_hub_id_fails_offline_with_advice():
    with pytest.raises(ModelProblem, match="offline"):
        Reader("someone/not-a-cached-model").warm_up()


def test_a_gpu_device_without_a_gpu_is_a_clear_error(tiny_reader):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    with pytest.raises(ModelProblem, match="cuda"):
        Reader(str(tiny_reader), device="cuda").warm_up()


def test_int8_on_a_gpu_is_refused(tiny_reader):
    with pytest.raises(ModelProblem, match="CPU only"):
        Reader(str(tiny_reader), device="cuda", precision="int8").warm_up()


def test_every_figure_of_a_window_is_a_span_whatever_its_rank(tiny_reader):
    # Where sources disagree the best spans are wordings of one figure; the others' figures
    # must still be read (they are scored as exactly the figure).
    context = ("The ministry put the death toll at 27. The hospital had received 34 bodies. The mayor said "
               "at least forty-one had died, and one million people were affected.")
    out = Reader(str(tiny_reader), max_length=96, stride=32).read("What is the death toll?", [context], top_n=1)
    texts = {s.text for s in out.spans}
    assert {"27", "34", "one million"} <= texts, texts
    for s in out.spans:
        assert context[s.start : s.end] == s.text
