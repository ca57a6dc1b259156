"""The `relative_direction_camera` measurement."""

from __future__ import annotations

from servers.mockllm.policies.scripted.cells._kernel import IMAGE, InputImages, letters, names, np, pts, recon
from servers.mockllm.policies.scripted.cells.helpers import upright_box

# cell
fi = InputImages[IMAGE - 1].index
c2w = recon.extrinsics[fi]
centre, _ = upright_box(pts[names[0]])
local = np.linalg.inv(c2w) @ np.append(centre, 1.0)
word = ("front" if local[2] > 0 else "back") + "-" + ("right" if local[0] > 0 else "left")
print(f"{names[0]} in camera {fi} coordinates: {np.round(local[:3], 2)} -> {word}")
result = letters[word]
print(f"RESULT: {result}")
