"""The rendered prompts equal their committed snapshots: the system prompt of each interface, the planner's,
and the first user message and planner request of one sample of each of the 20 benchmarks. A prompt
change shows up as a snapshot diff (regenerate with `python -m tests.agent.prompt_snapshots --write`)."""

from __future__ import annotations

import difflib

import pytest

from claw.suite import key_frames
from tests.benchmarks.conftest import NAMES

from .prompt_snapshots import REGENERATE, SNAPSHOTS, render_all


@pytest.fixture(scope="module")
def rendered() -> dict[str, str]:
    return render_all()


def test_one_snapshot_per_benchmark_and_interface(rendered: dict[str, str]) -> None:
    assert len(NAMES) == 20
    assert {f"bench_{n}" for n in NAMES} <= set(rendered)
    assert {"system_code", "system_single_pass", "system_tool_call", "system_planner"} <= set(rendered)
    assert sorted(p.stem for p in SNAPSHOTS.glob("*.txt")) == sorted(rendered)


def test_prompts_match_their_snapshots(rendered: dict[str, str]) -> None:
    drifted = []
    for name, text in sorted(rendered.items()):
        path = SNAPSHOTS / f"{name}.txt"
        committed = path.read_text(encoding="utf-8") if path.is_file() else ""
        if committed != text:
            diff = difflib.unified_diff(
                committed.splitlines(), text.splitlines(), "committed", "rendered", lineterm=""
            )
            drifted.append(f"{name}:\n" + "\n".join(list(diff)[:40]))
    assert not drifted, (
        f"prompts drifted from their snapshots; review, then run `{REGENERATE}`:\n" + "\n\n".join(drifted)
    )


def test_every_benchmark_prompt_carries_its_instruction_and_key_frame_map(rendered: dict[str, str]) -> None:
    for name in NAMES:
        text = rendered[f"bench_{name}"]
        first = text.split("=== planner user message ===")[0]
        assert "## Question" in first and "## Answer format" in first and "## Input" in first, name
        assert "Answer with" in first or "answer with" in first.lower(), name
        assert "image 1 = InputImages" in first, name


def test_system_prompt_has_the_published_sections(rendered: dict[str, str]) -> None:
    system = rendered["system_code"]
    for heading in (
        "## Your turn", "## The kernel", "## Looking at images", "## Evidence sources and the vision model",
        "## Tools", "## Coordinate frames", "## Computing robustly", "## Cross-checking", "## Answering",
        "## Code rules", "## Working method",
    ):  # fmt: skip
        assert heading in system
    for contract in (
        "(K, H, W) bool",
        "at most 64",
        "planar depth",
        "camera-to-world",
        "KeyError",
        "x1, y1, x2, y2",
    ):
        assert contract in system, contract
    planner = rendered["system_planner"]
    assert "## Choosing tools" in planner and "### tools.SAM3(" in planner and "### CHECKLIST" not in planner


def test_key_frames_follow_the_benchmark_counts() -> None:
    from claw.suite import Frame, Sample, Video

    video = Video(name="v", frames=tuple(Frame(path="f", index=i) for i in range(200)), fps=30.0)
    sample = Sample(id="1", suite="mmsivideo", question="q", answer_format="letter", ground_truth="A",
                    videos=(video, video), key_frames=64)  # fmt: skip
    assert len(key_frames(sample)) == 128
