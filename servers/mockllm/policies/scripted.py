"""`ScriptedPolicy`: a model stand-in that solves synthetic spatial questions the way a capable agent
does, through the kernel and its tools, reading only the transcript.

It recognises the request kind by its system prompt (planner, code agent, or no-tool chain of thought)
and the question by its wording. A code episode runs three stages, each one cell: `perceive` (segment
the named objects in every frame, reconstruct, gather world points, show a mask overlay, print what was
found), `compute` (measure with the geometry and print `RESULT: <value>`), and `answer`
(`ReturnAnswer(<value read back from the observation>)`). Its cells carry a `# stage:` comment, which is
how it knows, from its own earlier turn, where it is. In a deterministic subset of episodes the first
`compute` cell uses an undefined name and raises; at `mistake_rate` it makes a quieter mistake that its
own printed check exposes (wrong axis sign, a metres/centimetres slip, a prompt that finds nothing). It
reads the error or the `CHECK FAILED` line and writes the corrected cell, so self-correction shows in the
event log. The other interfaces get what a model would give them: the single-pass prompt one program that
measures and submits, the tool-call interface one call per turn (a sequence planned from the question,
the answer reasoned from the printed results), the no-tool prompt and the forced-answer turn a
`Final answer:` line (the last printed RESULT, else a guess). Everything is deterministic given
(messages, seed).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
from string import Template

import msgspec

from claw.agent.markers import (
    AGENT_SYSTEM_HEADER,
    ANSWER_FORMAT_HEADING,
    ANSWER_SECTION,
    ERROR_SECTION,
    FINAL_ANSWER_PREFIX,
    FINAL_ANSWER_TAG,
    OBSERVATION_HEADING,
    OPTIONS_HEADING,
    OUTPUT_SECTION,
    PLANNER_SYSTEM_HEADER,
    QUESTION_HEADING,
    SINGLE_PASS_TAG,
    VARIABLES_SECTION,
)
from claw.errors import ConfigError
from claw.llm.types import Message
from servers.mockllm.policy import PolicyReply, ToolCall

__all__ = ["Parsed", "ScriptedPolicy", "parse_question"]

_MAX_TURNS = 10
_RESULT = re.compile(r"^RESULT:\s*(\S+)", re.MULTILINE)
_STAGE = re.compile(r"^# stage: (\w+)", re.MULTILINE)
_EXC_LINE = re.compile(r"^\w+(Error|Exception):")
_OPTION = re.compile(r"^([A-Z])\.\s+(.*)$", re.MULTILINE)

_PATTERNS: tuple[tuple[str, str], ...] = (
    ("abs_distance_closest", r"between the (?P<a>.+?) and the (?P<b>.+?), measured between their closest"),
    ("abs_distance_centroid", r"between the centres of the (?P<a>.+?) and the (?P<b>.+?)\?"),
    ("object_size", r"longest side of the (?P<a>.+?), in centimetres"),
    ("object_count", r"How many (?P<a>.+?) are there"),
    ("relative_distance", r"closest to the (?P<a>.+?), measured between object centres"),
    ("relative_direction_object", r"stand at the (?P<a>.+?) facing the (?P<b>.+?), is the (?P<c>.+?) to my"),
    ("relative_direction_camera", r"camera that took image (?P<k>\d+) .*where is the (?P<a>.+?)\?"),
    ("depth_order", r"nearest to the camera"),
    ("height_comparison", r"top of the (?P<a>.+?) higher above the floor than the top of the (?P<b>.+?)\?"),
    ("larger_object", r"larger \(by its longest side\): the (?P<a>.+?) or the (?P<b>.+?)\?"),
    ("room_size", r"floor area of this room"),
    ("camera_motion", r"direction did the camera mainly move"),
    ("camera_rotation", r"did the camera turn to its left or to its right"),
    ("appearance_order", r"order do these objects first appear"),
)


class Parsed(msgspec.Struct, frozen=True, kw_only=True):
    """What the policy understood of the question."""

    task: str
    """Task type, or `unknown`."""
    names: tuple[str, ...]
    """Objects the question names, in order of mention."""
    options: tuple[str, ...]
    answer_format: str
    image: int = 1
    """The 1-based image a camera-relative question refers to."""


def _section(text: str, heading: str) -> str:
    if heading not in text:
        return ""
    return text.split(heading, 1)[1].split("\n## ", 1)[0].strip()


def _singular(word: str) -> str:
    if word.endswith("xes"):
        return word[:-2]
    return word[:-1] if word.endswith("s") else word


def parse_question(text: str) -> Parsed:
    """Read the task type, named objects, options and answer format from a first user message."""
    question = _section(text, QUESTION_HEADING)
    options = tuple(m.group(2).strip() for m in _OPTION.finditer(_section(text, OPTIONS_HEADING)))
    answer_format = (_section(text, ANSWER_FORMAT_HEADING).split("\n", 1) or ["text"])[0].strip()
    for task, pattern in _PATTERNS:
        match = re.search(pattern, question, re.DOTALL)
        if match is None:
            continue
        groups = match.groupdict()
        names = tuple(groups[k] for k in ("a", "b", "c") if groups.get(k))
        if task == "object_count":
            names = (_singular(names[0]),)
        image = int(groups["k"]) if groups.get("k") else 1
        return Parsed(task=task, names=names, options=options, answer_format=answer_format, image=image)
    return Parsed(task="unknown", names=(), options=options, answer_format=answer_format)


# ------------------------------------------------------------------------------------------------ cells

_HELPERS = '''\
def clean_points(seg, frames_used):
    """World points of every instance in `seg`, without far outliers and isolated (leaked) points."""
    chunks = []
    for fi in frames_used:
        if seg.count(fi) == 0:
            continue
        chunks.append(Geometry.masked_points(recon, fi, seg.union(fi)))
    if not chunks:
        return np.zeros((0, 3), dtype=np.float32)
    pts = np.concatenate(chunks)
    dist = np.linalg.norm(pts - np.median(pts, axis=0), axis=1)
    pts = pts[dist <= 2.5 * np.percentile(dist, 90) + 0.1]
    support = scipy.spatial.cKDTree(pts).query_ball_point(pts, r=0.05, return_length=True)
    return pts[support >= min(8, int(np.median(support)))]


def upright_box(pts):
    """Gravity-aligned box of a point cloud: (centre, sides) with sides = (a, height, b), a >= b."""
    xz = pts[:, [0, 2]][:: max(1, len(pts) // 4000)]
    best = None
    for deg in np.arange(0.0, 90.0, 0.5):
        a = math.radians(deg)
        rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        q = xz @ rot
        lo, hi = np.percentile(q, 0.2, axis=0), np.percentile(q, 99.8, axis=0)
        if best is None or np.prod(hi - lo) < best[0]:
            best = (np.prod(hi - lo), hi - lo, ((lo + hi) / 2) @ rot.T)
    y0, y1 = (float(v) for v in np.percentile(pts[:, 1], [0.2, 99.8]))
    sides = np.array([max(best[1]), y1 - y0, min(best[1])])
    return np.array([best[2][0], (y0 + y1) / 2, best[2][1]]), sides
'''

_PERCEIVE = Template("""\
# stage: perceive
frames = InputImages
recon = Reconstruct(frames)
names = $names
segs = {name: SAM3(frames, text=prompt) for name, prompt in zip(names, $prompts)}
$helpers
pts = {name: clean_points(segs[name], recon.frame_indices) for name in names}
for name in names:
    seen = [fi for fi in segs[name].frame_indices if segs[name].count(fi) > 0]
    print(f"{name}: {len(pts[name])} points from {len(seen)} of {len(frames)} frames")
