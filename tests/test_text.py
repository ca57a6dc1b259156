"""`claw._text.printable`: what a cell printed, with every terminal control sequence removed."""

from __future__ import annotations

import pytest

from claw._text import printable


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain text\n\tindented", "plain text\n\tindented"),
        ("\x1b[31mred\x1b[0m", "red"),
        ("a\x1b]0;window title\x07b", "ab"),
        ("a\x1b]52;c;Y2xpcGJvYXJk\x1b\\b", "ab"),
        ("a\x1bPq#0;2;0;0;0\x1b\\b", "ab"),
        ("a\x1b7b\x1b8c", "abc"),
        ("eight-bit\x9b2J csi", "eight-bit2J csi"),
        ("bell\x07 del\x7f nul\x00", "bell del nul"),
        ("hidden\rshown", "hidden\nshown"),
        ("windows\r\nline", "windows\nline"),
        ("a lone escape \x1b", "a lone escape "),
    ],
)
def test_printable_removes_control_sequences(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_printable_keeps_unicode() -> None:
    assert printable("größe: 2.5 m² · 東京 ✓") == "größe: 2.5 m² · 東京 ✓"
