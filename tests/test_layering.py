"""Import layering that DESIGN.md draws: the helper servers never import the benchmarks (the synthetic
scenes they share live in the neutral `synthscene`), and `synthscene` imports neither."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

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
    ("package", "forbidden"), [("servers", ("bench",)), ("synthscene", ("bench", "servers"))]
)
def test_package_does_not_import_upward(package: str, forbidden: tuple[str, ...]) -> None:
    upward = [(path, module) for path, module in _imports(package) if module.split(".")[0] in forbidden]
    assert upward == []
