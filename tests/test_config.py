"""Config validation: every number has a range, endpoints are URLs, names outside a `Literal` list the
valid values with the closest one; each failure is one line naming the field."""

from __future__ import annotations

import math

import pytest

from claw.config import AgentConfig, EvalConfig, config_from_mapping
from claw.errors import ConfigError

BAD_VALUES = [
    ({"agent": {"cell_timeout_s": math.nan}}, "agent.cell_timeout_s"),
    ({"agent": {"cell_timeout_s": math.inf}}, "agent.cell_timeout_s"),
    ({"agent": {"episode_timeout_s": 0}}, "agent.episode_timeout_s"),
    ({"agent": {"max_stdout_chars": 0}}, "agent.max_stdout_chars"),
    ({"agent": {"temperature": -0.1}}, "agent.temperature"),
    ({"agent": {"max_kernel_restarts": -1}}, "agent.max_kernel_restarts"),
    ({"sandbox": {"memory_mb": -1}}, "sandbox.memory_mb"),
    ({"sandbox": {"max_open_files": 0}}, "sandbox.max_open_files"),
    ({"models": {"max_retries": -1}}, "models.max_retries"),
    ({"models": {"request_timeout_s": 0}}, "models.request_timeout_s"),
    ({"models": {"first_byte_timeout_s": -5}}, "models.first_byte_timeout_s"),
    ({"models": {"agent": [{"url": "localhost:8000/v1", "model": "m"}]}}, "models.agent[0].url"),
    ({"models": {"planner": [{"url": "ftp://h/v1", "model": "m"}]}}, "models.planner[0].url"),
    ({"models": {"agent": [{"url": "http://h/v1", "model": " "}]}}, "models.agent[0].model"),
    (
        {"models": {"agent": [{"url": "http://h/v1", "model": "m", "max_concurrency": 0}]}},
        "models.agent[0].max_concurrency",
    ),
    ({"perception": {"url": "127.0.0.1:9000"}}, "perception.url"),
    ({"perception": {"max_delay_ms": math.nan}}, "perception.max_delay_ms"),
    ({"perception": {"connect_timeout_s": 0}}, "perception.connect_timeout_s"),
    ({"limits": {"kernels": 0}}, "limits.kernels"),
    ({"n": 0}, "n"),
]


@pytest.mark.parametrize(("data", "field"), BAD_VALUES, ids=[f for _, f in BAD_VALUES])
def test_a_bad_value_is_one_line_naming_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_mapping(data)
    assert caught.value.field == field
    assert field in str(caught.value)
    assert "\n" not in str(caught.value)


def test_values_built_in_python_are_checked_too() -> None:
    with pytest.raises(ConfigError, match=r"agent\.cell_timeout_s"):
        EvalConfig(agent=AgentConfig(cell_timeout_s=math.nan))


def test_the_defaults_and_good_values_pass() -> None:
    config = config_from_mapping(
        {
            "models": {"agent": [{"url": "https://api.example.test/v1", "model": "m"}], "max_retries": 0},
            "agent": {"token_budget": 0, "max_images_per_step": 0, "temperature": 0},
            "perception": {"url": "http://127.0.0.1:9000", "max_delay_ms": 0},
        }
    )
    assert config.models.max_retries == 0
    assert EvalConfig().agent.episode_timeout_s > EvalConfig().agent.cell_timeout_s


@pytest.mark.parametrize(
    ("data", "suggestion"),
    [
        ({"agent": {"interface": "cdoe"}}, "'code'"),
        ({"agent": {"interface": "toolcall"}}, "'tool-call'"),
        ({"sandbox": {"confinement": "bwarp"}}, "'bwrap'"),
    ],
)
def test_a_misspelt_choice_lists_the_values_and_the_closest(data: dict[str, object], suggestion: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_mapping(data)
    message = str(caught.value)
    assert "choose one of:" in message
    assert f"did you mean {suggestion}?" in message


def test_a_choice_far_from_every_value_gets_no_suggestion() -> None:
    with pytest.raises(ConfigError) as caught:
        config_from_mapping({"agent": {"interface": "zzzzzz"}})
    assert "did you mean" not in str(caught.value)
    assert "code, single-pass, tool-call, cot" in str(caught.value)


def test_a_misspelt_suite_suggests_the_closest() -> None:
    from claw.errors import SuiteError
    from claw.suite import suite_factory

    with pytest.raises(SuiteError, match=r"unknown suite 'syntetic' \(did you mean 'synthetic'\?\)"):
        suite_factory("syntetic")
