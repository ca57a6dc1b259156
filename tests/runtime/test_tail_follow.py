"""`claw tail -f` follows a growing event log by waiting on file changes (inotify), not on a timer: lines
appended after the follower reached the end arrive, and following ends at `RunFinished`. Started before
the run has written its log, it waits for the log."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from claw import _inotify as inotify_module
from claw.errors import ClawError
from claw.events import RunFinished, RunStarted, encode_line, stamp
from claw.runtime.tail import tail_events

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _started() -> bytes:
    return encode_line(RunStarted(**stamp("r"), suite="s", claw_version="0", config={}))


def _finished() -> bytes:
    fields = {"status": "success", "episodes": 1, "failed": 0, "accuracy": 1.0, "duration_s": 1.0}
    return encode_line(RunFinished(**stamp("r"), **fields))


async def test_follow_wakes_on_appends_and_ends_at_run_finished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The polling fallback would still pass; an hour-long one would not.
    monkeypatch.setattr(inotify_module, "_FALLBACK_S", 3600.0)
    log = anyio.Path(tmp_path / "events.jsonl")
    await log.write_bytes(_started())
    seen: list[str] = []
    reached_end = anyio.Event()

    async def follow() -> None:
        async for line in tail_events(tmp_path, follow=True):
            seen.append(line)
            reached_end.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(follow)
        await reached_end.wait()
        async with await anyio.open_file(tmp_path / "events.jsonl", "ab") as handle:
            await handle.write(_finished())
    assert [line.split()[3] for line in seen] == ["run_started", "run_finished"]


async def test_follow_started_before_the_run_waits_for_its_log(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"  # `claw eval --run-dir` has not made it yet
    seen: list[str] = []

    async def follow() -> None:
        seen.extend([line async for line in tail_events(run_dir, follow=True)])

    with anyio.fail_after(120):  # a bound on a broken follower, not a speed requirement
        async with anyio.create_task_group() as tg:
            tg.start_soon(follow)
            await anyio.Path(run_dir).mkdir()
            await anyio.Path(run_dir / "events.jsonl").write_bytes(_started() + _finished())
    assert [line.split()[3] for line in seen] == ["run_started", "run_finished"]


async def test_without_follow_a_missing_log_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(ClawError, match="no event log at"):
        async for _line in tail_events(tmp_path / "run"):
            pass
