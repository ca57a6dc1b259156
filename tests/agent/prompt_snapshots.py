"""The rendered prompts as snapshot files: the system prompt of each interface, the planner's, and for one
sample of each of the 20 benchmarks (read by its real loader from the documented-schema fixture in
`tests/benchmarks/fixtures`) the first user message and the planner's user message.

`python -m tests.agent.prompt_snapshots --write` (or `make prompt-snapshots`) rewrites the files under
`tests/agent/snapshots/`; `test_agent_prompt_snapshots` fails when what the code renders differs from
them, so every prompt change is reviewed as a diff.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from claw.agent import prompts
from claw.llm.types import ImagePart
from claw.suite import Sample, SuiteOptions, get_suite, key_frames
from tests.benchmarks.conftest import NAMES, materialize, write_video

SNAPSHOTS = Path(__file__).parent / "snapshots"
REGENERATE = "python -m tests.agent.prompt_snapshots --write"


def system_prompts() -> dict[str, str]:
    """Every sample-independent prompt, by snapshot name."""
    cot_system, _ = prompts.cot_messages(_placeholder(), [])
    return {
        "system_code": prompts.agent_system_prompt(30),
        "system_single_pass": prompts.agent_system_prompt(1, single_pass=True),
        "system_tool_call": prompts.tool_system_prompt(30),
        "system_planner": prompts.planner_system_prompt(),
        "system_cot": cot_system.text(),
    }


def _placeholder() -> Sample:
    return Sample(id="x", suite="x", question="?", answer_format="text", ground_truth="", videos=())


def benchmark_prompts(work: Path) -> dict[str, str]:
    """For the first fixture sample of each benchmark: its first user message and planner request."""
    video = work / "clip.mp4"
    write_video(video)
    rendered = {}
    for name in NAMES:
        root = work / name
        materialize(name, root / "data", video)
        options = SuiteOptions(data_dir=str(root / "data"), media_dir=str(root / "media"))
        sample = next(iter(get_suite(name, options).samples()))
        rendered[f"bench_{name}"] = _sample_snapshot(sample)
    return rendered


def _sample_snapshot(sample: Sample) -> str:
    urls = [f"data:image/png;base64,KEY{i}" for i in range(len(key_frames(sample)))]
    first = prompts.first_user_message(sample, urls)
    images = sum(isinstance(p, ImagePart) for p in first.content) if not isinstance(first.content, str) else 0
    planner_user = prompts.planner_messages(sample)[1].text()
    return (
        f"=== first user message ({images} images) ===\n{first.text()}\n\n"
        f"=== planner user message ===\n{planner_user}\n"
    )


def render_all() -> dict[str, str]:
    """Every snapshot, by name (files are `<name>.txt`)."""
    with tempfile.TemporaryDirectory(prefix="claw-prompt-snapshots-") as work:
        return {**system_prompts(), **benchmark_prompts(Path(work))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write or check the prompt snapshot files.")
    parser.add_argument("--write", action="store_true", help="rewrite the snapshot files")
    args = parser.parse_args(argv)
    rendered = render_all()
    if args.write:
        SNAPSHOTS.mkdir(exist_ok=True)
        for stale in SNAPSHOTS.glob("*.txt"):
            if stale.stem not in rendered:
                stale.unlink()
        for name, text in rendered.items():
            (SNAPSHOTS / f"{name}.txt").write_text(text, encoding="utf-8")
        print(f"wrote {len(rendered)} snapshots to {SNAPSHOTS}")
        return 0
    drifted = [n for n, t in rendered.items() if _read(n) != t]
    print("\n".join(drifted) or "all snapshots match")
    return 1 if drifted else 0


def _read(name: str) -> str | None:
    path = SNAPSHOTS / f"{name}.txt"
    return path.read_text(encoding="utf-8") if path.is_file() else None


if __name__ == "__main__":
    sys.exit(main())
