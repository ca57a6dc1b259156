"""The scripted policy on the `tool-call` interface: one call per turn, results kept in the kernel as r1,
r2, ... (the runtime's naming). It plans the whole call sequence from the question, then reads the printed
results back from the tool messages and reasons over the numbers itself, as a tool-calling model would.
"""

from __future__ import annotations

import json
import random
import re

import msgspec

from claw.agent.markers import ANSWER_SECTION, ERROR_SECTION, VARIABLES_SECTION
from claw.llm.types import Message
from servers.mockllm.policies.scripted.question import Parsed, letters_of, object_names
from servers.mockllm.policies.scripted.transcript import fallback, output_of
from servers.mockllm.policy import PolicyReply, ToolCall

__all__ = ["plan_tool_calls", "tool_call_reply"]

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
_STEPS_NOTE = re.compile(r"^(\d+ cells left\.|This is your LAST cell.*)$", re.MULTILINE)
_KEY_FRAME = re.compile(r"^image \d+ = InputImages\[\d+\] = frame (\d+)", re.MULTILINE)
"""A key-frame map line of the first user message (`claw.agent.input_map`)."""


class _Call(msgspec.Struct, frozen=True):
    """A planned tool call; `ref` is the result name it will get."""

    name: str
    arguments: dict[str, str | bool | float]
    role: str
    """What the result is for the final reasoning, e.g. `points:red chair` or `answer`."""


def _frame_list(first_user: str) -> list[int]:
    found = [int(x) for x in _KEY_FRAME.findall(first_user)]
    return found or [0]


class _Planner:
    """Builds the fixed call sequence for one question."""

    def __init__(self, parsed: Parsed, frames: list[int]) -> None:
        self.parsed, self.frames = parsed, frames
        self.calls: list[_Call] = [_Call("Reconstruct", {"frames": "$InputImages"}, "recon")]

    def ref(self, role: str) -> str:
        index = next(i for i, call in enumerate(self.calls) if call.role == role)
        return f"r{index + 1}"

    def add(self, name: str, arguments: dict[str, str | bool | float], role: str) -> None:
        self.calls.append(_Call(name, arguments, role))

    def segment(self, name: str) -> str:
        self.add("SAM3", {"frames": "$InputImages", "text": name}, f"seg:{name}")
        return self.ref(f"seg:{name}")

    def points(self, name: str) -> str:
        seg = self.segment(name)
        parts = ", ".join(
            f"Geometry.masked_points({self.ref('recon')}, {f}, {seg}.union({f}))" for f in self.frames
        )
        self.add("evaluate", {"expression": f"$np.concatenate([{parts}])"}, f"points:{name}")
        return self.ref(f"points:{name}")

    def evaluate(self, expression: str, role: str) -> None:
        self.add("evaluate", {"expression": f"${expression}"}, role)


def _plan_object_calls(plan: _Planner, names: list[str]) -> None:
    task = plan.parsed.task
    for name in names:
        if task == "depth_order":
            seg, fi = plan.segment(name), plan.frames[0]
            plan.evaluate(
                f"float(np.median({plan.ref('recon')}.depth[{fi}][{seg}.union({fi})]))", f"depth:{name}"
            )
        elif task == "appearance_order":
            seg = plan.segment(name)
            plan.evaluate(
                "[" + ", ".join(f"int({seg}.union({f}).sum())" for f in plan.frames) + "]", f"areas:{name}"
            )
        elif task == "object_count":
            seg = plan.segment(name)
            plan.evaluate(
                "np.unique(np.concatenate(["
                + ", ".join(f"{seg}.object_ids[{f}]" for f in plan.frames)
                + "]))",
                f"ids:{name}",
            )
        else:
            pts = plan.points(name)
            plan.add("Geometry_obb", {"points": f"${pts}", "upright": True}, f"obb:{name}")
            plan.evaluate(f"float(np.percentile({pts}[:, 1], 99.5))", f"top:{name}")


def plan_tool_calls(parsed: Parsed, frames: list[int]) -> list[_Call]:
    """The tool calls that gather what `parsed` needs (the answer call is added once they have run)."""
    plan = _Planner(parsed, frames)
    if parsed.task in ("camera_motion", "camera_rotation"):
        for fi in frames[:2]:
            plan.evaluate(f"{plan.ref('recon')}.extrinsics[{fi}]", f"pose:{fi}")
        return plan.calls
    names = object_names(parsed)
    _plan_object_calls(plan, names)
    if parsed.task == "abs_distance_closest":
        a, b = (plan.ref(f"points:{n}") for n in names[:2])
        plan.add("Geometry_closest_distance", {"a": f"${a}", "b": f"${b}"}, "closest")
    if parsed.task == "relative_direction_camera":
        plan.evaluate(
            f"{plan.ref('recon')}.extrinsics[{frames[parsed.image - 1]}]", f"pose:{frames[parsed.image - 1]}"
        )
    return plan.calls


def _numbers(text: str) -> list[float]:
    return [float(x) for x in _NUMBER.findall(re.sub(r"dtype=\w+", "", text))]


def _printed(observation: str) -> str:
    """Only what the cell printed: the output section without later sections or the steps note."""
    text = output_of(observation)
    for marker in (ERROR_SECTION, VARIABLES_SECTION, ANSWER_SECTION):
        text = text.split(marker, 1)[0]
    return _STEPS_NOTE.sub("", text)


