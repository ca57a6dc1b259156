"""Real benchmark samples from ../shared/benchmarks laid out as each benchmark's official local copy, so
`claw eval --suite NAME --data DIR` loads them through the real loaders: one image sample (BLINK), one
video sample (MMSI-Video, its key frames as the video's frames) and one multi-video sample (CVBench, its
key frames split into two 1 fps videos). Question, options and ground truth come from the sample's page
record; nothing is copied into the repository."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import av
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from bench.suites._specs import get as get_spec

__all__ = ["KINDS", "SHARED", "materialize_page_sample"]

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "benchmarks"
KINDS = {
    "image": ("blink", "val_Counting_31"),
    "video": ("mmsivideo", "question_0057"),
    "multi-video": ("cvbench", "165"),
}
"""Episode kind -> (suite, page sample id)."""
_OPTION = re.compile(r"^([A-Z])\. (.+)$")


def _page(suite: str, sample: str) -> tuple[Path, dict[str, Any]]:
    folder = SHARED / suite / "spatialclaw_page" / sample
    return folder, json.loads((folder / "sample.json").read_text(encoding="utf-8"))


def _question_and_options(shown: str) -> tuple[str, list[str]]:
    """The benchmark's own question (first line) and option texts, without the page's instructions."""
    lines = shown.splitlines()
    lettered = [m.group(2) for line in lines if (m := _OPTION.match(line))]
    if lettered:
        return lines[0], lettered
    return lines[0], [line for line in lines[1:] if line.strip()][:2]


def _keyframes(folder: Path, page: dict[str, Any]) -> list[Path]:
    return [folder / frame["file"] for frame in page["input_keyframes"]]


def _blink(root: Path, folder: Path, page: dict[str, Any]) -> None:
    question, options = _question_and_options(page["question_as_shown"])
    image = {"bytes": _keyframes(folder, page)[0].read_bytes(), "path": None}
    row = {
        "idx": page["sample_id"], "question": question, "sub_task": "Counting", "image_1": image,
        "image_2": None, "image_3": None, "image_4": None, "choices": options,
        "answer": page["ground_truth_as_shown"].split()[0], "prompt": "", "explanation": "",
    }  # fmt: skip
    table = pa.Table.from_pylist([row])
    for pattern in get_spec("blink").files:  # the loader wants every sub-task's file; the others are empty
        target = root / pattern.replace("*", "00000-of-00001")
        target.parent.mkdir(parents=True)
        pq.write_table(table if target.parent.name == "Counting" else table.slice(0, 0), target)


def _mmsivideo(root: Path, folder: Path, page: dict[str, Any]) -> None:
    question, options = _question_and_options(page["question_as_shown"])
    frames = []
    for k, source in enumerate(_keyframes(folder, page)):
        relative = f"{page['sample_id']}/{k:03d}.jpg"
        (root / "frames" / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, root / "frames" / relative)
        frames.append(relative)
    record = {
        "id": page["sample_id"], "type": "(Spatial Construction) Object Motion",
        "video_list": [{"path": f"{page['sample_id']}.mp4", "start": 0.0, "end": 8.0, "base_fps": 1.0}],
        "frames_list": [frames], "ref_images": [], "ori_question": question, "options": options,
        "ground_truth": page["ground_truth_as_shown"], "hint": "",
    }  # fmt: skip
    (root / "mmsivideo.json").write_text(json.dumps([record]), encoding="utf-8")


def _write_video(path: Path, frames: list[Path]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = [np.asarray(Image.open(f).convert("RGB")) for f in frames]
    h, w = (d - d % 2 for d in pixels[0].shape[:2])
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=1)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for image in pixels:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image[:h, :w]), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())


def _cvbench(root: Path, folder: Path, page: dict[str, Any]) -> None:
    question, options = _question_and_options(page["question_as_shown"])
    frames = _keyframes(folder, page)
    half = len(frames) // 2
    videos = [f"{page['sample_id']}/first.mp4", f"{page['sample_id']}/second.mp4"]
    _write_video(root / "videos" / videos[0], frames[:half])
    _write_video(root / "videos" / videos[1], frames[half:])
    row = {
        "id": int(page["sample_id"]), "task_type": "Cross-video Scene Recognition", "video_1": videos[0],
        "video_2": videos[1], "video_3": None, "video_4": None, "question": question, "options": options,
        "answer": page["ground_truth_as_shown"],
    }  # fmt: skip
    target = root / "data" / "test-00000-of-00001.parquet"
    target.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist([row]), target)


_BUILDERS = {"blink": _blink, "mmsivideo": _mmsivideo, "cvbench": _cvbench}


def materialize_page_sample(kind: str, root: Path) -> str:
    """Lay out the page sample for `kind` under `root` (created); return its suite name."""
    suite, sample = KINDS[kind]
    folder, page = _page(suite, sample)
    root.mkdir(parents=True)
    _BUILDERS[suite](root, folder, page)
    return suite
