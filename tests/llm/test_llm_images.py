"""Image helpers: resizing, formats, inputs."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from claw.errors import ConfigError
from claw.llm.images import image_message, image_part, to_data_url
from claw.llm.types import ImagePart, TextPart


def _decode(url: str) -> Image.Image:
    header, data = url.split(",", 1)
    assert header.endswith(";base64")
    return Image.open(io.BytesIO(base64.b64decode(data)))


@pytest.mark.parametrize(("fmt", "pil_format"), [("png", "PNG"), ("jpeg", "JPEG")])
def test_resized_to_max_side(fmt: str, pil_format: str) -> None:
    array = np.zeros((300, 600, 3), dtype=np.uint8)
    url = to_data_url(array, max_side=200, fmt=fmt)  # type: ignore[arg-type]
    assert url.startswith(f"data:image/{fmt};base64,")
    image = _decode(url)
    assert image.format == pil_format and image.size == (200, 100)


def test_small_images_keep_size_and_encode_stably(tmp_path: Path) -> None:
    rgba = np.random.default_rng(0).integers(0, 255, (20, 30, 4), dtype=np.uint8)
    path = tmp_path / "x.png"
    Image.fromarray(rgba).save(path)
    assert _decode(to_data_url(path)).size == (30, 20)
    assert to_data_url(rgba) == to_data_url(rgba)
    assert _decode(to_data_url(rgba, fmt="jpeg")).mode == "RGB"


def test_float_arrays_are_scaled() -> None:
    image = _decode(to_data_url(np.full((4, 4), 1.0)))
    assert np.asarray(image).max() == 255


def test_bad_shape_is_rejected() -> None:
    with pytest.raises(ConfigError, match="shape"):
        image_part(np.zeros((4, 4, 2), dtype=np.uint8))


def test_image_message_orders_text_then_images() -> None:
    message = image_message("look", [np.zeros((2, 2, 3), dtype=np.uint8)] * 2)
    assert message.role == "user"
    assert isinstance(message.content, list)
    assert [type(p) for p in message.content] == [TextPart, ImagePart, ImagePart]
