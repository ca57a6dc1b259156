"""One worked example per kernel tool, shown in the agent's system prompt right under the tool's
contract. The examples form one running session (later ones use variables the earlier ones made), work
on any input (they handle "nothing found"), and are executed in order in a real kernel by the test suite
(`tests/agent/test_agent_examples.py`), so every example the model reads is known to run.
"""

from __future__ import annotations

__all__ = ["EXAMPLES", "example_for"]

EXAMPLES: dict[str, str] = {
    "vlm.ask": """\
first, last = InputImages[0], InputImages[-1]
reply = vlm.ask(
    f"These are frames {first.index} and {last.index} of one video, in time order. "
    "Which pieces of furniture are visible in both? List them.",
    images=[first, last],
)
print(reply)""",
    "vlm.locate": """\
spot = vlm.locate("chair", InputImages[0])
if spot:
    print("chair boxes (pixels):", spot.boxes.round(1).tolist())
    print("a pixel on it, usable as SAM3(points=...):", spot.points[:1].round(1).tolist())
else:
    print("no chair visible in frame", InputImages[0].index)""",
    "vlm.reason": """\
print(vlm.reason(
    "Which object is closer to the camera, and by how much?",
    context="chair: 2.41 m from the camera; table: 3.05 m from the camera (both in frame 0)",
))""",
    "tools.Reconstruct": """\
step = max(1, len(InputImages) // 16)
frames = InputImages[::step][:16]          # about 16 frames spread over the whole video
recon = Reconstruct(frames)
fi = recon.frame_indices[0]                # an ABSOLUTE frame number
print(recon.frame_indices)
print(recon.depth[fi].shape, recon.points[fi].shape)   # (H, W) metres, (H, W, 3) world XYZ
print("camera of frame", fi, "at", recon.extrinsics[fi][:3, 3].round(2))""",
    "tools.SAM3": """\
seg = SAM3(frames, text="chair")           # every chair in the same frames
for f in seg.frame_indices[:4]:
    print("frame", f, ":", seg.count(f), "chair(s), scores", seg.scores[f].round(2))
found = [f for f in seg.frame_indices if seg.count(f) > 0]
fi = found[0] if found else None
print("first frame with a chair:", fi)""",
    "tools.Geometry": """\
if fi is None:
    print("no chair found: try another prompt, other frames, or ask vlm where it is")
else:
    pts = Geometry.masked_points(recon, fi, seg.mask(fi, 0), min_confidence=0.3)
    centre = Geometry.centroid(pts)
    cam = Geometry.camera_position(recon, fi)
    print(len(pts), "points; centre", centre.round(2))
    print("distance from the camera:", round(Geometry.centroid_distance(pts, cam[None, :]), 2), "m")
    print("seen from the camera of frame", fi, ":", Geometry.relative_direction(recon, fi, centre))
    print("upright box sides (m):", Geometry.obb(pts, upright=True).extents.round(2))""",
    "tools.Mask": """\
if fi is not None:
    m = seg.mask(fi, 0)
    print("area", Mask.area(m), "px; box", Mask.bbox(m), "; centre", Mask.centroid(m).round(1))
    print("largest blob keeps", Mask.area(Mask.largest_component(m)), "px")""",
    "tools.Draw": """\
if fi is not None:
    frame = next(f for f in frames if f.index == fi)
    labels = [f"chair {k}" for k in range(seg.count(fi))]
    show(Draw.overlay_masks(frame, seg.masks[fi], labels=labels), caption=f"chairs in frame {fi}")""",
    "tools.Time": """\
last = InputImages[-1].index
print("last frame", last, "is at", round(Time.frame_to_seconds(last), 2), "s")
print("frame nearest to 1.5 s:", Time.seconds_to_frame(1.5))""",
}
"""Kernel name as the tool reference writes it -> example code."""


def example_for(name: str) -> str | None:
    """The worked example for the documented kernel name `name`, if there is one."""
    return EXAMPLES.get(name)
