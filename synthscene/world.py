"""Scene keys: the short string that names one sample's scene and cameras, and rebuilds them exactly.

A key is `syn1-<seed>-<index>-<attempt>`. The suite seed and sample index fix the task type; the attempt
counts redraws (a draw is redrawn when its question would be ambiguous). Everything else, the room, the
objects and the rig, is drawn from `numpy.random.default_rng([seed, index, attempt])`, so the suite,
the ground-truth perception backend and the tests all rebuild the same world from the key alone.
"""

from __future__ import annotations

import re

import msgspec
import numpy as np

from claw.errors import SuiteError
from synthscene.camera import Rig, RigKind, make_rig
from synthscene.scene import Scene, generate_scene

__all__ = ["TASKS", "TASK_RIGS", "World", "WorldKey", "build_world", "parse_key"]

KEY_VERSION = "syn1"
_KEY_RE = re.compile(rf"^{KEY_VERSION}-(\d+)-(\d+)-(\d+)$")

TASK_RIGS: dict[str, tuple[RigKind, int]] = {
    "abs_distance_closest": ("multiview", 12),
    "abs_distance_centroid": ("multiview", 12),
    "object_size": ("multiview", 12),
    "object_count": ("video", 16),
    "relative_distance": ("multiview", 8),
    "relative_direction_object": ("multiview", 8),
    "relative_direction_camera": ("multiview", 8),
    "depth_order": ("single", 1),
    "height_comparison": ("multiview", 8),
    "larger_object": ("multiview", 8),
    "room_size": ("pan", 16),
    "camera_motion": ("pair", 2),
    "camera_rotation": ("pair", 2),
    "appearance_order": ("pan", 16),
}
"""Task type -> the rig its samples are shown through (kind, frames)."""
TASKS: tuple[str, ...] = tuple(TASK_RIGS)


class WorldKey(msgspec.Struct, frozen=True):
    """The parsed form of a scene key."""

    seed: int
    index: int
    attempt: int = 0

    @property
    def text(self) -> str:
        """The key as it travels in `Sample.metadata["scene"]` and perception requests."""
        return f"{KEY_VERSION}-{self.seed}-{self.index}-{self.attempt}"

    @property
    def task(self) -> str:
        """The task type this sample index draws."""
        return TASKS[self.index % len(TASKS)]


class World(msgspec.Struct, frozen=True, kw_only=True):
    """One sample's scene, rig and task, rebuilt from its key."""

    key: WorldKey
    scene: Scene
    rig: Rig


def parse_key(text: str) -> WorldKey:
    """Parse a scene key.

    Raises:
        SuiteError: `text` is not a synthetic scene key.
    """
    match = _KEY_RE.match(text)
    if match is None:
        raise SuiteError(
            f"unknown synthetic scene {text!r}: expected '{KEY_VERSION}-<seed>-<index>-<attempt>' "
            "as written in a synthetic sample's metadata['scene']"
        )
    seed, index, attempt = (int(g) for g in match.groups())
    return WorldKey(seed, index, attempt)


def build_world(key: WorldKey) -> World:
    """Regenerate the scene and rig named by `key` (deterministic)."""
    rng = np.random.default_rng([key.seed, key.index, key.attempt])
    scene = generate_scene(rng)
    kind, n_frames = TASK_RIGS[key.task]
    return World(key=key, scene=scene, rig=make_rig(kind, scene, rng, n_frames))
