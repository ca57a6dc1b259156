"""`InputImages` of a long video: frames decode on first use and only the most recently used ones stay
in memory, so a loop over thousands of frames is bounded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from claw.tools import _inputs
from claw.tools._inputs import FRAME_CACHE_FRAMES, FrameImage, FrameList


def test_a_loop_over_every_frame_keeps_a_bounded_number_decoded(tmp_path: Path) -> None:
    count = FRAME_CACHE_FRAMES * 3
    for i in range(count):
        Image.fromarray(np.full((6, 8, 3), i % 256, np.uint8)).save(tmp_path / f"{i:06d}.png")
    frames = FrameList(FrameImage(str(tmp_path / f"{i:06d}.png"), i, i / 30, "v") for i in range(count))
    _inputs._cached_rgb.cache_clear()
    means = [int(f.array.mean()) for f in frames]
    assert means == [i % 256 for i in range(count)]
    assert _inputs._cached_rgb.cache_info().currsize == FRAME_CACHE_FRAMES
    assert frames[-1].array is frames[-1].array  # a recently used frame is not decoded again
    assert frames[0].size == (8, 6)