def _tool_outputs(messages: list[Message]) -> list[str]:
    return [_printed(m.text()) for m in messages if m.role == "tool"]


class _Facts:
    """The printed results, looked up by role."""

    def __init__(self, calls: list[_Call], outputs: list[str]) -> None:
        self.by_role = {call.role: _numbers(out) for call, out in zip(calls, outputs, strict=False)}

    def obb(self, name: str) -> tuple[list[float], list[float]]:
        values = self.by_role[f"obb:{name}"]
        return values[:3], values[12:15]

    def one(self, role: str) -> float:
        return self.by_role[role][0]


def _pick(options: dict[str, str], text: str) -> str:
    return options.get(text, "A")


def _distance(a: list[float], b: list[float]) -> float:
    return float(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5)


def _tool_answer(parsed: Parsed, names: list[str], facts: _Facts) -> str:
    letters = letters_of(parsed)
    centre = {n: facts.obb(n)[0] for n in names if f"obb:{n}" in facts.by_role}
    match parsed.task:
        case "abs_distance_closest":
            return f"{facts.one('closest'):.3f}"
        case "abs_distance_centroid":
            return f"{_distance(centre[names[0]], centre[names[1]]):.3f}"
        case "object_size":
            return f"{100 * max(facts.obb(names[0])[1]):.1f}"
        case "object_count":
            return str(len(facts.by_role[f"ids:{names[0]}"]))
        case "relative_distance":
            return _pick(letters, min(names[1:], key=lambda n: _distance(centre[n], centre[names[0]])))
        case "relative_direction_object":
            (ax, _, az), (bx, _, bz), (cx, _, cz) = (centre[n] for n in names)
            side = (bx - ax) * (cz - az) - (bz - az) * (cx - ax)
            return _pick(letters, "right" if side > 0 else "left")
        case "larger_object":
            return _pick(letters, max(names, key=lambda n: max(facts.obb(n)[1])))
        case "height_comparison":
            return "yes" if facts.one(f"top:{names[0]}") > facts.one(f"top:{names[1]}") else "no"
        case "depth_order":
            return _pick(letters, min(names, key=lambda n: facts.one(f"depth:{n}")))
        case "room_size":
            sides = sorted(facts.obb(names[0])[1], reverse=True)
            return f"{sides[0] * sides[1]:.2f}"
    return _tool_answer_cameras(parsed, names, facts)


def _matrix(values: list[float]) -> list[list[float]]:
    return [values[4 * r : 4 * r + 4] for r in range(4)]


def _tool_answer_cameras(parsed: Parsed, names: list[str], facts: _Facts) -> str:
    letters = letters_of(parsed)
    poses = [_matrix(v) for role, v in facts.by_role.items() if role.startswith("pose:")]
    if parsed.task == "appearance_order":
        first = {
            n: next((i for i, a in enumerate(facts.by_role[f"areas:{n}"]) if a >= 150), 10**9) for n in names
        }
        return _pick(letters, ", ".join(sorted(names, key=lambda n: first[n])))
    if parsed.task == "relative_direction_camera":
        pose, target = poses[0], facts.obb(names[0])[0]
        offset = [target[i] - pose[i][3] for i in range(3)]
        right, forward = (sum(pose[i][axis] * offset[i] for i in range(3)) for axis in (0, 2))
        return _pick(letters, ("front" if forward > 0 else "back") + "-" + ("right" if right > 0 else "left"))
    (p0, p1) = poses[:2]
    move = [p1[i][3] - p0[i][3] for i in range(3)]
    along = [sum(p0[i][axis] * move[i] for i in range(3)) for axis in range(3)]
    if parsed.task == "camera_rotation":
        turn = sum(p0[i][0] * p1[i][2] for i in range(3))
        return _pick(letters, "right" if turn > 0 else "left")
    if abs(along[0]) > abs(along[2]):
        return _pick(letters, "right" if along[0] > 0 else "left")
    return _pick(letters, "forward" if along[2] > 0 else "backward")


def tool_call_reply(messages: list[Message], parsed: Parsed, rng: random.Random) -> PolicyReply:
    """The next call of the planned sequence, or the `answer` call once every result is in."""
    first_user = next((m.text() for m in messages if m.role == "user"), "")
    calls = plan_tool_calls(parsed, _frame_list(first_user)) if parsed.task != "unknown" else []
    done = sum(1 for m in messages if m.role == "assistant")
    if done < len(calls):
        call = calls[done]
        arguments = json.dumps(call.arguments)
        return PolicyReply(
            content=f"Next: {call.role}.", tool_calls=[ToolCall(name=call.name, arguments=arguments)]
        )
    try:
        answer = _tool_answer(parsed, object_names(parsed), _Facts(calls, _tool_outputs(messages)))
    except (KeyError, IndexError, ValueError):
        answer = fallback(parsed, rng)
    value: str | float = float(answer) if parsed.answer_format == "number" else answer
    return PolicyReply(
        content=f"Answering {answer}.",
        tool_calls=[ToolCall(name="answer", arguments=json.dumps({"answer": value}))],
    )
