"""The published configuration end to end on CPU: `claw eval --preset paper`, overridden only to pick one
real sample per kind (image, video, multi-video) from ../shared/benchmarks, to tiny random SAM 3 and
Depth Anything 3 checkpoints, and to a mock model that answers like a thinking model. In each episode the
agent calls Reconstruct, SAM3, `vlm.ask` and `vlm.locate`, and every call must succeed.

The full form needs the GPU extra (torch, transformers, depth-anything-3) and runs in `make test-models`;
the short form serves both operations with the `costmodel` backend (no torch) and runs in `make test`.
Also: a black-box run against an OpenAI-compatible server started as a separate process (answering with
`<think>` blocks) and an external perception server on TCP, both reached through config alone.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from claw.events import (
    CellExecuted,
    CellProposed,
    EpisodeFailed,
    EpisodeFinished,
    Event,
    LLMFailed,
    LLMResponded,
    RunFinished,
    decode_event,
)
from servers.mockllm.policies.probe import REASONING_MARK
from tests._claw_cli import run_claw
from tests.e2e.page_samples import KINDS, SHARED, materialize_page_sample

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/benchmarks (the real samples) is not here"),
]

HAS_MODELS = all(
    importlib.util.find_spec(m) is not None for m in ("torch", "transformers", "depth_anything_3")
)
_COSTMODEL = '[perception]\noperations = { reconstruct = "costmodel", segment = "costmodel" }\n'


def _paper_eval(
    config: Path, run_dir: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`claw eval --preset paper --config CONFIG --run-dir RUN_DIR --quiet`, run to its end."""
    args = ("--preset", "paper", "--config", str(config), "--run-dir", str(run_dir), "--quiet")
    return run_claw("eval", *args, timeout=900, env=env)


def _events(run_dir: Path) -> list[Event]:
    return [decode_event(line) for line in (run_dir / "events.jsonl").read_bytes().splitlines()]


def _config(tmp_path: Path, kind: str, extra: str) -> Path:
    data = tmp_path / "data" / kind
    suite = materialize_page_sample(kind, data)
    path = tmp_path / f"{kind}.toml"
    path.write_text(f'suite = "{suite}"\nn = 1\ndata_dir = "{data}"\n{extra}', encoding="utf-8")
    return path


def _check_episode(events: list[Event]) -> list[str]:
    """Assert the one episode used every tool successfully; return the probe cell's stdout lines."""
    assert isinstance(events[-1], RunFinished) and events[-1].status == "success", events[-1]
    assert not [e for e in events if isinstance(e, LLMFailed | EpisodeFailed)]
    finished = [e for e in events if isinstance(e, EpisodeFinished)]
    assert len(finished) == 1 and finished[0].reason == "answered", finished
    cells = [e for e in events if isinstance(e, CellExecuted)]
    assert cells and all(c.status == "ok" for c in cells), [(c.error_type, c.error_message) for c in cells]
    responded = [e for e in events if isinstance(e, LLMResponded)]
    assert {"planner", "agent", "vlm_ask", "vlm_locate"} <= {e.role for e in responded}
    assert all(REASONING_MARK in e.reasoning for e in responded)  # thinking format, kept apart
    assert not any(REASONING_MARK in e.content for e in responded)
    assert not any(REASONING_MARK in e.code for e in events if isinstance(e, CellProposed))
    out = cells[0].stdout.splitlines()
    assert [line.split()[0] for line in out] == ["reconstruct", "sam3", "vlm.ask", "vlm.locate", "depth"]
    assert out[3].startswith("vlm.locate True (1, 4)")
    return out


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory: pytest.TempPathFactory) -> str:
    if not HAS_MODELS:
        pytest.skip("the GPU extra (torch, transformers, depth-anything-3) is not installed")
    from tests.perception.tiny_checkpoints import tiny_da3, tiny_sam3

    sam3, da3 = tmp_path_factory.mktemp("sam3"), tmp_path_factory.mktemp("da3")
    tiny_sam3(sam3)
    tiny_da3(da3)
    return f'[perception.weights]\nsam3 = "{sam3}"\nda3 = "{da3}"\n'


@pytest.mark.parametrize("kind", list(KINDS))
def test_paper_preset_with_tiny_sam3_and_da3(kind: str, tiny_weights: str, tmp_path: Path) -> None:
    config = _config(tmp_path, kind, '[models]\npolicy = "probe"\n' + tiny_weights)
    done = _paper_eval(config, tmp_path / "r")
    assert done.returncode == 0, done.stderr[-3000:]
    out = _check_episode(_events(tmp_path / "r"))
    assert float(out[4].split()[-1]) > 0.0  # depth varies: a real network answered, not a placeholder
    resolved = (tmp_path / "r" / "config.json").read_text()
    assert '"reconstruct": "da3"' in resolved and '"segment": "sam3"' in resolved


@pytest.mark.parametrize("kind", list(KINDS))
def test_paper_preset_short_form_without_torch(kind: str, tmp_path: Path) -> None:
    config = _config(tmp_path, kind, '[models]\npolicy = "probe"\n' + _COSTMODEL)
    done = _paper_eval(config, tmp_path / "r")
    assert done.returncode == 0, done.stderr[-3000:]
    _check_episode(_events(tmp_path / "r"))


@contextmanager
def _process(command: list[str], ready_prefix: str) -> Iterator[str]:
    """Start `command`; yield the rest of its first stdout line that starts with `ready_prefix`."""
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            for line in process.stdout:  # bounded: the process prints its readiness line, then waits
                if line.startswith(ready_prefix):
                    yield line[len(ready_prefix) :].strip()
                    break
            else:
                pytest.fail(f"{command[2]} exited without a readiness line")
        finally:
            process.terminate()
            process.wait(timeout=60)


@pytest.mark.parametrize("reach", ["tcp", "socket"])
def test_black_box_model_and_perception_servers_through_config_alone(reach: str, tmp_path: Path) -> None:
    """An OpenAI-compatible server answering with `<think>` blocks and a perception server, both started
    outside claw; confined kernels reach perception through a relayed Unix socket whether the config
    names the server's TCP URL (+ token) or its socket."""
    model = [sys.executable, "-m", "servers.mockllm", "--policy", "probe", "--reasoning", "tags"]
    model += ["--port", "0", "--model", "probe-model"]
    socket = tmp_path / "external.sock"
    perception = [sys.executable, "-m", "servers.perception", "--backend", "costmodel", "--port", "0"]
    perception += ["--socket", str(socket), "--cost-ms", "0,0"]
    with _process(model, "READY ") as url, _process(perception, "READY ") as ready:
        fields = dict(part.split("=", 1) for part in ready.split())
        extra = f'[[models.agent]]\nurl = "{url}"\nmodel = "probe-model"\n'
        if reach == "tcp":
            extra += f'[perception]\nurl = "{fields["tcp"]}"\ntoken_env = "CLAW_TEST_PERCEPTION_TOKEN"\n'
        else:
            extra += f'[perception]\nsocket = "{socket}"\n'
        config = _config(tmp_path, "image", extra)
        env = {**os.environ, "CLAW_TEST_PERCEPTION_TOKEN": fields["token"]}
        done = _paper_eval(config, tmp_path / "r", env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    _check_episode(_events(tmp_path / "r"))
