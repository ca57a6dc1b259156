"""The `abs_distance_centroid` measurement."""

from __future__ import annotations

from servers.mockllm.policies.scripted.cells._kernel import names, np, pts
from servers.mockllm.policies.scripted.cells.helpers import upright_box

# cell
c0, _ = upright_box(pts[names[0]])
c1, _ = upright_box(pts[names[1]])
d = float(np.linalg.norm(c0 - c1))
print(f"box centres {np.round(c0, 2)} and {np.round(c1, 2)}: {d:.3f} m apart")
result = round(d, 3)
print(f"RESULT: {result}")
