"""Every command in the README's "Using it" block runs, as written, against a tiny run: the test reads
the block, shrinks sample counts (`--n 100` becomes `--n 4`), writes the README's own TOML example
pointed at a mock model server, and runs each line with this interpreter in a scratch directory.
`claw serve vllm` needs vLLM and GPUs, so only its `--help` runs here."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._claw_cli import run_claw

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

README = Path(__file__).resolve().parents[2] / "README.md"
SMALLER = {"100": "4", "20": "2"}


def _block(heading: str, fence: str) -> str:
    text = README.read_text()
    section = text[text.index(heading) :]
    start = section.index(f"```{fence}\n") + len(fence) + 4
    return section[start : section.index("```", start)]


def _commands() -> list[list[str]]:
    commands = []
    for line in _block("## Using it", "sh").splitlines():
        words = shlex.split(line, comments=True)
        assert words[0] == ".venv/bin/claw", line
        commands.append(words[1:])
    return commands


def _shrunk(words: list[str]) -> list[str]:
    out = list(words)
    for i, word in enumerate(out[:-1]):
        if word == "--n" and out[i + 1] in SMALLER:
            out[i + 1] = SMALLER[out[i + 1]]
    if out[0] == "eval" and "--n" not in out and "--config" not in out and "--sample" not in out:
        out += ["--n", "2"]
    return out


@pytest.fixture(scope="module")
def mock_model() -> Iterator[tuple[str, str]]:
    """The README TOML's model, served by the mock server on a free loopback port."""
    model = re.search(r'model = "([^"]+)"', _block("## Using it", "toml"))
    assert model is not None
    command = [sys.executable, "-m", "servers.mockllm", "--policy", "scripted", "--port", "0"]
    server = subprocess.Popen([*command, "--model", model.group(1)], stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    ready = server.stdout.readline().strip()
    assert ready.startswith("READY "), ready
    yield ready.removeprefix("READY "), model.group(1)
    server.terminate()
    server.wait(timeout=30)
    server.stdout.close()


def _prepare(cwd: Path, url: str) -> None:
    toml = _block("## Using it", "toml").replace("n = 200", "n = 2")
    toml = re.sub(r'url = "[^"]+"', f'url = "{url}"', toml).replace("episodes = 64", "episodes = 4")
    (cwd / "my-run.toml").write_text(toml.replace("kernels = 64", "kernels = 4"))
    (cwd / "hostile.py").write_text("import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=2)\n")
    (cwd / "data" / "vsi").mkdir(parents=True)


def _run(words: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    words = [w.replace("/data/vsi", str(cwd / "data" / "vsi")) for w in words]
    return run_claw(*words, cwd=cwd, timeout=400)


EXPECTED_EXIT = {"data": 1}
"""Commands whose documented outcome is a non-zero exit: `data check` with benchmark files missing."""


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A directory kernels can read: `python -m` puts the working directory on the kernels' path, and
    pytest's own temporary directories are private to this user."""
    path = Path(tempfile.mkdtemp(prefix="claw-readme-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


def test_every_using_it_command_runs(scratch: Path, mock_model: tuple[str, str]) -> None:
    tmp_path = scratch
    _prepare(tmp_path, mock_model[0])
    commands = _commands()
    assert any(c[:2] == ["serve", "vllm"] for c in commands)
    for words in commands:
        if words[:2] == ["serve", "vllm"]:
            words = ["serve", "vllm", "--help"]
        done = _run(_shrunk(words), tmp_path)
        shown = f"claw {' '.join(words)}\nstdout: {done.stdout[-1500:]}\nstderr: {done.stderr[-1500:]}"
        assert done.returncode == EXPECTED_EXIT.get(words[0], 0), shown
        assert "Traceback" not in done.stderr, shown
    assert (tmp_path / "runs" / "syn100" / "report.html").is_file()
