"""Pure helpers that turn a cell's raw kernel messages into a bounded `CellResult`: head+tail text
limits, terminal control sequences removed (`claw._text.printable`), the failing line of the cell, and
the final record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from claw._text import printable
from claw.wire.kernel import CellError, CellReport, CellResult, CellStatus

__all__ = ["BoundedText", "CellCollector", "strip_ansi"]

_CELL_LINE = re.compile(r"Cell In\[\d+\], line (\d+)")
_MAX_TRACEBACK = 4000


def strip_ansi(text: str) -> str:
    """`text` without terminal colour codes or any other control sequence (newlines and tabs kept)."""
    return printable(text)


@dataclass
class BoundedText:
    """Keeps the first `head` and last `tail` characters of a stream and counts what falls between."""

    head: int
    tail: int
    _start: str = ""
    _end: str = ""
    total: int = 0

    def add(self, text: str) -> None:
        """Append `text`."""
        self.total += len(text)
        room = self.head - len(self._start)
        if room > 0:
            self._start += text[:room]
            text = text[room:]
        if text:
            self._end = (self._end + text)[-self.tail :] if self.tail else ""

    @property
    def cut(self) -> int:
        """Characters dropped from the middle."""
        return self.total - len(self._start) - len(self._end)

    def text(self) -> str:
        """The kept text, with a marker where characters were cut."""
        if self.cut <= 0:
            return self._start + self._end
        marker = f"\n... [{self.cut} characters cut from the middle of {self.total}] ...\n"
        return self._start + marker + self._end


def _bounded(limit: int) -> BoundedText:
    head = max(1, limit // 4)
    return BoundedText(head=head, tail=max(0, limit - head))


@dataclass
class CellCollector:
    """Accumulates one cell's iopub messages."""

    max_stdout: int
    stdout: BoundedText = field(init=False)
    stderr: BoundedText = field(init=False)
    error: CellError | None = None
    report: CellReport | None = None

    def __post_init__(self) -> None:
        self.stdout = _bounded(self.max_stdout)
        self.stderr = _bounded(max(200, self.max_stdout // 4))

    def on_stream(self, content: dict[str, Any]) -> None:
        """A `stream` message."""
        target = self.stderr if content.get("name") == "stderr" else self.stdout
        target.add(printable(str(content.get("text", ""))))

    def on_result(self, content: dict[str, Any]) -> None:
        """An `execute_result` message: the value of a trailing expression, shown like print output."""
        text = content.get("data", {}).get("text/plain")
        if isinstance(text, str):
            self.stdout.add(printable(text) + "\n")

    def on_error(self, content: dict[str, Any]) -> None:
        """An `error` message."""
        trace = strip_ansi("\n".join(str(line) for line in content.get("traceback", [])))
        if len(trace) > _MAX_TRACEBACK:
            trace = "...\n" + trace[-_MAX_TRACEBACK:]
        match = _CELL_LINE.search(trace)
        self.error = CellError(
            ename=printable(str(content.get("ename", "Error"))),
            evalue=strip_ansi(str(content.get("evalue", "")))[:2000],
            traceback=trace,
            lineno=int(match.group(1)) if match else None,
        )

    def result(self, status: CellStatus, duration_s: float, problem: CellError | None = None) -> CellResult:
        """The final record; `problem` replaces the error for timeouts and deaths."""
        report = self.report or CellReport()
        error = problem or self._error_with_line(report)
        if status == "ok" and error is not None:
            status = "error"
        return CellResult(
            status=status,
            stdout=self.stdout.text(),
            stderr=self.stderr.text(),
            stdout_cut_chars=max(0, self.stdout.cut),
            error=error,
            duration_s=duration_s,
            variables=report.variables,
            images=report.images,
            images_dropped=report.images_dropped,
            answer=report.answer,
            tool_failures=report.tool_failures,
        )

    def _error_with_line(self, report: CellReport) -> CellError | None:
        if self.error is None or report.error_lineno is None:
            return self.error
        return CellError(
            ename=self.error.ename,
            evalue=self.error.evalue,
            traceback=self.error.traceback,
            lineno=report.error_lineno,
        )
