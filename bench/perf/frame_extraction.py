"""How fast the published frame sampling turns a video into kernel frames, and what it costs in memory
and disk: a generated video (default 1,800 frames, 1280x720 at 30 fps, i.e. one minute) is sampled
every native frame and at 1 fps, under the "original" (fit 768) and "crop" policies, through the same
`MediaStore` the suites use. Peak resident memory is measured in a fresh child process per case, so it
shows whether extraction stays bounded as the video grows.

    python -m bench.perf.frame_extraction [--frames 1800] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.perf._cli import say, write_figures
from bench.suites._media import MediaStore, VideoSampling

__all__ = ["main"]


def _write_video(path: Path, frames: int, width: int, height: int, fps: int) -> None:
    import av

    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, size=(height, width, 3), dtype=np.uint8)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            image = np.roll(base, shift=i * 4, axis=1)  # a panning camera: every frame differs
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())


def _case(video: str, media: str, max_fps: float | None, images: str) -> dict[str, float]:
    """One extraction in this process: frames, seconds, mean file size and this process's peak RSS."""
    start = time.perf_counter()
    sampling = VideoSampling(max_fps=max_fps, images=images)  # type: ignore[arg-type]
    result = MediaStore(Path(media), "bench", sampling).video(Path(video))
    seconds = time.perf_counter() - start
    sizes = [Path(f.path).stat().st_size for f in result.frames]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"frames": len(result.frames), "seconds": seconds, "mb_per_frame": float(np.mean(sizes)) / 1e6,
            "peak_mb": peak_mb}  # fmt: skip


def _measure(video: Path, media: Path, max_fps: float | None, images: str) -> dict[str, float]:
    """`_case` in a fresh interpreter, so its peak memory is the extraction's alone."""
    fps = "none" if max_fps is None else str(max_fps)
    command = [
        sys.executable,
        "-m",
        "bench.perf.frame_extraction",
        "--case",
        str(video),
        str(media),
        fps,
        images,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--frames", type=int, default=1800, help="frames in the generated video")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--case", nargs=4, metavar=("VIDEO", "MEDIA", "MAX_FPS", "IMAGES"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.case:
        video, media, fps, images = args.case
        say(json.dumps(_case(video, media, None if fps == "none" else float(fps), images)))
        return 0
    figures: dict[str, object] = {"video_frames": args.frames, "size": "1280x720", "fps": 30}
    with tempfile.TemporaryDirectory(prefix="claw-frames-bench-") as work:
        video = Path(work) / "clip.mp4"
        _write_video(video, args.frames, 1280, 720, 30)
        for label, max_fps, images in (("every_frame", None, "original"), ("one_fps", 1.0, "original"),
                                       ("every_frame_crop", None, "crop")):  # fmt: skip
            got = _measure(video, Path(work) / label, max_fps, images)
            rate = got["frames"] / got["seconds"]
            say(f"{label}: {got['frames']:.0f} frames in {got['seconds']:.1f} s ({rate:.0f} frames/s), "
                f"{got['mb_per_frame']:.3f} MB/frame on disk, peak RSS {got['peak_mb']:.0f} MB")  # fmt: skip
            figures[label] = {**got, "frames_per_s": rate}
    write_figures(figures, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
