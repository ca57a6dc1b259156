"""Requests alternate turns: runs of consecutive user messages go out as one message (several chat
templates refuse two user turns in a row), and each request still extends the previous one."""

from __future__ import annotations

import msgspec

from claw.llm._body import request_body
from claw.llm.turns import merge_user_runs
from claw.llm.types import ChatRequest, ImagePart, ImageURL, Message, TextPart

IMAGE = ImagePart(image_url=ImageURL(url="data:image/png;base64,AAAA"))


def test_runs_of_user_messages_become_one() -> None:
    question = Message(role="user", content=[TextPart(text="How far?"), IMAGE])
    plan = Message(role="user", content="Plan: 1. segment")
    reply = Message(role="assistant", content="**Code:** ...")
    observation = Message(role="user", content="status: ok")
    note = Message(role="user", content="Images shown by the last call:")
    merged = merge_user_runs([Message(role="system", content="s"), question, plan, reply, observation, note])
    assert [m.role for m in merged] == ["system", "user", "assistant", "user"]
    assert merged[1].content == [TextPart(text="How far?"), IMAGE, TextPart(text="Plan: 1. segment")]
    assert merged[3].content == "status: ok\n\nImages shown by the last call:"


def test_text_parts_that_meet_are_joined() -> None:
    first = Message(role="user", content=[IMAGE, TextPart(text="question")])
    (merged,) = merge_user_runs([first, Message(role="user", content="plan")])
    assert merged.content == [IMAGE, TextPart(text="question\n\nplan")]


def test_the_body_alternates_and_each_request_extends_the_last() -> None:
    thread = [Message(role="system", content="s"), Message(role="user", content="q"),
              Message(role="user", content="plan"), Message(role="assistant", content="a")]  # fmt: skip
    body = msgspec.json.decode(request_body(ChatRequest(role="agent", messages=thread), "m", max_images=None))
    roles = [m["role"] for m in body["messages"]]
    assert roles == ["system", "user", "assistant"]
    earlier = merge_user_runs(thread[:3])
    later = merge_user_runs([*thread, Message(role="user", content="obs")])
    assert later[: len(earlier)] == earlier
