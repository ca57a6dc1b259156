"""Turning a benchmark's media into `claw.suite.Frame`s on disk: embedded image bytes are written once
under the media directory (content-addressed), image files are used in place or as prepared copies
(`claw.suite.ImagePolicy`), and videos are decoded with PyAV into JPEG frames, timestamps kept.

A video is sampled as the published system sampled that benchmark: every native frame, or at most the
benchmark's fps cap (1 fps for the general-video benchmarks); or, for quick runs, a fixed number of
evenly spaced frames. Decoding streams one frame at a time, so memory stays bounded however long the
video; the frames go to disk once, beside a small JSON manifest, so a second pass decodes nothing and
the kernel loads each frame only when a cell touches it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import msgspec

from claw.errors import SuiteError
from claw.suite import Frame, ImagePolicy, Video, evenly_spaced

from ._images import prepare

__all__ = ["MediaStore", "VideoSampling", "fps_indices", "uniform_indices"]


class VideoSampling(msgspec.Struct, frozen=True, kw_only=True):
    """How a video becomes frames, and how images are prepared."""

    max_fps: float | None = None
    """The benchmark's cap on sampled frames per second; None keeps every native frame."""
    uniform: int | None = None
    """When set, this many evenly spaced frames per video instead (still at most `max_fps`)."""
    max_side: int = 768
    """Longest side of a written frame, in pixels ("original" and "fit" never upscale)."""
    images: ImagePolicy = "original"
    """How images (and video frames) are prepared; video frames under "original" are fitted."""


def uniform_indices(total: int, count: int) -> list[int]:
    """`count` evenly spaced indices in 0..total-1: round(i·(total−1)/(count−1)), deduplicated."""
    return evenly_spaced(total, count)


def fps_indices(total: int, native_fps: float | None, max_fps: float | None) -> list[int]:
    """Frame numbers kept when sampling at `max_fps`: round(i·native/max) below `total`; every frame
    when there is no cap, the native rate is unknown, or the cap is not below it."""
    if not max_fps or not native_fps or max_fps >= native_fps:
        return list(range(total))
    step = native_fps / max_fps
    count = int((total - 1) / step) + 1 if total > 0 else 0
    return sorted({min(total - 1, round(i * step)) for i in range(count)})


class _Manifest(msgspec.Struct, frozen=True, kw_only=True):
    fps: float | None
    total_frames: int
    duration_s: float | None
    indices: list[int]
    timestamps: list[float]


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
        """Write embedded image bytes once (named by content hash) and return their frame, prepared
        under the image policy."""
        path = self.root / "images" / (hashlib.sha1(data).hexdigest()[:20] + _sniff_suffix(data))
        if not path.exists() and not self.check_only:
            _write_atomic(path, data)
        return self._prepared(path, index)

    def image_file(self, path: Path, index: int = 0) -> Frame:
        """A frame for an image already on disk (a prepared copy unless the policy is "original").

        Raises:
            SuiteError: the file is missing (unless `check_only`).
        """
        if self._absent(path):
            return Frame(path=str(path), index=index)
        return self._prepared(path, index)

    def _prepared(self, path: Path, index: int) -> Frame:
        how = self.sampling
        if how.images == "original" or self.check_only:
            return Frame(path=str(path), index=index)
        digest = hashlib.sha1(f"{path.resolve()}|{path.stat().st_size}".encode()).hexdigest()[:20]
        out = self.root / "prepared" / f"{digest}-{how.images}{how.max_side}.jpg"
        if not out.exists():
            _save_prepared(path, out, how)
        return Frame(path=str(out), index=index)

    def image_set(self, name: str, paths: Sequence[Path], limit: int | None = None) -> Video:
        """Image files as one `Video` (a multi-view set or pre-extracted frames), at most `limit` evenly
        spaced ones."""
        chosen = uniform_indices(len(paths), limit) if limit else list(range(len(paths)))
        return Video(name=name, frames=tuple(self.image_file(paths[i], i) for i in chosen))

    def video(self, path: Path, name: str | None = None, sampling: VideoSampling | None = None) -> Video:
        """The sampled frames of the video at `path` (extracted once, cached under the media directory).

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


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)


def _save_prepared(source: Path, out: Path, how: VideoSampling) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(source) as image:
            prepared = prepare(image, how.images, how.max_side)
    except (OSError, UnidentifiedImageError) as exc:
        raise SuiteError(f"cannot read image {source}: {exc}; re-download it from the official copy") from exc
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    prepared.save(tmp, format="JPEG", quality=95)
    tmp.replace(out)


def _video_key(path: Path, how: VideoSampling) -> str:
    # Every setting that changes the frames is in the key, so a changed setting never reads stale frames.
    digest = hashlib.sha1(f"{path.resolve()}|{path.stat().st_size}".encode()).hexdigest()[:16]
    count = f"u{how.uniform}" if how.uniform else "all"
    return f"{path.stem}-{digest}-{count}-f{how.max_fps}-{how.images}{how.max_side}"


def _read_manifest(out: Path) -> _Manifest | None:
    try:
        return msgspec.json.decode((out / "manifest.json").read_bytes(), type=_Manifest)
    except (OSError, msgspec.DecodeError):
        return None  # not extracted yet, or cut short by a crash: the caller extracts it again


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


def _wanted(total: int, fps: float | None, duration: float | None, how: VideoSampling) -> set[int]:
    if how.uniform is None:
        return set(fps_indices(total, fps, how.max_fps))
    count = how.uniform
    if how.max_fps and duration:
        count = min(count, max(1, int(duration * how.max_fps)))
    return set(uniform_indices(total, count))


def _decode(container: object, out: Path, how: VideoSampling) -> _Manifest:
    stream = container.streams.video[0]  # type: ignore[attr-defined]
    fps = float(stream.average_rate) if stream.average_rate else None
    duration = _duration(container, stream)
    stream.thread_type = "AUTO"
    total = stream.frames or _count_frames(container, stream)
    wanted = _wanted(total, fps, duration, how)
    out.mkdir(parents=True, exist_ok=True)
    indices, stamps = _write_frames(container, stream, out, how, wanted)
    manifest = _Manifest(fps=fps, total_frames=total, duration_s=duration, indices=indices, timestamps=stamps)
    # The manifest is written last and atomically: a directory without one is decoded again.
    _write_atomic(out / "manifest.json", msgspec.json.encode(manifest))
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
    # One decoded frame is alive at a time, so a long video costs disk, not memory.
    policy: ImagePolicy = "fit" if how.images == "original" else how.images
    last = max(wanted, default=-1)
    indices: list[int] = []
    stamps: list[float] = []
    for n, frame in enumerate(container.decode(stream)):  # type: ignore[attr-defined]
        if n > last:
            break
        if n not in wanted:
            continue
        prepare(frame.to_image(), policy, how.max_side).save(out / f"{n:06d}.jpg", quality=90)
        indices.append(n)
        stamps.append(float(frame.time) if frame.time is not None else 0.0)
    return indices, stamps
