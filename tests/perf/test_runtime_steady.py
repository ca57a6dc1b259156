"""`python -m bench.perf.runtime --steady`: staggered starts on real kernels give the steady figures, every
episode of the level runs, and the first wave's starts are spread over one ideal episode (not all at
once, which is what the default figure measures)."""

from __future__ import annotations

import pytest

from bench.perf._workload import CALLS_PER_EPISODE, open_workload
from bench.perf.runtime import measure_steady
from claw._files import temporary_directory

pytestmark = pytest.mark.slow

LATENCY_MS = 100.0


@pytest.mark.anyio
@pytest.mark.timeout(600)
async def test_steady_level_spreads_the_first_wave_and_measures() -> None:
    async with (
        temporary_directory(prefix="claw-steady-") as folder,
        open_workload(folder, LATENCY_MS) as work,
    ):
        figures = await measure_steady(work, 3, 9, LATENCY_MS)
        timeline = list(work.timeline)
    assert len(timeline) == 9  # every episode ran (and answered: the workload raises otherwise)
    first_wave = sorted(began for began, _ in timeline)[:3]
    period = CALLS_PER_EPISODE * LATENCY_MS / 1000
    # The third start waited for its 2/3-of-a-period delay; nothing can make it earlier.
    assert first_wave[2] - first_wave[0] >= 2 * period / 3 - 0.01
    efficiency = figures["steady_efficiency_3"]
    assert isinstance(efficiency, float) and efficiency > 0
    assert figures["steady_window_s_3"] > 0  # type: ignore[operator]


@pytest.mark.anyio
async def test_steady_needs_a_model_latency() -> None:
    async with temporary_directory(prefix="claw-steady-") as folder, open_workload(folder, 0.0) as work:
        with pytest.raises(ValueError, match="latency"):
            await measure_steady(work, 2, 4, 0.0)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
