"""Fixtures for the benchmark loader tests: each `fixtures/<name>.json` holds records written for this
project in the benchmark's documented schema, the files they go in, the media they reference and what
the loader must make of them; `materialize` lays them out as an official local copy under a temp dir,
generating tiny PNGs and a 2-second mp4 for the media."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

import av
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

FIXTURES = Path(__file__).parent / "fixtures"
NAMES = sorted(p.stem for p in FIXTURES.glob("*.json"))
PNG_MARK = "<png>"


def png_bytes(seed: int = 0) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((24, 32, 3), seed % 255, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def write_video(path: Path, frames: int = 20, fps: int = 10) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            image = np.zeros((48, 64, 3), np.uint8)
            image[:, :, 0] = (i * 10) % 256
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())


def _fill(value: Any) -> Any:
    if value == PNG_MARK:
        return png_bytes(7)
    if isinstance(value, list):
        return [_fill(v) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v) for k, v in value.items()}
    return value


def _write(path: Path, spec: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = spec["format"]
    if kind == "parquet":
        pq.write_table(pa.Table.from_pylist(_fill(spec["rows"])), path)
    elif kind == "json":
        path.write_text(json.dumps(spec["content"], ensure_ascii=False), encoding="utf-8")
    elif kind == "jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in spec["rows"]), encoding="utf-8")
    else:
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(spec["rows"][0]))
            writer.writeheader()
            writer.writerows(spec["rows"])


def load_fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def sample_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    write_video(path)
    return path


def materialize(name: str, root: Path, video: Path) -> dict[str, Any]:
    """Write `name`'s fixture as an official local copy under `root`; return the fixture."""
    fixture = load_fixture(name)
    for relative, spec in fixture["files"].items():
        _write(root / relative, spec)
    for relative in fixture["media"]:
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.suffix == ".mp4":
            shutil.copyfile(video, target)
        else:
            Image.open(io.BytesIO(png_bytes(len(relative)))).save(target)
    return fixture
