"""A run's directory and identity: `RunLayout` (where its config, event log, results, summary, media and
logs live), `prepare_run` (create or reopen it; a run id is minted once and kept on resume) and
`suite_options` (what the suite is built with for this run).
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import msgspec

from claw.config import EvalConfig, PerceptionConfig
from claw.errors import ConfigError
from claw.suite import SuiteOptions
from claw.wire.names import GROUND_TRUTH_FOLDER

__all__ = ["RunLayout", "perception_config", "prepare_run", "suite_options"]


class RunLayout(msgspec.Struct, frozen=True, kw_only=True):
    """Where a run keeps its files."""

    run_id: str
    run_dir: Path
    config: EvalConfig

    @property
    def events(self) -> Path:
        """The event log, one JSON event per line."""
        return self.run_dir / "events.jsonl"

    @property
    def results(self) -> Path:
        """One scored result per line, per episode."""
        return self.run_dir / "results.jsonl"

    @property
    def summary(self) -> Path:
        """The run's aggregate scores."""
        return self.run_dir / "summary.json"

    @property
    def media(self) -> Path:
        """Where the suite writes rendered or extracted frames."""
        return self.run_dir / "media"

    @property
    def logs(self) -> Path:
        """Logs of the services the run started."""
        return self.run_dir / "logs"


def _new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


def prepare_run(config: EvalConfig) -> RunLayout:
    """Create (or reopen, to resume) the run directory and record the resolved config in it.

    Raises:
        ConfigError: the directory belongs to a run of another suite.
    """
    run_dir = Path(config.run_dir) if config.run_dir else None
    saved = run_dir / "config.json" if run_dir else None
    if saved is not None and saved.exists():
        previous = msgspec.json.decode(saved.read_bytes(), type=EvalConfig)
        if previous.suite != config.suite:
            raise ConfigError(
                f"{run_dir} holds a run of suite {previous.suite!r}, not {config.suite!r}; "
                "choose another --run-dir",
                field="run_dir",
            )
        run_id = previous.run_id or _new_run_id()
    else:
        run_id = config.run_id or _new_run_id()
    run_dir = run_dir or Path("runs") / run_id
    config = msgspec.structs.replace(config, run_id=run_id, run_dir=str(run_dir))
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_bytes(msgspec.json.format(msgspec.json.encode(config), indent=2))
    return RunLayout(run_id=run_id, run_dir=run_dir, config=config)


def perception_config(layout: RunLayout) -> PerceptionConfig:
    """The run's `[perception]`, its `truth_dir` defaulting to the media folder's ground-truth folder (where
    the synthetic suite keeps what it rendered, for the perception server alone)."""
    perception = layout.config.perception
    if perception.truth_dir is not None:
        return perception
    media = layout.config.inputs.media_dir or str(layout.media)
    return msgspec.structs.replace(perception, truth_dir=str(Path(media) / GROUND_TRUTH_FOLDER))


def suite_options(layout: RunLayout, skip: frozenset[str]) -> SuiteOptions:
    """What the run's suite is built with: its config's sample, data and input settings, the run's media
    directory, and the episodes to `skip` (already finished)."""
    config = layout.config
    return SuiteOptions(
        n=config.n,
        seed=config.seed,
        data_dir=config.data_dir,
        media_dir=config.inputs.media_dir or str(layout.media),
        noise=config.perception.noise,
        frames=config.inputs.frames,
        uniform_frames=config.inputs.uniform_frames,
        images=config.inputs.images,
        max_side=config.inputs.max_side,
        skip=skip,
    )
