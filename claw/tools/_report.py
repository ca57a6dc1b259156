"""The per-cell report: IPython hooks that, before a cell, forget the last cell's outputs and, after it,
publish one `CellReport` (new or changed variables, summarised; shown images; the submitted answer; the
failing line of the cell) as a display_data message, so a cell costs the host one round trip.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from types import ModuleType, TracebackType
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from claw.tools._state import STATE
from claw.wire.kernel import REPORT_MIME, CellReport, VariableSummary

__all__ = ["post_run_cell", "pre_run_cell", "shell"]

_MAX_VARIABLES = 40
_MAX_PREVIEW = 80
_MINMAX_LIMIT = 20_000_000


def _signature(value: object) -> tuple[object, ...]:
    shape = getattr(value, "shape", None) if isinstance(value, np.ndarray) else None
    length = len(value) if isinstance(value, list | tuple | dict | set | str) else None
    return (id(value), type(value).__name__, shape, length)


def _reportable(name: str, value: object) -> bool:
    if name.startswith("_") or name in STATE.hidden:
        return False
    return not isinstance(value, ModuleType | type) and not inspect.isroutine(value)


def _summary(name: str, value: object) -> VariableSummary:
    kind = type(value).__name__
    if isinstance(value, np.ndarray):
        return _array_summary(name, value)
    if isinstance(value, bool | int | float | complex | np.generic | str | bytes) or value is None:
        preview = repr(value)
        return VariableSummary(name=name, type=kind, preview=preview[:_MAX_PREVIEW])
    length = len(value) if isinstance(value, list | tuple | dict | set | frozenset) else None
    return VariableSummary(name=name, type=kind, length=length, preview=_bounded_repr(value))


def _bounded_repr(value: object) -> str | None:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken user __repr__ must not break the report
        return None
    return text if len(text) <= _MAX_PREVIEW else text[: _MAX_PREVIEW - 1] + "…"


def _array_summary(name: str, array: npt.NDArray[Any]) -> VariableSummary:
    low = high = None
    if 0 < array.size <= _MINMAX_LIMIT and array.dtype.kind in "biuf":
        finite = array[np.isfinite(array)] if array.dtype.kind == "f" else array
        if finite.size:
            low, high = float(finite.min()), float(finite.max())
    preview = _bounded_repr(array.tolist()) if array.size <= 6 else None
    return VariableSummary(
        name=name,
        type="ndarray",
        shape=tuple(int(d) for d in array.shape),
        dtype=str(array.dtype),
        min=low,
        max=high,
        preview=preview,
    )


def _changed_variables(namespace: dict[str, Any]) -> tuple[list[VariableSummary], int]:
    summaries: list[VariableSummary] = []
    omitted = 0
    current: dict[str, tuple[object, ...]] = {}
    for name, value in list(namespace.items()):
        if not _reportable(name, value):
            continue
        current[name] = _signature(value)
        if STATE.signatures.get(name) == current[name]:
            continue
        if len(summaries) < _MAX_VARIABLES:
            summaries.append(_summary(name, value))
        else:
            omitted += 1
    STATE.signatures = current
    return summaries, omitted


def _cell_lineno(error: BaseException | None) -> int | None:
    if error is None:
        return None
    if isinstance(error, SyntaxError):
        return error.lineno
    for frame_tb in _walk(error.__traceback__):
        code = frame_tb.tb_frame.f_code
        if code.co_name == "<module>" and _is_cell_file(code.co_filename):
            return frame_tb.tb_lineno
    return None


def _walk(tb: TracebackType | None) -> Iterator[TracebackType]:
    while tb is not None:
        yield tb
        tb = tb.tb_next


def _is_cell_file(filename: str) -> bool:
    return "ipykernel_" in filename or filename.startswith("<ipython-input") or filename.startswith("<cell")


def pre_run_cell(info: object) -> None:
    """IPython hook: a new cell starts with no images and no answer."""
    STATE.begin_cell()


def post_run_cell(result: Any) -> None:
    """IPython hook: publish the finished cell's `CellReport`."""
    ipython = shell()
    error = result.error_before_exec or result.error_in_exec
    variables, omitted = _changed_variables(ipython.user_ns)
    cell = STATE.cell
    report = CellReport(
        variables=tuple(variables),
        variables_omitted=omitted,
        images=tuple(cell.images),
        images_dropped=cell.images_dropped,
        answer=cell.answer,
        error_lineno=_cell_lineno(error),
        tool_failures=_take_tool_failures(),
    )
    ipython.display_pub.publish(data={REPORT_MIME: msgspec.json.encode(report).decode()}, metadata={})


def _take_tool_failures() -> tuple[str, ...]:
    from claw.tools._client import take_failures

    return take_failures()


def shell() -> Any:
    """The running IPython shell."""
    from IPython import get_ipython

    return get_ipython()
