"""The `relative_distance` measurement."""

from __future__ import annotations

from servers.mockllm.policies.scripted.cells._kernel import letters, names, np, pts
from servers.mockllm.policies.scripted.cells.helpers import upright_box

# cell
ref, _ = upright_box(pts[names[0]])
dists = {n: float(np.linalg.norm(upright_box(pts[n])[0] - ref)) for n in names[1:]}
for n, d in dists.items():
    print(f"{n}: {d:.2f} m from the {names[0]}")
nearest = min(dists, key=dists.get)
result = letters[nearest]
print(f"RESULT: {result}")
