"""What `claw tail` and `claw transcript` print holds no terminal control sequence, whatever the model
replied or a cell printed (a reply could otherwise set the window title, write the clipboard or clear the
screen of whoever reads the run)."""

from __future__ import annotations

import re

from claw.events import CellProposed, LLMRequested, LLMResponded
from claw.recorded import RecordedMessage, RecordedText
from claw.runtime.tail import render_event
from claw.runtime.transcript import exchanges, render_transcript

HOSTILE = "print('hi')\x1b]52;c;cHduZWQ=\x07\x1b[2J\x9b31m"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def test_tail_lines_carry_no_control_sequence() -> None:
    event = CellProposed(run_id="r", episode_id="e", purpose="p", reasoning="r", next_goal="g", code=HOSTILE)
    line = render_event(event, origin=0.0)
    assert "print('hi')" in line and CONTROL.search(line) is None


def test_transcripts_carry_no_control_sequence() -> None:
    message = RecordedMessage(role="user", content=[RecordedText(text=HOSTILE)])
    asked = LLMRequested(
        run_id="r", episode_id="e", role="agent", n_messages=1, thread="agent", appended=[message]
    )
    replied = LLMResponded(
        run_id="r", episode_id="e", role="agent", endpoint="x", prompt_tokens=1, completion_tokens=1,
        latency_s=0.0, content=HOSTILE, reasoning=HOSTILE,
    )  # fmt: skip
    text = render_transcript(exchanges([asked, replied]), full=True)
    assert text.count("print('hi')") == 3 and CONTROL.search(text.replace("\n", "")) is None
