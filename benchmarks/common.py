"""What every benchmark script shares: where the data is, how results are written, the machine.

Results go to ``benchmarks/results/<name>.json`` (every number, plus the run's settings and the
machine) and ``<name>.md`` (the table for people). A run on a subset (``--limit``) is written as
``<name>-limit<N>`` so it never overwrites a full run.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
RESULTS = BENCH / "results"
CACHE = BENCH / ".cache"  # corpora and indexes the benchmarks build (git-ignored)
DATA = Path(os.environ.get("QA_DATA_DIR", ROOT.parent / "shared" / "data"))

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from qa.evaluation import spread  # noqa: E402,F401 - the benchmarks subsample with it


def data_file(relative: str) -> Path:
    """The data file ``relative`` to ``../shared/data``; exits with a clear message if missing."""
    path = DATA / relative
    if not path.exists():
        sys.exit(
            f"benchmark data missing: {path}\n"
            f"The benchmarks read the shared data folder {DATA} (../shared/data next to the "
            "repository; see its README.md), which is not part of the repository. Put the data "
            "there, or point QA_DATA_DIR at a copy."
        )
    return path


def machine() -> dict:
    """The machine and software a result was measured on (results are only comparable on one)."""
    import torch

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "python": platform.python_version(),
    }
    if hasattr(os, "getloadavg"):
        # Other work on the machine (e.g. a training run) slows every timing: say so.
        info["load_average_1min"] = round(os.getloadavg()[0], 2)
    return info


def set_threads(n: int) -> None:
    """Use ``n`` torch threads (0: torch's default, one per core).

    On a machine where other work holds a core (a training run), torch's default of one thread
    per core makes single-query encoding tens of times slower (measured here: ~500 ms against
    ~12 ms with 1 thread), so pass --threads 1 there. The count is recorded with the results.
    """
    if n:
        import torch

        torch.set_num_threads(n)
        try:
            from threadpoolctl import threadpool_limits

            threadpool_limits(n)  # numpy's BLAS too
        except ImportError:
            pass


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


@contextlib.contextmanager
def worktree(commit: str, folder: Path) -> Iterator[Path]:
    """The code of ``commit`` checked out at ``folder`` (a detached git worktree) for the
    duration: benchmarks that compare old code with new in one run use it."""
    subprocess.run(["git", "worktree", "add", "--detach", "--force", str(folder), commit], cwd=ROOT,
                   check=True, capture_output=True)
    try:
        yield folder
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(folder)], cwd=ROOT, capture_output=True)


def result_name(name: str, limit: int | None) -> str:
    return f"{name}-limit{limit}" if limit else name


def write_results(name: str, data: dict, markdown: str, command: str) -> tuple[Path, Path]:
    """Write ``<name>.json`` and ``<name>.md`` into benchmarks/results; returns both paths."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = {
        "benchmark": name,
        "command": command,
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "commit": git_commit(),
        "machine": machine(),
    }
    json_path = RESULTS / f"{name}.json"
    json_path.write_text(json.dumps(meta | data, indent=2) + "\n", encoding="utf-8")
    m = meta["machine"]
    footer = (
        f"\n`{command}` · {meta['date']} · commit {meta['commit']} · {m['cpu']}, {m['cores']} cores, "
        f"torch {m['torch']} ({m['torch_threads']} threads), load average {m.get('load_average_1min', '?')}\n"
    )
    md_path = RESULTS / f"{name}.md"
    md_path.write_text(markdown.rstrip() + "\n" + footer, encoding="utf-8")
    print(markdown)
    print(f"\nwritten: {json_path.relative_to(ROOT)}, {md_path.relative_to(ROOT)}")
    return json_path, md_path


def command_line() -> str:
    """This run's command, as one would type it from the repository root."""
    script = Path(sys.argv[0])
    try:
        script = script.resolve().relative_to(ROOT)
    except ValueError:
        pass
    return " ".join(["python", str(script), *sys.argv[1:]])


def table(headers: list[str], rows: list[list], decimals: int = 2) -> str:
    """A Markdown table; floats get ``decimals`` decimals."""
    def cell(v) -> str:
        if isinstance(v, float):
            return f"{v:.{decimals}f}"
        return "" if v is None else str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def percentile(values: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(values, q)) if values else 0.0


def reader_path(arg: str | None) -> str:
    """The reader to benchmark: ``--reader``, else models/reader; exits if it is not there."""
    from qa.settings import DEFAULT_READER

    path = arg or str(DEFAULT_READER)
    if (path.startswith((".", "/")) or "models/" in path) and not (Path(path) / "config.json").exists():
        sys.exit(
            f"no reader model at {path}: train it (see models/reader/MODEL_CARD.md or "
            "scripts/train_reader.py) or pass --reader PATH"
        )
    return path
