"""Procedural indoor scenes: a rectangular room (floor, four walls, ceiling) holding 3–12 named, coloured
objects built from boxes, vertical cylinders and spheres, all in metres (world +Y up, ground at Y=0).

A scene is a pure function of a numpy `Generator`; the same generator state gives the same scene, byte
for byte. Objects are typed records (`SceneObject` of `Part`s) so the renderer, the question generators
and the ground-truth perception backend all read the same geometry.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import msgspec
import numpy as np

__all__ = [
    "CATEGORIES",
    "COLOURS",
    "Part",
    "Room",
    "Scene",
    "SceneObject",
    "generate_scene",
]

PartKind = Literal["box", "cylinder", "sphere"]
Vec3 = tuple[float, float, float]

COLOURS: dict[str, Vec3] = {
    "red": (0.85, 0.15, 0.15),
    "green": (0.2, 0.7, 0.25),
    "blue": (0.15, 0.3, 0.85),
    "yellow": (0.95, 0.85, 0.2),
    "orange": (0.95, 0.55, 0.1),
    "purple": (0.55, 0.25, 0.7),
    "white": (0.92, 0.92, 0.9),
    "black": (0.12, 0.12, 0.12),
    "brown": (0.5, 0.3, 0.15),
    "grey": (0.5, 0.5, 0.52),
    "pink": (0.95, 0.55, 0.7),
    "cyan": (0.2, 0.8, 0.85),
}
"""Colour name -> linear RGB in 0..1."""


class Part(msgspec.Struct, frozen=True, kw_only=True):
    """One primitive of an object, in world coordinates.

    A box is `size` (full extents along its local x, y, z) centred at `center` and turned by `yaw` radians
    about +Y; a cylinder is vertical with radius `size[0]` and height `size[1]`, `center` at its middle; a
    sphere has radius `size[0]`.
    """

    kind: PartKind
    center: Vec3
    size: Vec3
    yaw: float = 0.0
    shade: float = 1.0
    """Multiplier on the object colour (legs a little darker than a table top)."""


class SceneObject(msgspec.Struct, frozen=True, kw_only=True):
    """A named object: its instance id (1..N), category, colour and metric bounding box."""

    id: int
    category: str
    colour: str
    parts: tuple[Part, ...]
    center: Vec3
    """Centre of the object's 3-D bounding box."""
    extents: Vec3
    """Bounding-box size along the object's local x (width), y (height), z (depth)."""
    yaw: float

    @property
    def name(self) -> str:
        """`colour category`, unique within a scene (e.g. `red chair`)."""
        return f"{self.colour} {self.category}"

    @property
    def longest_side(self) -> float:
        """Longest bounding-box side in metres."""
        return max(self.extents)

    @property
    def top(self) -> float:
        """Height of the object's highest point above the floor."""
        return self.center[1] + self.extents[1] / 2


class Room(msgspec.Struct, frozen=True, kw_only=True):
    """The room spans [0, width] x [0, height] x [0, depth] in world X, Y, Z."""

    width: float
    depth: float
    height: float

    @property
    def floor_area(self) -> float:
        """Floor area in square metres."""
        return self.width * self.depth


class Scene(msgspec.Struct, frozen=True, kw_only=True):
    """A room and its objects."""

    room: Room
    objects: tuple[SceneObject, ...]

    def by_name(self, name: str) -> SceneObject:
        """The object called `name`.

        Raises:
            KeyError: no object has that name.
        """
        for obj in self.objects:
            if obj.name == name:
                return obj
        raise KeyError(name)

    def of_category(self, category: str) -> list[SceneObject]:
        """Every object of `category`, in id order."""
        return [o for o in self.objects if o.category == category]


# ---------------------------------------------------------------------------------------------- builders
# Each builder returns parts in object-local coordinates (origin at the footprint centre on the floor,
# yaw 0) and the local bounding-box extents; `_place` moves them into the world.

LocalParts = list[Part]
Builder = Callable[[np.random.Generator], tuple[LocalParts, Vec3]]


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return round(float(rng.uniform(lo, hi)), 3)


def _box(cx: float, cy: float, cz: float, sx: float, sy: float, sz: float, shade: float = 1.0) -> Part:
    return Part(kind="box", center=(cx, cy, cz), size=(sx, sy, sz), shade=shade)


def _simple_box(
    rng: np.random.Generator, w: tuple[float, float], h: tuple[float, float]
) -> tuple[LocalParts, Vec3]:
    sx, sy, sz = _u(rng, *w), _u(rng, *h), _u(rng, *w)
    return [_box(0, sy / 2, 0, sx, sy, sz)], (sx, sy, sz)


