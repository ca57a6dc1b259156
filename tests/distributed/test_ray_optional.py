"""Ray stays optional: a normal `claw eval` never imports it, and `--ray` without Ray installed says
what to install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from claw.cli import build_parser, eval_config_from_args
from claw.config import EvalConfig, config_from_mapping
from claw.distributed import executor_for
from claw.distributed.cluster import import_ray
from claw.errors import ConfigError

_NORMAL_RUN = """
import sys
from claw.cli import main
code = main(["eval", "--n", "1", "--run-dir", sys.argv[1], "--quiet"])
assert code == 0, code
assert "ray" not in sys.modules, "a run without --ray imported Ray"
"""


@pytest.mark.slow
def test_a_run_without_ray_never_imports_it(tmp_path: Path) -> None:
    ran = subprocess.run(
        [sys.executable, "-c", _NORMAL_RUN, str(tmp_path / "run")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert (tmp_path / "run" / "results.jsonl").read_text().count("\n") == 1


def test_ray_missing_is_a_one_line_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what an import of an absent package raises
    with pytest.raises(ConfigError, match=r"pip install 'claw\[ray\]'"):
        import_ray()


def test_ray_flags_and_config_section() -> None:
    args = build_parser().parse_args(["eval", "--ray", "auto", "--ray-workers", "3"])
    config = eval_config_from_args(args)
    assert (config.ray.address, config.ray.workers) == ("auto", 3)
    assert config_from_mapping({"ray": {"address": "10.0.0.1:6379", "worker_gpus": 1}}).ray.worker_gpus == 1
    with pytest.raises(ConfigError, match=r"ray\.workers must be >= 0"):
        config_from_mapping({"ray": {"workers": -1}})
    assert executor_for(EvalConfig(), lambda _line: None) is None


def test_ray_workers_without_a_cluster_is_refused_not_ignored() -> None:
    """`--ray-workers 4` alone would otherwise run on this machine, without Ray, saying nothing."""
    with pytest.raises(ConfigError, match="--ray-workers needs a Ray cluster: add --ray"):
        eval_config_from_args(build_parser().parse_args(["eval", "--ray-workers", "4"]))
