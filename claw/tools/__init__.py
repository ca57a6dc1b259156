"""The tool API that model-written cells call inside the kernel: `Reconstruct` and `SAM3` (perception,
answered by the perception server over a lazily opened connection) and the CPU helpers `Geometry`, `Mask`,
`Draw` and `Time`. The kernel bootstrap (`claw.tools._runtime`) binds these names in every episode and
points the perception client at the server with `claw.tools._client.configure(...)`.

Conventions: pixels x right / y down; world metres, +Y up, ground at Y = 0; camera poses camera-to-world
with OpenCV axes (+x right, +y down, +z forward). Per-frame results are keyed by ABSOLUTE frame index.
"""

from __future__ import annotations

from claw.tools._draw import Draw
from claw.tools._geometry import OBB, Geometry, Plane
from claw.tools._mask import Mask
from claw.tools._perception import SAM3, Reconstruct, Reconstruction, Segmentation
from claw.tools._time import Time

__all__ = [
    "OBB",
    "SAM3",
    "Draw",
    "Geometry",
    "Mask",
    "Plane",
    "Reconstruct",
    "Reconstruction",
    "Segmentation",
    "Time",
]
