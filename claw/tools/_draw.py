"""`tools.Draw`: overlays for `show()`: translucent instance masks, boxes and points with labels. Each
function returns a new (H, W, 3) uint8 image and leaves its input untouched.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw

from claw.tools._frames import as_image

__all__ = ["Draw"]

RGB = tuple[int, int, int]
_PALETTE: tuple[RGB, ...] = (
    (230, 25, 75),
    (60, 180, 75),
    (255, 225, 25),
    (0, 130, 200),
    (245, 130, 48),
    (145, 30, 180),
    (70, 240, 240),
    (240, 50, 230),
    (210, 245, 60),
    (250, 190, 212),
)


def _color(i: int) -> RGB:
    return _PALETTE[i % len(_PALETTE)]


def _masks(masks: npt.ArrayLike, shape: tuple[int, int]) -> npt.NDArray[np.bool_]:
    array = np.asarray(masks, dtype=bool)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3 or array.shape[1:] != shape:
        raise ValueError(f"masks must be (K, H, W) or (H, W) with (H, W) = {shape}, got {array.shape}")
    return array


def _rows(values: npt.ArrayLike, width: int, name: str) -> npt.NDArray[np.float64]:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1 and array.shape[0] == width:
        array = array[None]
    if array.size == 0:
        return np.zeros((0, width))
    if array.ndim != 2 or array.shape[1] != width:
        raise ValueError(f"{name} must be shaped (N, {width}), got {array.shape}")
    return array


def _label_list(labels: Sequence[str] | None, n: int) -> list[str | None]:
    if labels is None:
        return [None] * n
    if len(labels) != n:
        raise ValueError(f"got {len(labels)} labels for {n} items")
    return [str(label) for label in labels]


def _text(draw: ImageDraw.ImageDraw, xy: tuple[float, float], label: str | None, color: RGB) -> None:
    if label:
        left, top, right, bottom = draw.textbbox(xy, label)
        draw.rectangle((left - 1, top - 1, right + 1, bottom + 1), fill=(0, 0, 0))
        draw.text(xy, label, fill=color)


class Draw:
    """Drawing helpers that return new images for `show()`. All methods are static."""

    @staticmethod
    def overlay_masks(
        image: object, masks: npt.ArrayLike, labels: Sequence[str] | None = None, alpha: float = 0.5
    ) -> npt.NDArray[np.uint8]:
        """Tint each mask in its own colour over the image, with an optional label at its centre.

        Args:
            image: FrameImage, (H, W, 3) array or PIL image.
            masks: (K, H, W) or (H, W) bool, e.g. `seg.masks[fi]`.
            labels: one text per mask.
            alpha: tint strength 0..1.

        Raises:
            ValueError: masks do not match the image size, or labels do not match the masks.
        """
        base = as_image(image).astype(np.float64)
        stack = _masks(masks, base.shape[:2])
        names = _label_list(labels, stack.shape[0])
        for k, mask in enumerate(stack):
            base[mask] = (1 - alpha) * base[mask] + alpha * np.array(_color(k), dtype=np.float64)
        canvas = Image.fromarray(base.round().astype(np.uint8))
        draw = ImageDraw.Draw(canvas)
        for k, mask in enumerate(stack):
            if mask.any():
                ys, xs = np.nonzero(mask)
                _text(draw, (float(xs.mean()), float(ys.mean())), names[k], _color(k))
        return np.asarray(canvas, dtype=np.uint8)

    @staticmethod
    def boxes(
        image: object, boxes: npt.ArrayLike, labels: Sequence[str] | None = None, width: int = 2
    ) -> npt.NDArray[np.uint8]:
        """Draw pixel boxes [x1, y1, x2, y2] (e.g. `seg.boxes[fi]`) with optional labels.

        Raises:
            ValueError: boxes are not (N, 4), or labels do not match them.
        """
        rows = _rows(boxes, 4, "boxes")
        names = _label_list(labels, rows.shape[0])
        canvas = Image.fromarray(as_image(image))
        draw = ImageDraw.Draw(canvas)
        for k, (x1, y1, x2, y2) in enumerate(rows):
            draw.rectangle((x1, y1, x2, y2), outline=_color(k), width=width)
            _text(draw, (x1 + 2, y1 + 2), names[k], _color(k))
        return np.asarray(canvas, dtype=np.uint8)

    @staticmethod
    def points(
        image: object, points: npt.ArrayLike, labels: Sequence[str] | None = None, radius: int = 4
    ) -> npt.NDArray[np.uint8]:
        """Draw pixel points [x, y] as filled dots with optional labels.

        Raises:
            ValueError: points are not (N, 2), or labels do not match them.
        """
        rows = _rows(points, 2, "points")
        names = _label_list(labels, rows.shape[0])
        canvas = Image.fromarray(as_image(image))
        draw = ImageDraw.Draw(canvas)
        for k, (x, y) in enumerate(rows):
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=_color(k), outline=(0, 0, 0))
            _text(draw, (x + radius + 2, y - radius), names[k], _color(k))
        return np.asarray(canvas, dtype=np.uint8)
