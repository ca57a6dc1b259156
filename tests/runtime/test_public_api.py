"""The embeddable surface is a written-down, sorted list, and every name on it resolves."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import claw


def test_all_is_sorted_and_resolves() -> None:
    assert claw.__all__ == sorted(claw.__all__)
    for name in claw.__all__:
        assert getattr(claw, name) is not None


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = claw.nope  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "module",
    sorted(
        m.name
        for m in pkgutil.walk_packages(claw.__path__, "claw.")
        if not m.name.rsplit(".", 1)[-1].startswith("_")
    ),
)
def test_public_modules_declare_all_and_a_docstring(module: str) -> None:
    loaded = importlib.import_module(module)
    assert loaded.__doc__ and loaded.__doc__.strip(), f"{module} has no module docstring"
    exported = getattr(loaded, "__all__", None)
    if exported is not None:
        for name in exported:
            assert hasattr(loaded, name), f"{module}.__all__ names missing {name}"