best = max(frames, key=lambda f: sum(segs[n].count(f.index) > 0 for n in names))
show(Draw.overlay_masks(best, [segs[n].union(best.index) for n in names], labels=names), caption="masks")
missing = [n for n in names if len(pts[n]) == 0]
if missing:
    print(f"CHECK FAILED: nothing found for {missing}; segment them with their full names")
""")

_COMPUTE: dict[str, str] = {
    "abs_distance_closest": """\
def smoothed(p):
    # each point becomes the mean of its 8 nearest neighbours, so depth noise averages out
    return p[scipy.spatial.cKDTree(p).query(p, k=min(8, len(p)))[1]].mean(axis=1)


raw = Geometry.closest_distance(pts[names[0]], pts[names[1]])
d = Geometry.closest_distance(smoothed(pts[names[0]]), smoothed(pts[names[1]]))
print(f"closest-point gap between {names[0]} and {names[1]}: {d:.3f} m (raw points: {raw:.3f} m)")
result = round(d, 3)
print(f"RESULT: {result}")
""",
    "abs_distance_centroid": """\
c0, _ = upright_box(pts[names[0]])
c1, _ = upright_box(pts[names[1]])
d = float(np.linalg.norm(c0 - c1))
print(f"box centres {np.round(c0, 2)} and {np.round(c1, 2)}: {d:.3f} m apart")
result = round(d, 3)
print(f"RESULT: {result}")
""",
    "object_size": """\
