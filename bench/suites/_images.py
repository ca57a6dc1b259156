"""Preparing input images the way a run asks (`claw.suite.ImagePolicy`): kept as shipped, fitted to a
longest side, or centre-cropped to the nearest of the six aspect ratios the published system used and
resized so the long side is `max_side` (4:3 → 768×576, 16:9 → 768×432, 9:5 → 765×425 at 768).

Pure functions over PIL images; the media store decides where prepared copies are written.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from claw.suite import ImagePolicy

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = ["ASPECTS", "crop_box", "nearest_aspect", "prepare", "target_size"]

ASPECTS: tuple[tuple[int, int], ...] = ((1, 1), (4, 3), (3, 2), (9, 5), (16, 9), (2, 3))
"""(width, height) ratios the published preprocessing crops to."""


def nearest_aspect(width: int, height: int) -> tuple[int, int]:
    """The ratio in `ASPECTS` closest to width:height (compared on a log scale, so 2:1 and 1:2 are
    equally far from 1:1)."""
    ratio = math.log(width / height)
    return min(ASPECTS, key=lambda a: abs(math.log(a[0] / a[1]) - ratio))


def target_size(aspect: tuple[int, int], max_side: int) -> tuple[int, int]:
    """(k·s, m·s) for aspect k:m with s = max_side // max(k, m): the largest whole multiple that fits."""
    k, m = aspect
    step = max_side // max(k, m)
    return k * step, m * step


def crop_box(width: int, height: int, aspect: tuple[int, int]) -> tuple[int, int, int, int]:
    """The centred (left, top, right, bottom) box of `aspect` that is as large as the image allows."""
    k, m = aspect
    if width * m > height * k:  # too wide: trim the sides
        new_w = round(height * k / m)
        left = (width - new_w) // 2
        return left, 0, left + new_w, height
    new_h = round(width * m / k)
    top = (height - new_h) // 2
    return 0, top, width, top + new_h


def prepare(image: Image, policy: ImagePolicy, max_side: int) -> Image:
    """`image` (RGB) under `policy`; "original" returns it unchanged, "fit" never upscales, "crop"
    always lands exactly on the target size."""
    from PIL import Image as PILImage

    image = image.convert("RGB")
    if policy == "original":
        return image
    if policy == "fit":
        fitted = image.copy()
        fitted.thumbnail((max_side, max_side), PILImage.Resampling.LANCZOS)
        return fitted
    aspect = nearest_aspect(*image.size)
    cropped = image.crop(crop_box(*image.size, aspect))
    return cropped.resize(target_size(aspect, max_side), PILImage.Resampling.LANCZOS)
