"""Turning a benchmark's media into `claw.suite.Frame`s on disk: embedded image bytes are written once
under the media directory (content-addressed), image files are used in place, and videos are sampled
with PyAV into uniformly spaced JPEG frames at a configured count and maximum side, timestamps kept.

Sampled frames are cached beside a small JSON manifest, so a second pass over a suite decodes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import msgspec

from claw.errors import SuiteError
from claw.suite import Frame, Video

__all__ = ["MediaStore", "VideoSampling", "uniform_indices"]


class VideoSampling(msgspec.Struct, frozen=True, kw_only=True):
    """How a video becomes frames."""

    frames: int = 32
    """Frames per video (the published system shows 32 key frames up front)."""
    max_side: int = 768
    """Longest side of a written frame, in pixels (never upscaled)."""
    max_fps: float | None = None
    """Cap on sampled frames per second of video (1.0 for the long general-video benchmarks)."""


class _Manifest(msgspec.Struct, frozen=True, kw_only=True):
    fps: float | None
    total_frames: int
    duration_s: float | None
    indices: list[int]
    timestamps: list[float]


def uniform_indices(total: int, count: int) -> list[int]:
    """`count` evenly spaced indices in 0..total-1: round(i·(total−1)/(count−1)), deduplicated."""
    if total <= 0 or count <= 0:
        return []
    if count >= total:
        return list(range(total))
    if count == 1:
        return [0]
    return sorted({round(i * (total - 1) / (count - 1)) for i in range(count)})


def _sniff_suffix(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return ".png"
    if data.startswith(b"\xff\xd8"):
        return ".jpg"
    return ".webp" if data[8:12] == b"WEBP" else ".img"


class MediaStore:
    """Writes and finds media for one suite under `root/<suite>/`."""

    def __init__(
        self, root: Path, suite: str, sampling: VideoSampling | None = None, *, check_only: bool = False
    ) -> None:
        self.root = root / suite
        self.sampling = sampling or VideoSampling()
        self.check_only = check_only
        """Write and decode nothing; record missing files in `missing` instead of raising."""
        self.missing: list[Path] = []

    def __repr__(self) -> str:
        return f"MediaStore({str(self.root)!r}, {self.sampling!r}, check_only={self.check_only})"

    def _absent(self, path: Path) -> bool:
        if path.is_file():
            return False
        if not self.check_only:
            kind = "video" if path.suffix.lower() in {".mp4", ".webm", ".mkv", ".avi", ".mov"} else "image"
            raise SuiteError(f"{kind} {path} is missing; run `claw data check` to list what the copy lacks")
        self.missing.append(path)
        return True

    def image_bytes(self, data: bytes, index: int = 0) -> Frame:
        """Write embedded image bytes once (named by content hash) and return their frame."""
        path = self.root / "images" / (hashlib.sha1(data).hexdigest()[:20] + _sniff_suffix(data))
        if not path.exists() and not self.check_only:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(path.suffix + ".part")
            tmp.write_bytes(data)
            tmp.replace(path)
        return Frame(path=str(path), index=index)

    def image_file(self, path: Path, index: int = 0) -> Frame:
        """A frame for an image already on disk.

        Raises:
            SuiteError: the file is missing (unless `check_only`).
        """
        self._absent(path)
        return Frame(path=str(path), index=index)

    def image_set(self, name: str, paths: Sequence[Path], limit: int | None = None) -> Video:
        """Image files as one `Video` (a multi-view set or pre-extracted frames), at most `limit` evenly
        spaced ones."""
        chosen = uniform_indices(len(paths), limit) if limit else list(range(len(paths)))
        return Video(name=name, frames=tuple(self.image_file(paths[i], i) for i in chosen))

    def video(self, path: Path, name: str | None = None, sampling: VideoSampling | None = None) -> Video:
        """Uniformly sampled frames of the video at `path` (cached under the media directory).

        Raises:
            SuiteError: the video is missing or cannot be decoded.
        """
        how = sampling or self.sampling
        if self._absent(path) or self.check_only:
            return Video(name=name or path.stem, frames=())
        out = self.root / "frames" / _video_key(path, how)
        manifest = _read_manifest(out)
        if manifest is None:
            manifest = _sample_video(path, out, how)
        return _as_video(name or path.stem, out, manifest)


def _video_key(path: Path, how: VideoSampling) -> str:
    digest = hashlib.sha1(f"{path.resolve()}|{path.stat().st_size}".encode()).hexdigest()[:16]
    return f"{path.stem}-{digest}-k{how.frames}-s{how.max_side}-f{how.max_fps}"


def _read_manifest(out: Path) -> _Manifest | None:
    try:
        return msgspec.json.decode((out / "manifest.json").read_bytes(), type=_Manifest)
    except (OSError, msgspec.DecodeError):
        return None


def _as_video(name: str, out: Path, m: _Manifest) -> Video:
    frames = tuple(
        Frame(path=str(out / f"{i:06d}.jpg"), index=i, timestamp_s=t)
        for i, t in zip(m.indices, m.timestamps, strict=True)
    )
    return Video(name=name, frames=frames, fps=m.fps, total_frames=m.total_frames, duration_s=m.duration_s)


def _sample_video(path: Path, out: Path, how: VideoSampling) -> _Manifest:
    import av  # PyAV is only needed by video suites; importing it here keeps `claw suites` light

    try:
        with av.open(str(path)) as container:
            return _decode(container, out, how)
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise SuiteError(f"cannot decode video {path}: {exc}; re-download it from the official copy") from exc


def _decode(container: object, out: Path, how: VideoSampling) -> _Manifest:
    stream = container.streams.video[0]  # type: ignore[attr-defined]
    fps = float(stream.average_rate) if stream.average_rate else None
    duration = _duration(container, stream)
    stream.thread_type = "AUTO"
    total = stream.frames or _count_frames(container, stream)
    count = how.frames
    if how.max_fps and duration:
        count = min(count, max(1, int(duration * how.max_fps)))
    wanted = set(uniform_indices(total, count))
    out.mkdir(parents=True, exist_ok=True)
    indices, stamps = _write_frames(container, stream, out, how, wanted)
    manifest = _Manifest(fps=fps, total_frames=total, duration_s=duration, indices=indices, timestamps=stamps)
    (out / "manifest.json").write_bytes(msgspec.json.encode(manifest))
    return manifest


def _count_frames(container: object, stream: object) -> int:
    # The header has no frame count (common in webm/mkv): count video packets, then rewind.
    packets = container.demux(stream)  # type: ignore[attr-defined]
    total = sum(1 for packet in packets if packet.size)
    container.seek(0)  # type: ignore[attr-defined]
    return total


def _duration(container: object, stream: object) -> float | None:
    if stream.duration is not None and stream.time_base is not None:  # type: ignore[attr-defined]
        return float(stream.duration * stream.time_base)  # type: ignore[attr-defined]
    length = container.duration  # type: ignore[attr-defined]
    return length / 1_000_000 if length else None


def _write_frames(
    container: object, stream: object, out: Path, how: VideoSampling, wanted: set[int]
) -> tuple[list[int], list[float]]:
    # Frame counts in headers can be wrong; decoding sequentially and counting is the only exact index.
    indices: list[int] = []
    stamps: list[float] = []
    for n, frame in enumerate(container.decode(stream)):  # type: ignore[attr-defined]
        if n not in wanted:
            continue
        image = frame.to_image()
        image.thumbnail((how.max_side, how.max_side))
        image.save(out / f"{n:06d}.jpg", quality=90)
        indices.append(n)
        stamps.append(float(frame.time) if frame.time is not None else 0.0)
        if len(indices) == len(wanted):
            break
    return indices, stamps