_, sides = upright_box(pts[names[0]])
size_cm = float(sides.max()) * $scale
print(f"{names[0]} sides (m): {np.round(sides, 3)}; longest = {size_cm:.1f} cm")
if size_cm < 5:
    print("CHECK FAILED: a furniture-sized object cannot be under 5 cm; the value looks like metres")
else:
    result = round(size_cm, 1)
    print(f"RESULT: {result}")
""",
    "object_count": """\
ids = set()
for fi in segs[names[0]].frame_indices:
    ids.update(int(i) for i in segs[names[0]].object_ids[fi])
print(f"distinct {names[0]} track ids over {len(frames)} frames: {sorted(ids)}")
if not ids:
    print("CHECK FAILED: no instance found; retry the segmentation")
else:
    result = len(ids)
    print(f"RESULT: {result}")
""",
    "relative_distance": """\
ref, _ = upright_box(pts[names[0]])
dists = {n: float(np.linalg.norm(upright_box(pts[n])[0] - ref)) for n in names[1:]}
for n, d in dists.items():
    print(f"{n}: {d:.2f} m from the {names[0]}")
nearest = min(dists, key=dists.get)
result = letters[nearest]
print(f"RESULT: {result}")
""",
    "relative_direction_object": """\
at, facing, target = (upright_box(pts[n])[0] for n in names)
f, t = facing - at, target - at
side = f[0] * t[2] - f[2] * t[0]
print(f"facing {np.round(f, 2)}, target offset {np.round(t, 2)}, side = {side:.3f} (> 0 is right)")
result = letters['right' if side > 0 else 'left']
print(f"RESULT: {result}")
""",
    "relative_direction_camera": """\
fi = InputImages[$image - 1].index
c2w = recon.extrinsics[fi]
centre, _ = upright_box(pts[names[0]])
local = np.linalg.inv(c2w) @ np.append(centre, 1.0)
word = ("front" if local[2] > 0 else "back") + "-" + ("right" if local[0] > 0 else "left")
print(f"{names[0]} in camera {fi} coordinates: {np.round(local[:3], 2)} -> {word}")
result = letters[word]
print(f"RESULT: {result}")
""",
    "depth_order": """\
fi = InputImages[0].index
depth = {n: float(np.median(recon.depth[fi][segs[n].union(fi)])) for n in names}
for n, d in depth.items():
    print(f"{n}: median depth {d:.2f} m")
result = letters[min(depth, key=depth.get)]
print(f"RESULT: {result}")
""",
    "height_comparison": """\
