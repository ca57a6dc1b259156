"""The action-interface registry: every name the config and the CLI accept loads a strategy of that name,
unknown names are refused with the allowed ones, and the runtime and CLI hold no per-interface branches."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from claw.agent.interfaces import get_interface, interface_names
from claw.cli import build_parser
from claw.config import config_from_mapping
from claw.errors import ConfigError
from claw.runtime.episode import Begin, CallModel, advance, initial_state
from claw.suite import Frame, Sample, Video

_ROOT = Path(__file__).resolve().parents[2]
SAMPLE = Sample(
    id="s",
    suite="unit",
    question="Which is nearer?",
    answer_format="letter",
    ground_truth="A",
    videos=(Video(name="v", frames=(Frame(path="f.png", index=0),)),),
    options=("cup", "chair"),
)


@pytest.mark.parametrize("name", interface_names())
def test_every_registered_name_loads_its_strategy(name: str) -> None:
    strategy = get_interface(name)  # type: ignore[arg-type]
    assert strategy.name == name
    opening = strategy.opening(SAMPLE, ("data:image/png;base64,AA==",), 7)
    assert opening.system and "Which is nearer?" in opening.first_user.text()


def test_cli_choices_and_config_type_come_from_the_registry() -> None:
    for name in interface_names():
        assert build_parser().parse_args(["eval", "--interface", name]).interface == name
        assert config_from_mapping({"agent": {"interface": name}}).agent.interface == name
    # The CLI leaves validation to the config so a misspelling gets the valid names and a did-you-mean.
    cli = [sys.executable, "-c", "from claw.cli import main; raise SystemExit(main())"]
    done = subprocess.run(
        [*cli, "eval", "--interface", "tool-cal"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    err = done.stderr
    assert "choose one of: " + ", ".join(interface_names()) in err
    assert "did you mean 'tool-call'" in err
    with pytest.raises(ConfigError, match="interface"):
        config_from_mapping({"agent": {"interface": "telepathy"}})


@pytest.mark.parametrize("name", interface_names())
def test_a_planner_call_opens_only_interfaces_that_plan(name: str) -> None:
    _, actions = advance(initial_state(name, 5), Begin(sample=SAMPLE, plan=True))  # type: ignore[arg-type]
    (call,) = actions
    assert isinstance(call, CallModel)
    assert (call.role == "planner") == get_interface(name).plans  # type: ignore[arg-type]


@pytest.mark.parametrize("path", ["claw/runtime", "claw/cli"])
def test_runtime_and_cli_do_not_branch_on_the_interface_name(path: str) -> None:
    files = [_ROOT / path] if path.endswith(".py") else sorted((_ROOT / path).glob("*.py"))
    branches = [
        f"{f.name}:{n}"
        for f in files
        for n, line in enumerate(f.read_text().splitlines(), 1)
        if re.search(r"interface\s*(==|!=|in\b|not in\b)", line)
    ]
    assert branches == []


def test_the_driver_neither_parses_replies_nor_renders_prompts() -> None:
    tree = ast.parse((_ROOT / "claw" / "runtime" / "driver.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not imported & {"claw.agent.parsing", "claw.agent.observations", "claw.agent.prompts"}
    assert "claw.agent" not in imported
