"""The repository-wide blockbuster fixture (tests/conftest.py): a blocking call on the event loop fails the
test, the same call in a worker thread or in a test marked `allow_blocking` does not."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from blockbuster import BlockingError


async def test_a_blocking_read_on_the_loop_is_refused() -> None:
    with pytest.raises(BlockingError, match="read"):
        Path(__file__).read_bytes()


async def test_the_same_read_in_a_worker_thread_is_fine() -> None:
    data = await anyio.to_thread.run_sync(Path(__file__).read_bytes)
    assert b"blockbuster" in data


@pytest.mark.allow_blocking("checks that the marker lifts the guard")
async def test_the_marker_lifts_the_guard() -> None:
    assert b"blockbuster" in Path(__file__).read_bytes()
