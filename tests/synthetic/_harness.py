"""An in-process stand-in for one code episode: the real prompts, the real AST policy and the real kernel
tool API (`claw.tools`), with the perception client's `post` routed straight to a `SyntheticBackend` and
cells run with `exec` in one namespace. It checks that the scripted policy's cells work end to end without
starting kernels or servers.
"""

from __future__ import annotations

import contextlib
import io
import math
import traceback
from collections.abc import Iterator
from typing import Any

import msgspec
import numpy as np

import claw.tools._answer as answers_api
import claw.tools._client as client
import claw.tools._inputs as inputs
from bench.suites.synthetic import SyntheticSuite
from claw.agent import observations, prompts
from claw.agent.parsing import StepResponse, parse_step
from claw.config import PerceptionConfig
from claw.llm.types import Message
from claw.sandbox._policy import check_cell
from claw.suite import Sample
from claw.wire.kernel import CellError, CellResult, SubmittedAnswer
from claw.wire.perception import ReconstructRequest, SegmentRequest
from servers.mockllm.policies.scripted import ScriptedPolicy
from servers.perception._backends.synthetic import SyntheticBackend


class Outcome(msgspec.Struct, kw_only=True):
    """How one episode went."""

    answer: str | None
    score: float
    steps: int
    errors: int
    transcript: list[str]


@contextlib.contextmanager
def routed_perception(backend: SyntheticBackend) -> Iterator[None]:
    """Send the tool client's requests to `backend` in-process."""
    original = client.post

    def post(path: str, request: msgspec.Struct, response_type: type[Any]) -> Any:
        if isinstance(request, ReconstructRequest):
            return backend._reconstruct_one(request)
        assert isinstance(request, SegmentRequest)
        return backend._segment_one(request)

    client.post = post  # type: ignore[assignment]
    try:
        yield
    finally:
        client.post = original  # type: ignore[assignment]


class _Answers:
    """`ReturnAnswer` and `show` for one episode, validating with the kernel's own `check_answer`."""

    def __init__(self, sample: Sample) -> None:
        self.sample = sample
        self.answer: SubmittedAnswer | None = None
        self.shown = 0

    def submit(self, answer: object) -> None:
        self.answer = answers_api.check_answer(answer, self.sample.answer_format, self.sample.options)
        verdict = "accepted" if self.answer.valid else f"NOT accepted: {self.answer.message}"
        print(f"Answer {verdict}: {self.answer.text}")

    def show(self, image: object, caption: str = "") -> None:
        self.shown += 1


def _metadata(sample: Sample) -> inputs.MetadataInfo:
    (video,) = sample.videos
    info = inputs.VideoInfo(video.name, len(video.frames), video.fps, video.total_frames, video.duration_s)
    return inputs.MetadataInfo(
        is_video=video.fps is not None,
        fps=video.fps,
        duration_s=video.duration_s,
        total_frames=video.total_frames,
        num_images=len(video.frames),
        videos=(info,),
        answer_format=sample.answer_format,
        options=sample.options,
        extra=dict(sample.metadata),
    )


def _namespace(sample: Sample, answers: _Answers, socket: str | None) -> dict[str, Any]:
    import matplotlib.pyplot as plt
    import scipy

    import claw.tools as tools

    client.configure(socket=socket, scene=str(sample.metadata["scene"]), connect_timeout_s=5.0)
    (video,) = sample.videos
    frames = inputs.FrameList(
        inputs.FrameImage(f.path, f.index, f.timestamp_s, video.name) for f in video.frames
    )
    names: dict[str, Any] = {
        "np": np,
        "math": math,
        "scipy": scipy,
        "plt": plt,
        "tools": tools,
        "InputImages": frames,
        "Metadata": _metadata(sample),
        "show": answers.show,
        "ReturnAnswer": answers.submit,
    }
    names.update({n: getattr(tools, n) for n in ("Reconstruct", "SAM3", "Geometry", "Mask", "Draw", "Time")})
    return names