def _build_box(rng: np.random.Generator) -> tuple[LocalParts, Vec3]:
    return _simple_box(rng, (0.3, 0.6), (0.25, 0.5))


def _build_cabinet(rng: np.random.Generator) -> tuple[LocalParts, Vec3]:
    sx, sy, sz = _u(rng, 0.6, 1.1), _u(rng, 1.0, 1.9), _u(rng, 0.4, 0.6)
    return [_box(0, sy / 2, 0, sx, sy, sz)], (sx, sy, sz)


def _build_table(rng: np.random.Generator) -> tuple[LocalParts, Vec3]:
    sx, sy, sz, top, leg = _u(rng, 0.9, 1.6), _u(rng, 0.7, 0.8), _u(rng, 0.6, 0.9), 0.05, 0.06
    parts = [_box(0, sy - top / 2, 0, sx, top, sz)]
    for ix in (-1, 1):
        for iz in (-1, 1):
            x, z = ix * (sx / 2 - leg), iz * (sz / 2 - leg)
            parts.append(_box(x, (sy - top) / 2, z, leg, sy - top, leg, shade=0.7))
    return parts, (sx, sy, sz)


def _build_chair(rng: np.random.Generator) -> tuple[LocalParts, Vec3]:
    s, seat_h, back_h, leg = _u(rng, 0.42, 0.55), _u(rng, 0.42, 0.48), _u(rng, 0.4, 0.5), 0.04
    parts = [
        _box(0, seat_h - 0.025, 0, s, 0.05, s),
        _box(0, seat_h + back_h / 2, -s / 2 + 0.03, s, back_h, 0.06),
    ]
    for ix in (-1, 1):
        for iz in (-1, 1):
            x, z = ix * (s / 2 - leg), iz * (s / 2 - leg)
            parts.append(_box(x, (seat_h - 0.05) / 2, z, leg, seat_h - 0.05, leg, shade=0.7))
    return parts, (s, seat_h + back_h, s)


def _build_sofa(rng: np.random.Generator) -> tuple[LocalParts, Vec3]:
    sx, sz, base_h, back_h, arm = _u(rng, 1.6, 2.2), _u(rng, 0.8, 0.95), 0.42, _u(rng, 0.4, 0.5), 0.18
    parts = [
        _box(0, base_h / 2, 0.1, sx, base_h, sz - 0.2),
        _box(0, (base_h + back_h) / 2, -sz / 2 + 0.1, sx, base_h + back_h, 0.2, shade=0.85),
        _box(-sx / 2 + arm / 2, 0.3, 0.1, arm, 0.6, sz - 0.2, shade=0.9),
        _box(sx / 2 - arm / 2, 0.3, 0.1, arm, 0.6, sz - 0.2, shade=0.9),
    ]
    return parts, (sx, base_h + back_h, sz)


def _build_bed(rng: np.random.Generator) -> tuple[LocalParts, Vec3]:
    sx, sz, base_h, head_h = _u(rng, 1.0, 1.7), _u(rng, 1.9, 2.1), _u(rng, 0.45, 0.6), _u(rng, 0.9, 1.2)
    parts = [
        _box(0, base_h / 2, 0.04, sx, base_h, sz - 0.08),
        _box(0, head_h / 2, -sz / 2 + 0.04, sx, head_h, 0.08, shade=0.75),
    ]
    return parts, (sx, head_h, sz)


def _build_lamp(rng: np.random.Generator) -> tuple[LocalParts, Vec3]:
    h, r = _u(rng, 1.3, 1.7), _u(rng, 0.17, 0.23)
    pole_h = h - 2 * r
    parts = [
        Part(kind="cylinder", center=(0, 0.01, 0), size=(r * 0.8, 0.02, 0), shade=0.6),
        Part(kind="cylinder", center=(0, pole_h / 2, 0), size=(0.025, pole_h, 0), shade=0.6),
        Part(kind="sphere", center=(0, h - r, 0), size=(r, 0, 0)),
    ]
    return parts, (2 * r, h, 2 * r)


def _build_ball(rng: np.random.Generator) -> tuple[LocalParts, Vec3]:
    r = _u(rng, 0.15, 0.35)
    return [Part(kind="sphere", center=(0, r, 0), size=(r, 0, 0))], (2 * r, 2 * r, 2 * r)


def _build_bin(rng: np.random.Generator) -> tuple[LocalParts, Vec3]:
    r, h = _u(rng, 0.15, 0.25), _u(rng, 0.4, 0.7)
    return [Part(kind="cylinder", center=(0, h / 2, 0), size=(r, h, 0))], (2 * r, h, 2 * r)


