"""`claw eval --ray ADDRESS`: the same evaluation on a Ray cluster, with results equal to a single-machine
run. Without `--ray` (or `[ray] address`) nothing here runs and Ray is never imported.

Design. The driver is the ordinary `run_eval` with a `RayExecutor` in place of the in-process one: it
owns the run directory (config, the resume set, `events.jsonl`, `results.jsonl`, `summary.json`), draws
the suite's unfinished samples lazily and hands them to worker actors (`dispatch.Dispatcher`: each worker
holds at most twice its `[limits] episodes`). Each worker (`worker.ShardWorker`) is a whole claw runner:
its own helper services, kernel pool, confinement, model transport and limits, exactly the
`LocalExecutor` a single-process run uses. Workers send back every event their episodes emit, as the
JSON lines `events.jsonl` holds, in batches the driver pulls (`claw.wire.ray`: msgspec bytes only, no
pickled claw object); the driver puts them on its bus, so there is one merged `events.jsonl` and
`results.jsonl`, and the progress display, `claw tail`, `claw report` and resume work unchanged.

Exactly once. An episode id is `suite/sample/seed`; the driver records the first `EpisodeFinished` or
`EpisodeFailed` of an id and drops any later event of it. A worker lost mid-run (its process or node
died: any failed Ray call) gives its unfinished episodes back to the queue, for the others; what it had
finished is already in `results.jsonl` and never runs again. Its partial episodes' events stay in
`events.jsonl` as evidence, followed by the complete re-run. A driver that dies takes its (non-detached)
actors with it; re-running the same command resumes from the run directory, like any claw run.

Shared storage. Samples carry paths to their frames, which the driver's suite writes under `RUN/media`
(or `inputs.media_dir`), and episodes write shown images into the run directory: both must be at the
same path on every node (a shared filesystem, as on a SLURM cluster; trivially so on one machine).
Worker service logs go to `RUN/logs/<worker>/`; `RUN/logs/ray-workers.jsonl` says which process on which
node each worker was.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from claw.config import EvalConfig

if TYPE_CHECKING:
    from claw.runtime.executor import EpisodeExecutor

__all__ = ["executor_for"]


def executor_for(config: EvalConfig, report: Callable[[str], None]) -> EpisodeExecutor | None:
    """The Ray executor when `config.ray.address` is set, else None (run in this process)."""
    if config.ray.address is None:
        return None
    from claw.distributed.cluster import RayExecutor

    return RayExecutor(config.ray, report=report)
