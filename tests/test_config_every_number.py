"""Every number in a run's config is range-checked, found by walking `EvalConfig`'s type (so a number
added later is covered without a new test line): NaN, infinity and a negative value are one-line
`ConfigError`s that name the field, wherever the number sits (nested tables, endpoint lists, per-role
request settings)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import msgspec.inspect as mi
import pytest

from claw.config import EvalConfig, config_from_mapping
from claw.errors import ConfigError

_ENDPOINT = {"url": "http://127.0.0.1:8000/v1", "model": "m"}
_NEGATIVE_INT = -5
"""Below every allowed value (`top_k` allows -1: 'no limit', as vLLM does)."""


def _without_none(field_type: mi.Type) -> mi.Type:
    if isinstance(field_type, mi.UnionType):
        kept = [t for t in field_type.types if not isinstance(t, mi.NoneType)]
        if len(kept) == 1:
            return kept[0]
    return field_type


def _numbers(
    struct: mi.StructType, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """(path, "int" | "float") of every number field; an int path part is 'the first list item'."""
    for field in struct.fields:
        kind = _without_none(field.type)
        if isinstance(kind, mi.IntType | mi.FloatType):
            yield (*path, field.name), "int" if isinstance(kind, mi.IntType) else "float"
        elif isinstance(kind, mi.StructType):
            yield from _numbers(kind, (*path, field.name))
        elif isinstance(kind, mi.ListType) and isinstance(kind.item_type, mi.StructType):
            yield from _numbers(kind.item_type, (*path, field.name, 0))


def _nested(path: tuple[str | int, ...], value: object) -> dict[str, object]:
    data: object = value
    for part in reversed(path):
        data = [{**_ENDPOINT, **data}] if part == 0 and isinstance(data, dict) else {str(part): data}
    assert isinstance(data, dict)
    return data


NUMBERS = list(_numbers(mi.type_info(EvalConfig)))  # type: ignore[arg-type]


def test_the_walk_finds_the_numbers_in_every_kind_of_place() -> None:
    paths = {".".join(map(str, path)) for path, _ in NUMBERS}
    assert {"n", "agent.cell_timeout_s", "models.agent.0.max_concurrency"} <= paths
    assert {"models.requests.vlm_ask.top_p", "ray.worker_gpus", "sandbox.memory_mb"} <= paths
    assert len(paths) > 50


@pytest.mark.parametrize(("path", "kind"), NUMBERS, ids=[".".join(map(str, p)) for p, _ in NUMBERS])
def test_every_number_refuses_nan_infinity_and_negatives(path: tuple[str | int, ...], kind: str) -> None:
    bad: list[object] = [math.nan, math.inf, -1.0] if kind == "float" else [_NEGATIVE_INT]
    for value in bad:
        with pytest.raises(ConfigError) as refused:
            config_from_mapping(_nested(path, value))
        message = str(refused.value)
        assert "\n" not in message
        named = str(path[-1])
        assert named in message or named in (refused.value.field or ""), message
