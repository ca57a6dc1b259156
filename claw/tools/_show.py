"""`show()`: an image (frame, array, PIL image or matplotlib figure) registered for the next observation,
encoded as PNG with its longer side at most 1024 pixels; past the per-step limit images are dropped and
the cell is told so.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import numpy.typing as npt

from claw.tools._answer import say
from claw.tools._state import STATE
from claw.wire.kernel import ShownImage

__all__ = ["as_uint8", "png_bytes", "show"]

_MAX_IMAGE_EDGE = 1024


def show(image: object, caption: str = "") -> None:
    """Show an image in the next observation (you see it after this cell, with its caption).

    Images are scaled to at most 1024 px on the long side. Only the first few images of a cell are
    kept (the run's per-cell limit); later ones are dropped with a printed note, so show the frames
    that matter. A bool mask shows white on black; any other non-uint8 array (a depth map, a heat
    map) is stretched from its min to its max.

    Args:
        image: a FrameImage, an (H, W, 3) or (H, W) array, a PIL image or a matplotlib figure.
        caption: a short text shown with the image (at most 200 characters).
    """
    cell = STATE.cell
    if len(cell.images) >= STATE.max_images:
        cell.images_dropped += 1
        say(f"[show] image dropped: at most {STATE.max_images} images per step")
        return
    cell.images.append(ShownImage(png=png_bytes(image), caption=str(caption)[:200]))


def png_bytes(image: object) -> bytes:
    """`image` as PNG bytes, shrunk to fit 1024 × 1024."""
    from PIL import Image

    pil: Image.Image
    if hasattr(image, "savefig"):
        buffer = io.BytesIO()
        image.savefig(buffer, format="png", dpi=100)
        pil = Image.open(io.BytesIO(buffer.getvalue()))
    elif isinstance(image, Image.Image):
        pil = image
    else:
        pil = Image.fromarray(as_uint8(np.asarray(image)))
    pil.thumbnail((_MAX_IMAGE_EDGE, _MAX_IMAGE_EDGE))
    out = io.BytesIO()
    pil.convert("RGB").save(out, format="png")
    return out.getvalue()


def as_uint8(pixels: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
    """(H, W[, 3]) pixels as uint8: booleans to 0/255, other dtypes scaled from their finite range."""
    if pixels.ndim not in (2, 3):
        raise TypeError(f"show() needs an (H, W, 3) or (H, W) image, got shape {pixels.shape}")
    if pixels.dtype == np.uint8:
        return pixels
    if pixels.dtype == np.bool_:
        return pixels.astype(np.uint8) * 255
    finite = np.nan_to_num(pixels.astype(np.float64))
    low, high = float(finite.min(initial=0.0)), float(finite.max(initial=1.0))
    scaled = (finite - low) / (high - low) if high > low else np.zeros_like(finite)
    return (scaled * 255).astype(np.uint8)
