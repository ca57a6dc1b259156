"""Frame inputs, `FrameMap`, and the `Segmentation` / `Reconstruction` records built from wire answers."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from claw.errors import PerceptionError
from claw.tools._frames import FrameMap, as_image, collect_frames
from claw.tools._perception import SAM3, _reconstruction, _segmentation
from claw.wire.perception import NDArray, ReconstructResponse, SegmentResponse


class Frame:
    def __init__(self, index: int) -> None:
        self.index = index
        self.array = np.full((4, 5, 3), index, np.uint8)


def test_collect_frames_keeps_absolute_indices() -> None:
    images, indices = collect_frames([Frame(7), Frame(3)], limit=4, tool="T")
    assert indices == [7, 3]
    assert images[1][0, 0].tolist() == [3, 3, 3]
    assert collect_frames(Frame(9), limit=4, tool="T")[1] == [9]
    assert collect_frames([np.zeros((2, 2, 3), np.uint8)] * 2, limit=4, tool="T")[1] == [0, 1]


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        ([], "at least one frame"),
        ([Frame(i) for i in range(9)], r"at most 8 frames, got 9.*InputImages\[::2\]"),
        ([Frame(1), Frame(1)], "same frame index twice"),
    ],
)
def test_collect_frames_rejects_bad_lists(frames: list[Frame], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        collect_frames(frames, limit=8, tool="Reconstruct")


def test_collect_frames_rejects_non_images() -> None:
    with pytest.raises(TypeError, match="FrameImage"):
        collect_frames(42, limit=8, tool="T")
    with pytest.raises(TypeError, match="FrameImage"):
        collect_frames(["not an image"], limit=8, tool="T")


def test_as_image_normalises_inputs() -> None:
    assert as_image(Image.new("L", (3, 2), 9)).shape == (2, 3, 3)
    assert as_image(np.ones((2, 2), np.uint8)).shape == (2, 2, 3)
    assert as_image(np.full((1, 1, 3), 0.5)).tolist() == [[[127, 127, 127]]]
    assert as_image(np.zeros((1, 1, 4), np.uint8)).shape == (1, 1, 3)


def test_frame_map_is_keyed_by_absolute_index() -> None:
    fmap = FrameMap("depth", [30, 10], ["a", "b"])
    assert fmap[10] == "b" and list(fmap) == [30, 10] and len(fmap) == 2
    assert dict(fmap.items()) == {30: "a", 10: "b"}
    with pytest.raises(KeyError, match=r"valid absolute frame indices: \[30, 10\]"):
        fmap[0]
    assert "30, 10" in repr(fmap)


def _seg_response() -> SegmentResponse:
    masks = np.zeros((2, 4, 5), bool)
    masks[0, :2] = True
    masks[1, :, :1] = True
    return SegmentResponse(
        masks=[NDArray.from_numpy(masks), NDArray.from_numpy(np.zeros((0, 4, 5), bool))],
        scores=[
            NDArray.from_numpy(np.array([0.9, 0.4], np.float32)),
            NDArray.from_numpy(np.zeros(0, np.float32)),
        ],
        boxes=[
            NDArray.from_numpy(np.zeros((2, 4), np.float32)),
            NDArray.from_numpy(np.zeros((0, 4), np.float32)),
        ],
        object_ids=[[1, 2], []],
    )


def test_segmentation_accessors() -> None:
    seg = _segmentation([4, 8], _seg_response())
    assert (seg.count(4), seg.count(8)) == (2, 0)
    assert seg.mask(4, 1)[:, 0].all() and not seg.mask(4, 1)[:, 1].any()
    assert int(seg.union(4).sum()) == 10 + 2
    assert not seg.union(8).any() and seg.union(8).shape == (4, 5)
    assert seg.object_ids[4].tolist() == [1, 2]
    with pytest.raises(IndexError, match="0 instance"):
        seg.mask(8)
    seg.masks[4][0, 0, 0] = False  # arrays handed to the cell are writable copies


def test_segmentation_with_the_wrong_frame_count_is_a_perception_error() -> None:
    with pytest.raises(PerceptionError, match="does not have 3 frames"):
        _segmentation([1, 2, 3], _seg_response())


def test_reconstruction_with_the_wrong_frame_count_is_a_perception_error() -> None:
    one = NDArray.from_numpy(np.zeros((1, 2, 2), np.float32))
    response = ReconstructResponse(depth=one, points=one, confidence=one, intrinsics=one, extrinsics=one)
    with pytest.raises(PerceptionError, match="wrong number of frames"):
        _reconstruction([1, 2], response)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of"),
        ({"text": "a", "boxes": [[0, 0, 1, 1]]}, "exactly one of"),
        ({"text": "  "}, "empty"),
        ({"points": [[1, 2, 3]]}, r"\[\[x, y\], ...\]"),
        ({"points": [[1, 2]], "point_labels": [2]}, "0/1 per point"),
        ({"boxes": [[1, 2]]}, "x1, y1, x2, y2"),
        ({"text": "a", "threshold": 2.0}, "between 0 and 1"),
    ],
)
def test_sam3_validates_prompts_before_any_request(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SAM3(Frame(0), **kwargs)  # type: ignore[arg-type]
