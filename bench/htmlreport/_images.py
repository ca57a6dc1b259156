"""Images for the report, inlined: each file is shrunk once to a thumbnail, encoded as a `data:` URL and
stored under a short id, so an image that appears in many places (a key frame sent in every request)
is embedded once. The page's script puts the URL into an `<img>` when its episode is opened."""

from __future__ import annotations

import base64
import io
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from claw.events import RecordedImage

__all__ = ["ImageStore"]


class ImageStore:
    """Thumbnails by id, for one report."""

    def __init__(self, run_dir: Path, *, max_side: int) -> None:
        self.run_dir, self.max_side = run_dir, max_side
        self.urls: dict[str, str] = {}
        self._ids: dict[str, str] = {}
        self.missing: list[str] = []

    def _encode(self, path: Path) -> str | None:
        try:
            with Image.open(path) as opened:
                image = opened.convert("RGB")
        except (OSError, UnidentifiedImageError):
            self.missing.append(str(path))
            return None
        image.thumbnail((self.max_side, self.max_side))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=80)
        return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")

    def image_id(self, image: RecordedImage) -> str | None:
        """The id of `image`'s thumbnail (None: its file is missing or unreadable)."""
        if not image.path:
            return None
        key = image.sha256 or image.path
        if key not in self._ids:
            url = self._encode(self.run_dir / image.path)
            if url is None:
                return None
            self._ids[key] = f"i{len(self._ids)}"
            self.urls[self._ids[key]] = url
        return self._ids[key]
