"""Reader training plumbing: resumable, deterministic, refuses mixed settings, exports a folder
that the Reader loads. Runs on a tiny random BERT and a made-up SQuAD file, so it needs neither
../shared nor minutes of CPU; answer quality is judged elsewhere (test_quality.py, benchmarks)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from safetensors.torch import load_file

from qa.reader import Reader
from qa.squad import load_squad
from qa.training import TrainConfig, add_negatives, cut_answer_sentences, featurize, train

FACTS = [
    ("Paris", "The capital of France is Paris. It lies on the Seine.", "What is the capital of France?"),
    ("1889", "The Eiffel Tower was finished in 1889 for a world fair.", "When was the Eiffel Tower finished?"),
    ("Gustave Eiffel", "Its design is credited to Gustave Eiffel's company.", "Whose company designed it?"),
    ("330 metres", "The tower is 330 metres tall including its antennas.", "How tall is the tower?"),
]


@pytest.fixture
def squad_file(tmp_path) -> Path:
    paragraphs = []
    for i, (answer, context, question) in enumerate(FACTS):
        paragraphs.append({
            "context": context,
            "qas": [{"id": f"q{i}", "question": question,
                     "answers": [{"text": answer, "answer_start": context.index(answer)}]}],
        })
    path = tmp_path / "train.json"
    path.write_text(json.dumps({"version": "1.1", "data": [{"title": "Paris", "paragraphs": paragraphs}]}))
    return path


@pytest.fixture
def config(tmp_path, squad_file, tiny_reader) -> TrainConfig:
    return TrainConfig(
        train_file=str(squad_file), base_model=str(tiny_reader), output_dir=str(tmp_path / "out"),
        run_dir=str(tmp_path / "run"), epochs=3.0, batch_size=2, max_length=48, doc_stride=16,
        negative_ratio=0.5, threads=1, checkpoint_every=1000, ema_decay=0.9,
    )


def weights(folder: str | Path) -> dict:
    return load_file(Path(folder) / "model.safetensors")


def test_negatives_never_hold_the_answer(squad_file):
    examples = load_squad(squad_file)
    out = add_negatives(examples, ratio=1.0, seed=0)
    negatives = [ex for ex in out if ex.is_impossible]
    assert len(negatives) == len(examples)
    for neg in negatives:
        source = next(ex for ex in examples if ex.question == neg.question)
        assert source.answers[0].lower() not in neg.context.lower()


def test_answer_cut_negatives_keep_the_paragraph_but_not_the_answer():
    from qa.squad import SquadExample

    context = "Paris is big. The capital of France is Paris. It lies on the Seine. Many visit."
    ex = SquadExample(id="q", title="t", question="What is the capital of France?", context=context,
                      answers=("Seine",), answer_starts=(context.index("Seine"),))
    [_, cut] = cut_answer_sentences([ex], ratio=1.0, seed=0)
    assert cut.is_impossible and cut.context == "Paris is big. The capital of France is Paris. Many visit."
    one_sentence = replace(ex, context="It lies on the Seine.", answer_starts=(15,))
    assert cut_answer_sentences([one_sentence], ratio=1.0, seed=0) == [one_sentence]
    repeated = replace(ex, context="The Seine is long. It lies on the Seine. Many visit.", answer_starts=(34,))
    assert cut_answer_sentences([repeated], ratio=1.0, seed=0) == [repeated]


def test_featurize_places_answer_tokens(squad_file, tiny_reader):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_reader)
    examples = load_squad(squad_file)
    feats = featurize(examples, tok, max_length=48, stride=16)
    for ex, ids, s, e in zip(examples, feats.input_ids, feats.start_positions, feats.end_positions):
        assert 0 < s <= e
        assert tok.decode(ids[s : e + 1]).lower() == ex.answers[0].lower()


def test_resumed_run_equals_uninterrupted_run(config, tmp_path):
    whole = train(config)
    first = replace(config, run_dir=str(tmp_path / "run2"), output_dir=str(tmp_path / "out2"), max_steps=2)
    train(first)
    state = json.loads((tmp_path / "run2" / "checkpoint" / "state.json").read_text())
    assert state["global_step"] == 2
    resumed = train(replace(first, max_steps=0), resume=True)
    a, b = weights(whole), weights(resumed)
    assert a.keys() == b.keys()
    assert all((a[k] == b[k]).all() for k in a), "resuming changed the trained weights"
    summary = json.loads((resumed / "training.json").read_text())
    assert summary["steps"] == summary["total_steps"] and summary["weights"] == "raw"


def test_resume_refuses_other_hyperparameters(config):
    train(replace(config, max_steps=1))
    with pytest.raises(SystemExit, match="learning_rate"):
        train(replace(config, learning_rate=5e-5), resume=True)


def test_export_of_the_weight_average_loads_in_the_reader(config, tmp_path):
    raw = train(config)
    ema_dir = tmp_path / "ema"
    train(replace(config, output_dir=str(ema_dir), export_ema=True), export_only=True)
    summary = json.loads((ema_dir / "training.json").read_text())
    assert summary["weights"].startswith("moving average")
    a, b = weights(raw), weights(ema_dir)
    assert any(not (a[k] == b[k]).all() for k in a), "the average equals the raw weights"
    out = Reader(str(ema_dir), precision="fp32").read(FACTS[0][2], [FACTS[0][1]])
    assert out is not None


def test_export_ema_without_an_average_is_refused(config):
    train(replace(config, max_steps=1, ema_decay=0.0))
    with pytest.raises(SystemExit, match="weight average"):
        train(replace(config, ema_decay=0.0, export_ema=True), export_only=True)


def test_an_fp16_base_is_trained_in_fp32(config, tmp_path, tiny_reader):
    """A base checkpoint stored in fp16 (as the weights travel to a GPU machine) must not make
    the master weights fp16: AdamW updates of ~1e-7 would round away."""
    import torch
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    base = tmp_path / "fp16-base"
    AutoModelForQuestionAnswering.from_pretrained(tiny_reader).to(torch.float16).save_pretrained(base)
    AutoTokenizer.from_pretrained(tiny_reader).save_pretrained(base)
    train(replace(config, base_model=str(base), max_steps=1))
    saved = load_file(Path(config.run_dir) / "checkpoint" / "model.safetensors")
    assert {t.dtype for k, t in saved.items() if t.is_floating_point()} == {torch.float32}


def test_a_gpu_device_without_a_gpu_is_a_clear_error(config):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    with pytest.raises(SystemExit, match="no CUDA GPU"):
        train(replace(config, device="cuda", max_steps=1))
