"""Text that untrusted code produced, made safe to show: a cell's output, errors, captions and variable
summaries go to the model, the event log and the operator's terminal (`claw sandbox run`, `claw
transcript`), so terminal control sequences (colours, cursor moves, window titles, clipboard writes) and
other control characters are removed, and carriage returns become line breaks (a `\\r` could otherwise
hide text from a terminal that the model still reads).
"""

from __future__ import annotations

import re

__all__ = ["printable"]

_ESCAPE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, screen clears
    r"|\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: window title, clipboard, hyperlinks
    r"|[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC strings
    r"|[ -/]*[0-~])"  # two-character escapes
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""C0 controls but tab and newline, DEL, and the C1 controls (8-bit CSI and OSC among them)."""


def printable(text: str) -> str:
    """`text` without terminal escape sequences or control characters; tabs and newlines are kept."""
    if _CONTROL.search(text) is None:
        return text
    text = _ESCAPE.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text)
