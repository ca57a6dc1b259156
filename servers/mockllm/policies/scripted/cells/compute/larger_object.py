"""The `larger_object` measurement."""

from __future__ import annotations

from servers.mockllm.policies.scripted.cells._kernel import letters, names, pts
from servers.mockllm.policies.scripted.cells.helpers import upright_box

# cell
longest = {n: float(upright_box(pts[n])[1].max()) for n in names}
print("longest sides (m):", {n: round(v, 3) for n, v in longest.items()})
result = letters[max(longest, key=longest.get)]
print(f"RESULT: {result}")
