"""The sample-specific input description in the first user message: what each video or image set is
(frames held in the kernel, native fps, duration), and the key-frame map that ties every image shown
up front to its place in the kernel (`InputImages[i]` list position, absolute video frame, time).

Key frames are chosen by `claw.suite.key_frames`, the same function the driver uses to pick the images,
so the map and the images cannot disagree.
"""

from __future__ import annotations

from claw.suite import KeyFrame, Sample, Video, key_frames

__all__ = ["input_description", "key_frame_map", "list_name"]


def list_name(sample: Sample, video: int) -> str:
    """The kernel list holding video number `video` (0-based): `InputImages` for a single video,
    `InputImages_<video+1>` when there are several."""
    return "InputImages" if len(sample.videos) == 1 else f"InputImages_{video + 1}"


def _video_line(sample: Sample, number: int, video: Video) -> str:
    name = list_name(sample, number)
    held = len(video.frames)
    if video.fps:
        total = video.total_frames or held
        span = f", {video.duration_s:.1f} s" if video.duration_s else ""
        every = "every frame" if held >= total else f"{held} of its {total} frames"
        return (
            f"- {name} ({video.name}): a video at {video.fps:g} fps{span}; the kernel holds {every} "
            f"(list positions 0..{held - 1}; .index is the video frame number)."
        )
    kind = "one image" if held == 1 else f"{held} images"
    return f"- {name} ({video.name}): {kind} (list positions 0..{held - 1})."


def _key_line(sample: Sample, image: int, key: KeyFrame) -> str:
    where = f"{list_name(sample, key.video)}[{key.position}]"
    when = f", {key.frame.timestamp_s:.2f} s" if key.frame.timestamp_s is not None else ""
    return f"image {image} = {where} = frame {key.frame.index}{when}"


def key_frame_map(sample: Sample, per_video: int | None = None) -> list[str]:
    """One line per image shown up front, in the order the images follow."""
    return [_key_line(sample, i, key) for i, key in enumerate(key_frames(sample, per_video), start=1)]


def input_description(sample: Sample, per_video: int | None = None, *, with_images: bool = True) -> str:
    """The `## Input` block: the videos, then (when images follow) the key-frame map."""
    lines = ["## Input"]
    lines.extend(_video_line(sample, n, v) for n, v in enumerate(sample.videos))
    keys = key_frame_map(sample, per_video)
    if not keys:
        return "\n".join(lines)
    if with_images:
        lines.append(
            f"The {len(keys)} images below are key frames, in this order; every other frame is reachable "
            "in the kernel (show() it to look):"
        )
    else:
        lines.append(f"The agent is shown {len(keys)} key frames up front:")
    lines.extend(keys)
    return "\n".join(lines)
