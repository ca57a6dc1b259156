"""The kernel namespace a scripted cell runs in, declared for ruff and mypy: what the bootstrap binds, what
the perceive cell leaves behind for the compute cells, and the per-question placeholders the renderer
fills in. A rendered cell never imports this module.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy

from claw.tools import SAM3, Draw, Geometry, Reconstruct, Reconstruction, Segmentation
from claw.tools._answer import ReturnAnswer
from claw.tools._inputs import FrameList
from claw.tools._show import show

__all__ = [
    "IMAGE",
    "NAMES",
    "PROMPTS",
    "SAM3",
    "SCALE",
    "SIGN",
    "Draw",
    "Geometry",
    "InputImages",
    "Reconstruct",
    "ReturnAnswer",
    "frames",
    "letters",
    "math",
    "names",
    "np",
    "pts",
    "recon",
    "scipy",
    "segs",
    "show",
]

InputImages: FrameList
frames: FrameList
recon: Reconstruction
names: list[str]
segs: dict[str, Segmentation]
pts: dict[str, npt.NDArray[Any]]
letters: dict[str, str]

NAMES: list[str]
"""The objects the question names (repr of a list)."""
PROMPTS: list[str]
"""The segmentation prompt of each name."""
SCALE: float
"""Centimetres per metre, or 1 in the metres/centimetres slip."""
SIGN: float
"""`SIGN * ` becomes a space, or a minus sign in the axis-sign slip."""
IMAGE: int
"""The 1-based image a camera-relative question refers to."""
