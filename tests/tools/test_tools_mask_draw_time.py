"""`tools.Mask`, `tools.Draw` and `tools.Time` on inputs with exact answers."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from claw.tools import Draw, Mask, Time, _client


def rect(h: int = 10, w: int = 12, y0: int = 2, y1: int = 5, x0: int = 3, x1: int = 9) -> np.ndarray:
    m = np.zeros((h, w), bool)
    m[y0:y1, x0:x1] = True
    return m


def test_mask_area_bbox_centroid() -> None:
    m = rect()
    assert Mask.area(m) == 18
    assert Mask.bbox(m).tolist() == [3, 2, 9, 5]
    assert Mask.centroid(m).tolist() == [5.5, 3.0]


@pytest.mark.parametrize("fn", [Mask.bbox, Mask.centroid])
def test_mask_helpers_reject_an_empty_mask(fn: object) -> None:
    with pytest.raises(ValueError, match="empty mask"):
        fn(np.zeros((4, 4), bool))  # type: ignore[operator]


def test_mask_rejects_a_stack() -> None:
    with pytest.raises(ValueError, match=r"seg.mask\(fi, k\)"):
        Mask.area(np.zeros((2, 4, 4), bool))


def test_mask_iou() -> None:
    a, b = rect(x0=0, x1=6), rect(x0=3, x1=9)
    assert Mask.iou(a, b) == pytest.approx(9 / 27)
    assert Mask.iou(a, a) == 1.0
    assert Mask.iou(np.zeros((3, 3)), np.zeros((3, 3))) == 0.0
    with pytest.raises(ValueError, match="one shape"):
        Mask.iou(np.zeros((3, 3)), np.zeros((3, 4)))


def test_mask_erode_and_dilate() -> None:
    m = rect(y0=2, y1=7, x0=2, x1=7)
    assert Mask.area(Mask.erode(m)) == 9
    assert Mask.area(Mask.dilate(m)) == 25 + 4 * 5
    assert Mask.area(Mask.erode(m, iterations=3)) == 0


def test_mask_largest_component() -> None:
    m = rect(x0=0, x1=2) | rect(x0=5, x1=10)
    big = Mask.largest_component(m)
    assert Mask.bbox(big).tolist() == [5, 2, 10, 5]
    assert not Mask.largest_component(np.zeros((3, 3), bool)).any()


def test_overlay_masks_tints_only_masked_pixels() -> None:
    image = np.full((10, 12, 3), 100, np.uint8)
    masks = np.stack([rect(), rect(y0=7, y1=9, x0=0, x1=2)])
    out = Draw.overlay_masks(image, masks)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert (image == 100).all()
    changed = (out != 100).any(axis=2)
    assert (changed == masks.any(axis=0)).all()
    assert not (out[3, 4] == out[8, 1]).all()


def test_overlay_masks_checks_shapes_and_labels() -> None:
    image = np.zeros((10, 12, 3), np.uint8)
    with pytest.raises(ValueError, match="masks must be"):
        Draw.overlay_masks(image, np.zeros((1, 5, 5), bool))
    with pytest.raises(ValueError, match="2 labels for 1"):
        Draw.overlay_masks(image, rect(), labels=["a", "b"])
    labelled = Draw.overlay_masks(image, rect(h=10, w=12), labels=["chair"])
    assert labelled.shape == (10, 12, 3)


def test_boxes_and_points_draw_on_a_copy() -> None:
    image = Image.new("RGB", (40, 30))
    boxed = Draw.boxes(image, [[5, 5, 20, 15]], labels=["t"])
    assert boxed[5, 12].any() and not boxed[10, 12].any()  # outline drawn, inside left alone
    dotted = Draw.points(np.zeros((30, 40, 3), np.uint8), [10, 10])
    assert dotted[10, 10].any() and not dotted[25, 35].any()
    assert not np.asarray(image).any()
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        Draw.boxes(image, [[1, 2, 3]])


def test_time_uses_the_configured_fps() -> None:
    _client.configure(fps=2.0)
    try:
        assert Time.frame_to_seconds(10) == 5.0
        assert Time.seconds_to_frame(2.6) == 5
        assert Time.seconds_to_frame(-1.0) == 0
        assert Time.frame_to_seconds(30, fps=30) == 1.0
    finally:
        _client.configure()
    assert Time.frame_to_seconds(7) == 7.0


def test_time_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="fps"):
        Time.frame_to_seconds(1, fps=0)
    with pytest.raises(ValueError, match=">= 0"):
        Time.frame_to_seconds(-1)


def test_order_by_time() -> None:
    assert Time.order_by_time([30, 5, 12, 5]) == [5, 5, 12, 30]
