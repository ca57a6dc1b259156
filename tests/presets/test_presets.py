"""The `paper` preset: shipped inside the package, selected by `--preset paper` or `preset = "paper"`,
sets the published defaults, and a config file and then flags override it."""

from __future__ import annotations

from pathlib import Path

import pytest

from claw.cli import build_parser, eval_config_from_args
from claw.config import EvalConfig, config_from_mapping, load_config
from claw.errors import ConfigError
from claw.presets import preset_mapping, preset_names


def _cli(*argv: str) -> EvalConfig:
    return eval_config_from_args(build_parser().parse_args(["eval", *argv]))


def _assert_published(config: EvalConfig) -> None:
    assert (config.suite, config.n, config.seed) == ("paper20-sc", 1000, 42)
    agent = config.agent
    assert (agent.interface, agent.max_steps, agent.plan, agent.cell_timeout_s) == ("code", 30, True, 600.0)
    assert (agent.max_tokens, agent.temperature, agent.key_frames) == (131072, 0.6, None)
    assert (config.inputs.frames, config.inputs.images, config.inputs.max_side) == ("benchmark", "crop", 768)
    for role in (config.models.requests.agent, config.models.requests.planner):
        assert (role.max_tokens, role.temperature) == (131072, 0.6)
        assert role.chat_template_kwargs == {"enable_thinking": True}
    assert config.models.requests.vlm_ask.max_tokens == 32768
    assert config.models.requests.vlm_ask.chat_template_kwargs == {"enable_thinking": True}
    assert config.perception.backend_for("segment") == "sam3"
    assert config.perception.backend_for("reconstruct") == "da3"


def test_the_paper_preset_ships_with_the_package() -> None:
    assert "paper" in preset_names()
    assert preset_mapping("paper")["suite"] == "paper20-sc"


def test_preset_flag_sets_every_published_default() -> None:
    config = _cli("--preset", "paper")
    assert config.preset == "paper"
    _assert_published(config)
    assert EvalConfig().agent.cell_timeout_s != 600.0 or EvalConfig().suite != "paper20-sc"


def test_flags_override_the_preset() -> None:
    config = _cli("--preset", "paper", "--n", "5", "--max-steps", "4", "--suite", "vstibench-sc")
    assert (config.n, config.agent.max_steps, config.suite) == (5, 4, "vstibench-sc")
    assert config.agent.cell_timeout_s == 600.0 and config.inputs.images == "crop"


def test_a_config_file_naming_the_preset_overrides_it(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text('preset = "paper"\nn = 50\n[agent]\nmax_steps = 10\n', encoding="utf-8")
    config = load_config(path)
    assert (config.n, config.agent.max_steps, config.agent.cell_timeout_s) == (50, 10, 600.0)
    assert config.suite == "paper20-sc" and config.agent.max_tokens == 131072
    flagged = _cli("--config", str(path), "--n", "7")
    assert (flagged.n, flagged.agent.max_steps, flagged.suite) == (7, 10, "paper20-sc")


def test_preset_flag_goes_under_a_config_file(tmp_path: Path) -> None:
    path = tmp_path / "run.toml"
    path.write_text('[inputs]\nimages = "fit"\n', encoding="utf-8")
    config = _cli("--config", str(path), "--preset", "paper")
    assert config.inputs.images == "fit" and config.suite == "paper20-sc"


def test_unknown_preset_names_the_shipped_ones() -> None:
    with pytest.raises(ConfigError, match="unknown preset 'papper'; shipped presets: paper"):
        config_from_mapping({"preset": "papper"})


def test_without_a_preset_nothing_changes() -> None:
    assert config_from_mapping({}) == EvalConfig()
