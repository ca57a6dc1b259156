"""Reconstruct, segment the named objects in every frame, gather their points, show a mask overlay
and print what was found."""

from __future__ import annotations

from servers.mockllm.policies.scripted.cells._kernel import (
    NAMES,
    PROMPTS,
    SAM3,
    Draw,
    InputImages,
    Reconstruct,
    show,
)
from servers.mockllm.policies.scripted.cells.helpers import clean_points

# cell
# stage: perceive
frames = InputImages
recon = Reconstruct(frames)
names = NAMES
segs = {name: SAM3(frames, text=prompt) for name, prompt in zip(names, PROMPTS)}
# helpers
pts = {name: clean_points(segs[name], recon.frame_indices) for name in names}
for name in names:
    seen = [fi for fi in segs[name].frame_indices if segs[name].count(fi) > 0]
    print(f"{name}: {len(pts[name])} points from {len(seen)} of {len(frames)} frames")
best = max(frames, key=lambda f: sum(segs[n].count(f.index) > 0 for n in names))
show(Draw.overlay_masks(best, [segs[n].union(best.index) for n in names], labels=names), caption="masks")
missing = [n for n in names if len(pts[n]) == 0]
if missing:
    print(f"CHECK FAILED: nothing found for {missing}; segment them with their full names")
