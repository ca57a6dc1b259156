"""The `relative_direction_object` measurement."""

from __future__ import annotations

from servers.mockllm.policies.scripted.cells._kernel import letters, names, np, pts
from servers.mockllm.policies.scripted.cells.helpers import upright_box

# cell
at, facing, target = (upright_box(pts[n])[0] for n in names)
f, t = facing - at, target - at
side = f[0] * t[2] - f[2] * t[0]
print(f"facing {np.round(f, 2)}, target offset {np.round(t, 2)}, side = {side:.3f} (> 0 is right)")
result = letters['right' if side > 0 else 'left']
print(f"RESULT: {result}")