def _build_plant(rng: np.random.Generator) -> tuple[LocalParts, Vec3]:
    r_pot, h_pot, r_leaf = _u(rng, 0.14, 0.2), _u(rng, 0.3, 0.45), _u(rng, 0.25, 0.38)
    parts = [
        Part(kind="cylinder", center=(0, h_pot / 2, 0), size=(r_pot, h_pot, 0), shade=0.55),
        Part(kind="sphere", center=(0, h_pot + r_leaf * 0.9, 0), size=(r_leaf, 0, 0)),
    ]
    top = h_pot + r_leaf * 1.9
    return parts, (2 * r_leaf, top, 2 * r_leaf)


def _build_stool(rng: np.random.Generator) -> tuple[LocalParts, Vec3]:
    r, h = _u(rng, 0.16, 0.22), _u(rng, 0.45, 0.75)
    parts = [
        Part(kind="cylinder", center=(0, h - 0.025, 0), size=(r, 0.05, 0)),
        Part(kind="cylinder", center=(0, (h - 0.05) / 2, 0), size=(0.04, h - 0.05, 0), shade=0.6),
    ]
    return parts, (2 * r, h, 2 * r)


BUILDERS: dict[str, Builder] = {
    "box": _build_box,
    "cabinet": _build_cabinet,
    "table": _build_table,
    "chair": _build_chair,
    "sofa": _build_sofa,
    "bed": _build_bed,
    "lamp": _build_lamp,
    "ball": _build_ball,
    "bin": _build_bin,
    "plant": _build_plant,
    "stool": _build_stool,
}
CATEGORIES: tuple[str, ...] = tuple(BUILDERS)


# --------------------------------------------------------------------------------------------- placement


def _rotate_y(x: float, z: float, yaw: float) -> tuple[float, float]:
    c, s = math.cos(yaw), math.sin(yaw)
    return c * x + s * z, -s * x + c * z


def _place(local: LocalParts, at: tuple[float, float], yaw: float) -> tuple[Part, ...]:
    placed = []
    for p in local:
        dx, dz = _rotate_y(p.center[0], p.center[2], yaw)
        centre = (round(at[0] + dx, 4), p.center[1], round(at[1] + dz, 4))
        placed.append(Part(kind=p.kind, center=centre, size=p.size, yaw=yaw, shade=p.shade))
    return tuple(placed)


def _footprint_radius(extents: Vec3) -> float:
    return math.hypot(extents[0], extents[2]) / 2


def _free_spot(
    rng: np.random.Generator, room: Room, radius: float, taken: list[tuple[float, float, float]]
) -> tuple[float, float] | None:
    margin = radius + 0.9
    for _ in range(60):
        x = float(rng.uniform(margin, room.width - margin))
        z = float(rng.uniform(margin, room.depth - margin))
        if all(math.hypot(x - tx, z - tz) > radius + tr + 0.35 for tx, tz, tr in taken):
            return round(x, 3), round(z, 3)
    return None


def _pick_categories(rng: np.random.Generator, n: int) -> list[tuple[str, str]]:
    # Repeating a category (up to three times, in different colours) makes counting questions meaningful.
    picks: list[tuple[str, str]] = []
    while len(picks) < n:
        category = CATEGORIES[int(rng.integers(len(CATEGORIES)))]
        used = {c for cat, c in picks if cat == category}
        if len(used) >= 3:
            continue
        free = [c for c in COLOURS if c not in used]
        picks.append((category, free[int(rng.integers(len(free)))]))
    return picks


def generate_scene(rng: np.random.Generator, *, min_objects: int = 3, max_objects: int = 12) -> Scene:
    """A random room with `min_objects..max_objects` non-overlapping objects.

    Objects that do not fit are dropped, so a scene may hold fewer than asked, never fewer than 2.
    """
    room = Room(width=_u(rng, 5.0, 8.5), depth=_u(rng, 5.0, 8.5), height=_u(rng, 2.6, 3.2))
    wanted = int(rng.integers(min_objects, max_objects + 1))
    objects: list[SceneObject] = []
    taken: list[tuple[float, float, float]] = []
    for category, colour in _pick_categories(rng, wanted):
        local, extents = BUILDERS[category](rng)
        yaw = round(float(rng.uniform(-math.pi, math.pi)), 4)
        spot = _free_spot(rng, room, _footprint_radius(extents), taken)
        if spot is None:
            continue
        taken.append((spot[0], spot[1], _footprint_radius(extents)))
        centre = (spot[0], extents[1] / 2, spot[1])
        parts = _place(local, spot, yaw)
        objects.append(
            SceneObject(
                id=len(objects) + 1,
                category=category,
                colour=colour,
                parts=parts,
                center=centre,
                extents=extents,
                yaw=yaw,
            )
        )
    return Scene(room=room, objects=tuple(objects))