tops = {n: $sign float(np.percentile(pts[n][:, 1], 99.5)) for n in names}
print("tops above the floor (m):", {n: round(v, 3) for n, v in tops.items()})
if min(tops.values()) < 0:
    print("CHECK FAILED: a top below the floor; world +Y is up, not down")
else:
    result = 'yes' if tops[names[0]] > tops[names[1]] else 'no'
    print(f"RESULT: {result}")
""",
    "larger_object": """\
longest = {n: float(upright_box(pts[n])[1].max()) for n in names}
print("longest sides (m):", {n: round(v, 3) for n, v in longest.items()})
result = letters[max(longest, key=longest.get)]
print(f"RESULT: {result}")
""",
    "room_size": """\
_, sides = upright_box(pts[names[0]])
area = float(sides[0] * sides[2])
print(f"room footprint {sides[0]:.2f} m x {sides[2]:.2f} m = {area:.2f} m^2")
result = round(area, 2)
print(f"RESULT: {result}")
""",
    "camera_motion": """\
f0, f1 = InputImages[0].index, InputImages[1].index
c0, c1 = recon.extrinsics[f0], recon.extrinsics[f1]
move = c0[:3, :3].T @ (c1[:3, 3] - c0[:3, 3])
print(f"camera moved {np.round(move, 3)} in camera-1 axes (x right, y down, z forward)")
if abs(move[0]) > abs(move[2]):
    word = "right" if move[0] > 0 else "left"
else:
    word = "forward" if move[2] > 0 else "backward"
result = letters[word]
print(f"RESULT: {result}")
""",
    "camera_rotation": """\
f0, f1 = InputImages[0].index, InputImages[1].index
forward = recon.extrinsics[f0][:3, :3].T @ recon.extrinsics[f1][:3, 2]
turn = math.degrees(math.atan2(forward[0], forward[2]))
print(f"camera 2 looks {turn:.1f} degrees from camera 1's forward (positive = to the right)")
result = letters['right' if turn > 0 else 'left']
print(f"RESULT: {result}")
""",
    "appearance_order": """\
first = {}
for n in names:
    shown = [fi for fi in segs[n].frame_indices if segs[n].count(fi) and segs[n].union(fi).sum() >= 150]
    first[n] = min(shown) if shown else 10**9
order = sorted(names, key=lambda n: first[n])
print("first frame per object:", first)
result = letters[', '.join(order)]
print(f"RESULT: {result}")
""",
}

_NO_GEOMETRY = """\
# stage: perceive
frames = InputImages
recon = Reconstruct(frames)
print("reconstructed frames", recon.frame_indices)
for fi in recon.frame_indices:
    print(fi, "camera at", np.round(recon.extrinsics[fi][:3, 3], 3))
