"""The `object_size` measurement."""

from __future__ import annotations

from servers.mockllm.policies.scripted.cells._kernel import SCALE, names, np, pts
from servers.mockllm.policies.scripted.cells.helpers import upright_box

# cell
_, sides = upright_box(pts[names[0]])
size_cm = float(sides.max()) * SCALE
print(f"{names[0]} sides (m): {np.round(sides, 3)}; longest = {size_cm:.1f} cm")
if size_cm < 5:
    print("CHECK FAILED: a furniture-sized object cannot be under 5 cm; the value looks like metres")
else:
    result = round(size_cm, 1)
    print(f"RESULT: {result}")