def _run_cell(code: str, ns: dict[str, Any], answers: _Answers) -> CellResult:
    violation = check_cell(code)
    if violation is not None:
        raise AssertionError(f"the policy wrote a cell the AST policy rejects: {violation}\n{code}")
    out = io.StringIO()
    answers.answer = None
    error = None
    with contextlib.redirect_stdout(out):
        try:
            exec(compile(code, "<cell>", "exec"), ns)
        except Exception as exc:
            error = CellError(ename=type(exc).__name__, evalue=str(exc), traceback=traceback.format_exc())
    return CellResult(
        status="error" if error else "ok", stdout=out.getvalue(), error=error, answer=answers.answer
    )


def run_episode(
    suite: SyntheticSuite,
    sample: Sample,
    policy: ScriptedPolicy,
    *,
    seed: int = 0,
    max_steps: int = 12,
    socket: str | None = None,
    single_pass: bool = False,
) -> Outcome:
    """Run one code episode of `policy` on `sample`; the answer is scored by the suite.

    With `socket`, the tools talk to a real perception server there; otherwise wrap the call in
    `routed_perception`.
    """
    answers = _Answers(sample)
    ns = _namespace(sample, answers, socket)
    messages = [
        Message(role="system", content=prompts.agent_system_prompt(max_steps, single_pass=single_pass)),
        prompts.first_user_message(sample, []),
    ]
    errors, transcript = 0, []
    for step in range(1, max_steps + 1):
        reply = policy.respond(messages, seed=seed).content
        parsed = parse_step(reply)
        assert isinstance(parsed, StepResponse), reply
        transcript.append(parsed.code)
        result = _run_cell(parsed.code, ns, answers)
        errors += result.error is not None
        answer = answers.answer
        if answer is not None and answer.valid:
            return Outcome(
                answer=answer.text,
                score=suite.score(sample, answer.text).value,
                steps=step,
                errors=errors,
                transcript=transcript,
            )
        messages += [
            observations.assistant_message(reply),
            observations.observation_message(step, result, max_steps - step, []),
        ]
        transcript.append(messages[-1].text())
    return Outcome(answer=None, score=0.0, steps=max_steps, errors=errors, transcript=transcript)


def backend(noise: str = "none") -> SyntheticBackend:
    """A synthetic backend with the given noise model."""
    return SyntheticBackend(PerceptionConfig(noise=noise))


def run_tool_episode(
    suite: SyntheticSuite, sample: Sample, policy: ScriptedPolicy, *, seed: int = 0, max_steps: int = 40
) -> Outcome:
    """Run one `tool-call` episode: each call becomes the runtime's one-line cell (`cell_for_call`)."""
    from claw.agent.toolcall import ToolCellError, cell_for_call, tool_specs
    from claw.llm.types import FunctionCall, ToolCall

    answers = _Answers(sample)
    ns = _namespace(sample, answers, None)
    names = [spec.name for spec in tool_specs()]
    messages = [
        Message(role="system", content=prompts.tool_system_prompt(max_steps)),
        prompts.first_user_message(sample, []),
    ]
    errors, transcript = 0, []
    for step in range(max_steps):
        (wanted,) = policy.respond(messages, seed=seed, tools=names).tool_calls
        call = ToolCall(id=f"c{step}", function=FunctionCall(name=wanted.name, arguments=wanted.arguments))
        cell = cell_for_call(call, step)
        assert not isinstance(cell, ToolCellError), cell
        transcript.append(cell)
        result = _run_cell(cell, ns, answers)
        errors += result.error is not None
        if answers.answer is not None and answers.answer.valid:
            score = suite.score(sample, answers.answer.text).value
            return Outcome(
                answer=answers.answer.text, score=score, steps=step + 1, errors=errors, transcript=transcript
            )
        messages += [
            Message(role="assistant", content="", tool_calls=[call]),
            *observations.tool_result_messages(
                call.id, observations.observation_message(step + 1, result, max_steps - step - 1, [])
            ),
        ]
        transcript.append(messages[-1].text())
    return Outcome(answer=None, score=0.0, steps=max_steps, errors=errors, transcript=transcript)