"""


class _Episode(msgspec.Struct, frozen=True, kw_only=True):
    """The transcript as the policy reads it: the question, its own past cells and what they gave."""

    parsed: Parsed
    cells: tuple[str, ...]
    observations: tuple[str, ...]
    rng_key: str


def _letters(parsed: Parsed) -> dict[str, str]:
    return {text: chr(65 + i) for i, text in enumerate(parsed.options)}


def _object_names(parsed: Parsed) -> list[str]:
    match parsed.task:
        case "relative_distance":
            return [parsed.names[0], *parsed.options]
        case "depth_order" | "larger_object" if parsed.options:
            return list(parsed.options)
        case "appearance_order":
            return [n.strip() for n in parsed.options[0].split(",")] if parsed.options else []
        case "room_size":
            return ["wall"]
    return list(parsed.names)


def perceive_cell(parsed: Parsed, *, vague_prompts: bool = False) -> str:
    """The first cell: reconstruct, segment the named objects, gather their points, show and print."""
    if parsed.task in ("camera_motion", "camera_rotation"):
        return _NO_GEOMETRY
    names = _object_names(parsed)
    prompts = [n.split()[0] if vague_prompts and " " in n else n for n in names]
    helpers = _HELPERS.replace("\n\n\n", "\n\n")
    return _PERCEIVE.substitute(names=repr(names), prompts=repr(prompts), helpers=helpers)


def compute_cell(parsed: Parsed, *, slip: bool = False, wrong_name: bool = False) -> str:
    """The measuring cell of the task; `slip` makes its quiet mistake, `wrong_name` makes it raise."""
    body = Template(_COMPUTE[parsed.task]).substitute(
        scale="1" if slip else "100", sign="-" if slip else "", image=str(parsed.image)
    )
    head = f"# stage: compute\nletters = {_letters(parsed)!r}\n"
    if wrong_name:
        head += "pts = point_clouds  # reuse the clouds from the last cell\n"
    return head + body


def answer_cell(parsed: Parsed, value: str) -> str:
    """`ReturnAnswer` with the value the compute cell printed."""
    literal = value if parsed.answer_format == "number" else repr(value)
    return f"# stage: answer\nReturnAnswer({literal})\n"


def single_pass_cell(parsed: Parsed) -> str:
    """The whole program in one cell, for the single-pass interface: perceive, compute, answer."""
    return f"{perceive_cell(parsed)}\n{compute_cell(parsed)}\nReturnAnswer(result)\n"


def _single_pass(parsed: Parsed) -> str:
    return _reply(
        "Answer in one program.",
        "I will not see the output, so the cell measures and submits.",
        "An accepted answer.",
        single_pass_cell(parsed),
    )


def _reply(purpose: str, reasoning: str, goal: str, code: str) -> str:
    return (
        f"**Purpose:** {purpose}\n**Reasoning:** {reasoning}\n**Next Goal:** {goal}\n"
        f"**Code:**\n```python\n{code.rstrip()}\n```\n"
    )


# ------------------------------------------------------------------------------------------- decisions


def _rng(key: str, salt: str) -> random.Random:
    return random.Random(hashlib.blake2b(f"{key}|{salt}".encode(), digest_size=8).hexdigest())


def _code_of(reply: str) -> str:
    match = re.search(r"```python\n(.*?)```", reply, re.DOTALL)
    return match.group(1) if match else ""


def _output_of(observation: str) -> str:
    if OUTPUT_SECTION not in observation:
        return ""
    return observation.split(OUTPUT_SECTION, 1)[1]


def _last_result(observations: tuple[str, ...]) -> str | None:
    for obs in reversed(observations):
        found = _RESULT.findall(_output_of(obs).split(ERROR_SECTION, 1)[0])
        if found:
            return str(found[-1])
    return None


def _fallback(parsed: Parsed, rng: random.Random) -> str:
    if parsed.answer_format == "letter" or parsed.options:
        return rng.choice([chr(65 + i) for i in range(max(len(parsed.options), 1))])
    if parsed.answer_format == "yes_no":
        return rng.choice(["yes", "no"])
    if parsed.answer_format == "number":
        return "1.0"
    return "unknown"


def _guess(episode: _Episode) -> str:
    return _fallback(episode.parsed, _rng(episode.rng_key, "guess"))


def _planned_mistake(episode: _Episode, mistake_rate: float) -> str | None:
    if _rng(episode.rng_key, "mistake").random() >= mistake_rate:
        return None
    choices = {"object_size": "slip", "height_comparison": "slip"}
    if episode.parsed.task in choices:
        return choices[episode.parsed.task]
    no_names = ("camera_motion", "camera_rotation", "room_size")
    return "vague" if episode.parsed.task not in no_names else None


def _rate(value: float | None, env: str, default: float) -> float:
    if value is None:
        text = os.environ.get(env, "")
        try:
            value = float(text) if text else default
        except ValueError:
            raise ConfigError(f"{env}={text!r} is not a number; give a rate between 0 and 1") from None
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"scripted policy rate {value} ({env}) must be between 0 and 1")
    return value


class ScriptedPolicy:
    """A deterministic, tool-using agent for the synthetic suite (see the module docstring).

    Args:
        error_rate: share of episodes whose first compute cell raises a NameError (default: the
            `CLAW_SCRIPTED_ERROR_RATE` environment variable, else 0.25).
        mistake_rate: share of episodes with a quiet mistake that the cell's own check exposes (default:
            `CLAW_SCRIPTED_MISTAKE_RATE`, else 0.1).

    Raises:
        ConfigError: a rate outside 0..1 or an environment value that is not a number.
    """

    name = "scripted"

    def __init__(self, error_rate: float | None = None, mistake_rate: float | None = None) -> None:
        self.error_rate = _rate(error_rate, "CLAW_SCRIPTED_ERROR_RATE", 0.25)
        self.mistake_rate = _rate(mistake_rate, "CLAW_SCRIPTED_MISTAKE_RATE", 0.1)

    def __repr__(self) -> str:
        return f"ScriptedPolicy(error_rate={self.error_rate}, mistake_rate={self.mistake_rate})"

    def respond(self, messages: list[Message], *, seed: int, tools: list[str] | None = None) -> PolicyReply:
        """The next reply: a plan, a code turn, or a final answer, depending on the request."""
        system = messages[0].text() if messages and messages[0].role == "system" else ""
        episode = _read_episode(messages, seed)
        if system.startswith(PLANNER_SYSTEM_HEADER):
            return PolicyReply(content=_plan(episode.parsed))
        last_user = next((m.text() for m in reversed(messages) if m.role == "user"), "")
        if not system.startswith(AGENT_SYSTEM_HEADER) or FINAL_ANSWER_TAG in last_user:
            return PolicyReply(content=_final_answer(episode))
        if tools:
            return tool_call_reply(messages, episode.parsed, _rng(episode.rng_key, "guess"))
        if SINGLE_PASS_TAG in system and episode.parsed.task != "unknown":
            return PolicyReply(content=_single_pass(episode.parsed))
        return PolicyReply(content=self._code_turn(episode))

    def _code_turn(self, episode: _Episode) -> str:
        parsed = episode.parsed
        if parsed.task == "unknown" or len(episode.cells) >= _MAX_TURNS:
            answer = _last_result(episode.observations) or _fallback(parsed, _rng(episode.rng_key, "guess"))
            return _reply(
                "Answer with what I have.",
                "I cannot measure this question with my tools.",
                "Submit.",
                answer_cell(parsed, answer),
            )
        if not episode.cells:
            vague = _planned_mistake(episode, self.mistake_rate) == "vague"
            about = ", ".join(_object_names(parsed)) or "the cameras"
            return _reply(
                "Find the objects and reconstruct the scene.",
                f"The question is about {about}; I need their 3-D points from every frame.",
                "Point counts per object and a mask overlay.",
                perceive_cell(parsed, vague_prompts=vague),
            )
        return self._next_cell(episode)

    def _next_cell(self, episode: _Episode) -> str:
        parsed, last_obs = episode.parsed, episode.observations[-1] if episode.observations else ""
        stage_match = _STAGE.search(episode.cells[-1])
        stage = stage_match.group(1) if stage_match else "perceive"
        failed = ERROR_SECTION in last_obs or "CHECK FAILED" in _output_of(last_obs)
        result = _last_result(episode.observations[-1:])
        if stage == "answer" or ANSWER_SECTION in last_obs or (result is not None and not failed):
            value = result or _last_result(episode.observations) or _guess(episode)
            return _reply(
                "Submit the measured answer.",
                f"The previous cell printed RESULT: {value}.",
                "The answer is accepted.",
                answer_cell(parsed, value),
            )
        if stage == "perceive" and failed:
            return _reply(
                "Redo the segmentation with the objects' full names.",
                f"The last cell failed its check or raised:\n{_problem(last_obs)}",
                "Non-empty masks for every object.",
                perceive_cell(parsed),
            )
        if stage == "compute" and failed:
            return _reply(
                "Fix the measurement.",
                f"The last cell went wrong:\n{_problem(last_obs)}\n"
                "I will correct that line and measure again.",
                "A plausible RESULT line.",
                compute_cell(parsed),
            )
        return self._first_compute(episode)

    def _first_compute(self, episode: _Episode) -> str:
        wrong_name = _rng(episode.rng_key, "raise").random() < self.error_rate
        slip = _planned_mistake(episode, self.mistake_rate) == "slip"
        return _reply(
            "Measure what the question asks.",
            "The objects were found; now compute the quantity from their points.",
            "A RESULT line with the value to submit.",
            compute_cell(episode.parsed, slip=slip, wrong_name=wrong_name),
        )


def _problem(observation: str) -> str:
    lines = [ln for ln in observation.splitlines() if "CHECK FAILED" in ln or _EXC_LINE.match(ln)]
    return "\n".join(lines[:2]) or "(no message)"


def _read_episode(messages: list[Message], seed: int) -> _Episode:
    first_user = next((m.text() for m in messages if m.role == "user"), "")
    cells = tuple(_code_of(m.text()) for m in messages if m.role == "assistant")
    users = (m.text() for m in messages if m.role == "user")
    observations = tuple(text for text in users if text.startswith(OBSERVATION_HEADING))
    return _Episode(
        parsed=parse_question(first_user),
        cells=cells,
        observations=observations,
        rng_key=f"{seed}|{first_user}",
    )


def _plan(parsed: Parsed) -> str:
    objects = ", ".join(_object_names(parsed)) or "nothing (camera poses only)"
    return (
        f"1. Segment by name in every frame: {objects}; check every mask is non-empty.\n"
        "2. Reconstruct all frames and gather each object's world points (erode mask edges).\n"
        f"3. Measure for a {parsed.task.replace('_', ' ')} question with tools.Geometry and print it.\n"
        "4. Sanity-check units (metres; +Y up), then ReturnAnswer in the requested format."
    )


def _final_answer(episode: _Episode) -> str:
    result = _last_result(episode.observations)
    if result is not None:
        return f"My last measurement printed RESULT: {result}.\n{FINAL_ANSWER_PREFIX} {result}"
    guess = _fallback(episode.parsed, _rng(episode.rng_key, "guess"))
    return f"I have no measurement, so this is a guess.\n{FINAL_ANSWER_PREFIX} {guess}"


# ------------------------------------------------------------------------------------ tool-call interface
# One call per turn, results kept in the kernel as r1, r2, ... (the runtime's naming). The policy plans
# the whole call sequence from the question, then reads the printed results back from the tool messages
# and reasons over the numbers itself, as a tool-calling model would.

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
_STEPS_NOTE = re.compile(r"^(\d+ cells left\.|This is your LAST cell.*)$", re.MULTILINE)
_INDICES = re.compile(r"absolute frame indices \[([\d, ]*)\]")


class _Call(msgspec.Struct, frozen=True):
    """A planned tool call; `ref` is the result name it will get."""

    name: str
    arguments: dict[str, str | bool | float]
    role: str
    """What the result is for the final reasoning, e.g. `points:red chair` or `answer`."""


def _frame_list(first_user: str) -> list[int]:
    match = _INDICES.search(first_user)
    return [int(x) for x in match.group(1).split(",") if x.strip()] if match else [0]


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
    names = _object_names(parsed)
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
    text = _output_of(observation)
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
    letters = _letters(parsed)
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
    letters = _letters(parsed)
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
        answer = _tool_answer(parsed, _object_names(parsed), _Facts(calls, _tool_outputs(messages)))
    except (KeyError, IndexError, ValueError):
        answer = _fallback(parsed, rng)
    value: str | float = float(answer) if parsed.answer_format == "number" else answer
    return PolicyReply(
        content=f"Answering {answer}.",
        tool_calls=[ToolCall(name="answer", arguments=json.dumps({"answer": value}))],
    )
