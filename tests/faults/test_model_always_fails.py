"""A model endpoint that fails every chat request in one way (5xx, 429, no answer, truncated JSON, garbage)
past its retries: every episode still ends, as a typed `error` (never a score) with the model failure
in its log, exactly one result line each, and the run finishes (a resume retries them: see
test_model_faults)."""

from __future__ import annotations

from pathlib import Path

import anyio
import msgspec
import pytest

from claw.config import EndpointConfig, EvalConfig, ModelsConfig
from claw.events import LLMFailed, decode_result
from claw.llm.mockserver import start_mock_server
from claw.runtime.runner import run_eval
from tests.faults.fault_helpers import HARD_DEADLINE_S, read_run, small_config

pytestmark = pytest.mark.slow

N = 2
QUICK = {"max_retries": 1}


def _against(run_dir: Path, url: str, **models: object) -> EvalConfig:
    endpoint = EndpointConfig(url=url, model="mock")
    models_config = ModelsConfig(agent=[endpoint], **models)  # type: ignore[arg-type]
    return msgspec.structs.replace(small_config(run_dir, n=N), models=models_config)


@pytest.mark.parametrize(
    ("fault", "models", "error_type"),
    [
        (["--error-rate", "1"], QUICK, "LLMBadResponse"),
        (["--rate-limit-rate", "1", "--retry-after-s", "0.1"], QUICK, "LLMRateLimited"),
        # The server never answers, so a short attempt timeout races nothing.
        (["--hang-rate", "1", "--hang-s", "600"], {**QUICK, "attempt_timeout_s": 1.0}, "LLMTimeout"),
        (["--truncate-rate", "1"], QUICK, "LLMBadResponse"),
        (["--garbage-rate", "1"], QUICK, "LLMBadResponse"),
    ],
    ids=["5xx", "429", "no-answer", "truncated", "garbage"],
)
async def test_an_endpoint_that_always_fails_ends_every_episode_as_an_error(
    tmp_path: Path, fault: list[str], models: dict[str, object], error_type: str
) -> None:
    run_dir = tmp_path / "r"
    with anyio.fail_after(HARD_DEADLINE_S):
        async with start_mock_server("scripted", seed=0, extra_args=fault) as url:
            summary = await run_eval(_against(run_dir, url, **models))
    record = await read_run(run_dir)
    assert len(record.finished) == N and not record.failed
    assert {f.reason for f in record.finished.values()} == {"error"}
    assert (summary.n, summary.errors) == (0, N)
    for episode_id in record.finished:
        failed = [e for e in record.events if isinstance(e, LLMFailed) and e.episode_id == episode_id]
        assert failed and {e.error_type for e in failed} == {error_type}
    lines = (await anyio.to_thread.run_sync((run_dir / "results.jsonl").read_bytes)).splitlines()
    ids = [decode_result(line).episode_id for line in lines]
    assert sorted(ids) == sorted(record.finished), "an episode was recorded twice or lost"
    assert record.run_finished()[-1].status == "success"
