"""`tools.Time`: frame index <-> seconds conversions and time ordering, using the episode's fps (set by
the kernel bootstrap through `claw.tools._client.configure(fps=...)`) unless a call passes its own.
"""

from __future__ import annotations

from collections.abc import Iterable

from claw.tools import _client

__all__ = ["Time"]


def _fps(fps: float | None) -> float:
    value = fps if fps is not None else _client.current_settings().fps
    if value is None:
        return 1.0
    if value <= 0:
        raise ValueError(f"fps must be > 0, got {value}")
    return float(value)


class Time:
    """Video time helpers. Without `fps=`, uses `Metadata.fps` (1.0 for image sets)."""

    @staticmethod
    def frame_to_seconds(fi: int, fps: float | None = None) -> float:
        """Seconds from the video start of absolute frame `fi`.

        Raises:
            ValueError: a negative frame index or fps <= 0.
        """
        if fi < 0:
            raise ValueError(f"frame index must be >= 0, got {fi}")
        return fi / _fps(fps)

    @staticmethod
    def seconds_to_frame(t: float, fps: float | None = None) -> int:
        """Nearest absolute frame index at `t` seconds (negative times clamp to frame 0).

        Raises:
            ValueError: fps <= 0.
        """
        return max(0, round(t * _fps(fps)))

    @staticmethod
    def order_by_time(frame_indices: Iterable[int]) -> list[int]:
        """The frame indices from earliest to latest (duplicates kept)."""
        return sorted(int(fi) for fi in frame_indices)
