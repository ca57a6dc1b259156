"""The `room_size` measurement."""

from __future__ import annotations

from servers.mockllm.policies.scripted.cells._kernel import names, pts
from servers.mockllm.policies.scripted.cells.helpers import upright_box

# cell
_, sides = upright_box(pts[names[0]])
area = float(sides[0] * sides[2])
print(f"room footprint {sides[0]:.2f} m x {sides[2]:.2f} m = {area:.2f} m^2")
result = round(area, 2)
print(f"RESULT: {result}")
