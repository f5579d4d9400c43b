"""qa as people install it: a built wheel, installed into a fresh virtual environment outside
the checkout, answers offline with the reader it carries.

The wheel is built from a copy of the files a clean clone has (pyproject.toml, README.md, qa/,
models/reader/) and installed with ``--no-deps``; the new environment sees the dependencies of
the test environment through a ``.pth`` line (a path only: the checkout's editable install,
which the test environment holds, is not activated there), so nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.conftest import CARD_QUESTION, ROOT, SAMPLE_ARTICLE


def run(cmd, cwd, env=None, timeout=600):
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n"
                             f"{proc.stderr[-4000:]}")
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory, trained_reader) -> Path:
    """The bin/ folder of a fresh venv with qa installed from its wheel."""
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src)
    shutil.copytree(ROOT / "qa", src / "qa", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(trained_reader, src / "models" / "reader")
    build = run([sys.executable, "-m", "pip", "wheel", src, "--no-deps", "--no-build-isolation", "--no-index",
                 "-w", tmp / "wheel", "-v"], cwd=tmp)
    wheel = next((tmp / "wheel").glob("qa-*.whl"))
    env_dir = tmp / "venv"
    env_dir.mkdir()
    (env_dir / "build.log").write_text(build.stdout + build.stderr)
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    purelib = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                       cwd=tmp).stdout.strip())
    (purelib / "test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel],
        cwd=tmp)
    return env_dir / "bin"


def outside_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return env | {"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def test_the_build_gives_no_deprecation_warning(installed):
    log = (installed.parent / "build.log").read_text()
    assert "deprecated" not in log.lower(), [line for line in log.splitlines() if "deprecat" in line.lower()]


def test_the_wheel_carries_the_reader_and_the_chat(installed):
    where = run([installed / "python", "-c", "import qa, qa.chat, qa.api; from qa.settings import DEFAULT_READER; "
                 "print(qa.__file__); print(DEFAULT_READER)"], cwd=installed, env=outside_env()).stdout.split()
    package, reader = Path(where[0]), Path(where[1])
    venv_dir = installed.parent
    assert venv_dir in package.parents, f"qa imported from {package}, not from the installed wheel"
    assert venv_dir in reader.parents and (reader / "model.safetensors").is_file()
    assert (reader / "answerability.json").is_file() and (reader / "calibration.json").is_file()


def test_installed_qa_answers_the_card_question_offline_outside_the_checkout(installed, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SAMPLE_ARTICLE, corpus)
    work = tmp_path / "elsewhere"
    work.mkdir()
    out = run([installed / "qa", "ask", "--json", CARD_QUESTION, "--corpus", corpus, "--index",
               tmp_path / "index"], cwd=work, env=outside_env())
    answer = json.loads(out.stdout)
    assert answer["found"] is True and answer["answer"] == "13,000", answer
    assert answer["citations"][0]["article_id"] == SAMPLE_ARTICLE.name


def test_installed_qa_has_its_version_and_serve_command(installed, tmp_path):
    assert run([installed / "qa", "--version"], cwd=tmp_path, env=outside_env()).stdout.strip() == "qa 0.1.0"
    assert "--share" in run([installed / "qa", "serve", "--help"], cwd=tmp_path, env=outside_env()).stdout


def torch_install_line(tmp_path, *overrides: str) -> str:
    out = run(["make", "-n", "-C", ROOT, f"{tmp_path}/v/.installed", f"VENV={tmp_path}/v", *overrides],
              cwd=tmp_path).stdout
    return next(line for line in out.splitlines() if "torch==" in line)


def test_make_installs_torch_from_the_cpu_only_index_by_default(tmp_path):
    assert torch_install_line(tmp_path).endswith("torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu")


def test_the_torch_index_is_a_make_variable_a_user_can_override(tmp_path):
    assert torch_install_line(tmp_path, "TORCH_INDEX=").rstrip().endswith("torch==2.13.0")
    assert torch_install_line(tmp_path, "TORCH_INDEX=https://example.org/whl").endswith("--index-url https://example.org/whl")
