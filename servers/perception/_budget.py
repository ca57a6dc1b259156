"""The perception server's pixel budget: how many pixels one image, and all images of one request, may
have. Depth, points, confidence and masks come back at input resolution, so without a budget one cell's
few huge frames make the server allocate gigabytes. A request is checked twice before any image is
decoded: its Content-Length against the budget's largest possible body, then the images' declared shapes
(read with the pixel bytes left undecoded, as views of the body).
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec

from claw.config import PerceptionConfig

__all__ = ["PixelBudget", "budgets"]

_BODY_SLACK_BYTES = 1 << 20
"""Room for the msgpack framing, frame indices and prompts around the pixel bytes."""
_TOOL_NAMES = {"reconstruct": "Reconstruct", "segment": "SAM3"}


class _ImageHead(msgspec.Struct, array_like=True):
    dtype: str
    shape: tuple[int, ...]
    data: msgspec.Raw
    """Left undecoded: a view of the request body, never copied."""


class _RequestHead(msgspec.Struct):
    images: list[_ImageHead] = msgspec.field(default_factory=list)


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:.1f} MP" if pixels >= 100_000 else f"{pixels} pixels"


@dataclass(frozen=True, slots=True)
class PixelBudget:
    """The limits of one operation's requests."""

    operation: str
    per_image: int
    per_request: int

    @property
    def max_body_bytes(self) -> int:
        """The largest body a request within the budget can have (RGB bytes plus framing)."""
        return self.per_request * 3 + _BODY_SLACK_BYTES

    def check_length(self, content_length: int | None) -> str | None:
        """Why a body of `content_length` bytes cannot be within the budget, or None."""
        if content_length is None or content_length <= self.max_body_bytes:
            return None
        return (
            f"{self._tool} request of {content_length / 2**20:.0f} MiB is over the perception server's "
            f"limit of {_megapixels(self.per_request)} per request; {self._advice}"
        )

    def check_body(self, body: bytes) -> str | None:
        """Why the images `body` declares are over the budget, or None (also None when the body cannot
        be read: the full decode then says what is wrong with it)."""
        try:
            images = msgspec.msgpack.decode(body, type=_RequestHead).images
        except msgspec.DecodeError:
            return None
        total = 0
        for number, image in enumerate(images, start=1):
            pixels = image.shape[0] * image.shape[1] if len(image.shape) >= 2 else 0
            if pixels > self.per_image:
                height, width = image.shape[0], image.shape[1]
                return (
                    f"{self._tool} image {number} is {width}x{height} ({_megapixels(pixels)}), over the "
                    f"perception server's limit of {_megapixels(self.per_image)} per image; resize or "
                    "crop it (e.g. PIL's image.resize((w // 2, h // 2))) and call again"
                )
            total += pixels
        if total > self.per_request:
            return (
                f"{self._tool} got {_megapixels(total)} in {len(images)} images, over the perception "
                f"server's limit of {_megapixels(self.per_request)} per request; {self._advice}"
            )
        return None

    @property
    def _tool(self) -> str:
        return _TOOL_NAMES.get(self.operation, self.operation)

    @property
    def _advice(self) -> str:
        return "pass fewer frames (e.g. InputImages[::2]) or smaller ones (resize or crop them)"


def budgets(config: PerceptionConfig) -> dict[str, PixelBudget]:
    """The budget of each operation under `config`."""
    return {
        "reconstruct": PixelBudget("reconstruct", config.max_image_pixels, config.max_reconstruct_pixels),
        "segment": PixelBudget("segment", config.max_image_pixels, config.max_segment_pixels),
    }
