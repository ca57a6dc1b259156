"""Import layering that DESIGN.md draws: `claw` never imports the helper servers, not even lazily
inside a function (it starts them as processes and names what they serve through `claw.wire.names`),
and only its command line (`claw/cli`, which wires the library to the benchmarks' reports) imports
`bench`; the helper servers never import the benchmarks (the synthetic scenes they share live in the
neutral `synthscene`), and `synthscene` imports neither. The servers serve exactly the names the
runtime checks configs against."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from claw.wire.names import MOCK_POLICIES, PERCEPTION_BACKENDS, PERCEPTION_NOISE
from servers.mockllm.policy import POLICIES
from servers.perception._backends.synthetic import NOISE_MODELS
from servers.perception._loader import available_backends

_ROOT = Path(__file__).resolve().parents[1]


def _imports(package: str) -> list[tuple[str, str]]:
    found = []
    for path in sorted((_ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((str(path.relative_to(_ROOT)), node.module))
            elif isinstance(node, ast.Import):
                found.extend((str(path.relative_to(_ROOT)), alias.name) for alias in node.names)
    return found


@pytest.mark.parametrize(
    ("package", "forbidden", "exempt"),
    [
        ("claw", ("servers",), ()),
        ("claw", ("bench",), ("claw/cli/",)),
        ("servers", ("bench",), ()),
        ("synthscene", ("bench", "servers"), ()),
    ],
)
def test_package_does_not_import_upward(
    package: str, forbidden: tuple[str, ...], exempt: tuple[str, ...]
) -> None:
    upward = [
        (path, module)
        for path, module in _imports(package)
        if module.split(".")[0] in forbidden and not path.startswith(exempt)
    ]
    assert upward == []


def test_the_servers_serve_exactly_the_names_the_runtime_checks() -> None:
    assert tuple(sorted(POLICIES)) == MOCK_POLICIES
    assert tuple(available_backends()) == PERCEPTION_BACKENDS
    assert tuple(sorted(NOISE_MODELS)) == PERCEPTION_NOISE
