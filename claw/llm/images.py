"""Images into chat messages: resize to a maximum side and encode as PNG or JPEG `data:` URLs.

Encoding is CPU work: inside async code call these through `anyio.to_thread.run_sync`. The same image
with the same settings always encodes to the same bytes, which keeps transcripts (and vLLM's prefix
cache) stable across steps.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
from PIL import Image

from claw.errors import ConfigError
from claw.llm.types import ImagePart, ImageURL, Message, TextPart

__all__ = ["ImageFormat", "ImageInput", "bytes_data_url", "image_message", "image_part", "to_data_url"]

ImageFormat = Literal["png", "jpeg"]
ImageInput = Image.Image | npt.NDArray[np.generic] | str | Path
"""A PIL image, an HxW or HxWx{3,4} array (uint8, or floats in 0..1), or a path to an image file."""


def _as_pil(image: ImageInput) -> Image.Image:
    if isinstance(image, Image.Image):
        return image
    if isinstance(image, str | Path):
        with Image.open(image) as opened:
            return opened.copy()
    array = np.asarray(image)
    if array.dtype != np.uint8:
        array = (np.clip(array.astype(np.float64), 0.0, 1.0) * 255).round().astype(np.uint8)
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ConfigError(f"an image array must be HxW, HxWx3 or HxWx4; got shape {array.shape}")
    return Image.fromarray(array)


def _fit(image: Image.Image, max_side: int) -> Image.Image:
    scale = max_side / max(image.size)
    if scale >= 1.0:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def to_data_url(
    image: ImageInput, *, max_side: int = 1024, fmt: ImageFormat = "png", quality: int = 90
) -> str:
    """`image`, shrunk so its longer side is at most `max_side`, as a base64 `data:` URL.

    Raises:
        ConfigError: the array has a shape that is not an image.
        OSError: a path cannot be read as an image.
    """
    pil = _fit(_as_pil(image), max_side)
    if fmt == "jpeg" and pil.mode not in ("RGB", "L"):
        pil = pil.convert("RGB")
    buffer = io.BytesIO()
    pil.save(buffer, format=fmt.upper(), **({"quality": quality} if fmt == "jpeg" else {"optimize": False}))
    return bytes_data_url(buffer.getvalue(), f"image/{fmt}")


def bytes_data_url(data: bytes, mime: str = "image/png") -> str:
    """A base64 `data:` URL for already-encoded image bytes (sent as they are, not re-encoded)."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def image_part(image: ImageInput, *, max_side: int = 1024, fmt: ImageFormat = "png") -> ImagePart:
    """An `ImagePart` holding `image` (see `to_data_url`).

    Raises:
        ConfigError: the array has a shape that is not an image.
        OSError: a path cannot be read as an image.
    """
    return ImagePart(image_url=ImageURL(url=to_data_url(image, max_side=max_side, fmt=fmt)))


def image_message(
    text: str, images: list[ImageInput], *, max_side: int = 1024, fmt: ImageFormat = "png"
) -> Message:
    """A user message: `text` followed by `images` in order.

    Raises:
        ConfigError: an array has a shape that is not an image.
        OSError: a path cannot be read as an image.
    """
    parts: list[TextPart | ImagePart] = [TextPart(text=text)]
    parts += [image_part(image, max_side=max_side, fmt=fmt) for image in images]
    return Message(role="user", content=parts)
