"""Vectorised numpy ray casting of a synthetic scene into RGB, exact planar depth and instance ids.

One ray per pixel centre. The room is intersected from the inside in closed form; every object part
(yawed box, vertical cylinder, sphere) is intersected only for the rays inside its projected screen
rectangle, which keeps a 256x256 frame at a few milliseconds. Ray directions have camera-z = 1, so the
hit parameter `t` is the planar depth directly. Shading is Lambert with one fixed light plus ambient,
and the floor carries a faint checker so views have texture.
"""

from __future__ import annotations

import math

import msgspec
import numpy as np
import numpy.typing as npt

from synthscene.camera import Camera, intrinsics
from synthscene.scene import COLOURS, Part, Scene

__all__ = ["CEILING_ID", "FLOOR_ID", "WALL_ID", "Frame", "render"]

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
FLOOR_ID, WALL_ID, CEILING_ID = 251, 252, 253
"""Instance ids of the room surfaces; objects are 1..N and 0 never appears."""
_LIGHT = np.array([0.35, 0.85, 0.4]) / np.linalg.norm([0.35, 0.85, 0.4])
_EPS = 1e-6


class Frame(msgspec.Struct, frozen=True, kw_only=True):
    """One rendered view: arrays at (H, W) plus the camera that made it."""

    rgb: npt.NDArray[np.uint8]
    depth: F32
    ids: npt.NDArray[np.int32]
    normals: F32
    K: F64
    c2w: F64

    def points(self) -> F32:
        """(H, W, 3) world XYZ of every pixel, unprojected from the planar depth."""
        h, w = self.depth.shape
        rays = _camera_rays(w, h, self.K)
        world = (rays @ self.c2w[:3, :3].T) * self.depth[..., None] + self.c2w[:3, 3]
        return world.astype(np.float32)


class _Hits:
    """The running nearest hit per pixel while parts are intersected one by one."""

    def __init__(self, h: int, w: int) -> None:
        self.t = np.full((h, w), np.inf)
        self.ids = np.zeros((h, w), dtype=np.int32)
        self.normal = np.zeros((h, w, 3))
        self.albedo = np.zeros((h, w, 3))

    def offer(self, rect: tuple[slice, slice], t: F64, normal: F64, ident: int, albedo: F64) -> None:
        nearer = t < self.t[rect]
        self.t[rect] = np.where(nearer, t, self.t[rect])
        self.ids[rect] = np.where(nearer, ident, self.ids[rect])
        self.normal[rect] = np.where(nearer[..., None], normal, self.normal[rect])
        self.albedo[rect] = np.where(nearer[..., None], albedo, self.albedo[rect])


def _camera_rays(width: int, height: int, K: F64) -> F64:
    u = (np.arange(width) + 0.5 - K[0, 2]) / K[0, 0]
    v = (np.arange(height) + 0.5 - K[1, 2]) / K[1, 1]
    uu, vv = np.meshgrid(u, v)
    return np.stack([uu, vv, np.ones_like(uu)], axis=-1)


def _room_hits(scene: Scene, origin: F64, dirs: F64, hits: _Hits) -> None:
    room = scene.room
    hi = np.array([room.width, room.height, room.depth])
    safe = np.where(np.abs(dirs) < _EPS, _EPS, dirs)
    bound = np.where(safe > 0, hi, 0.0)
    t_axis = (bound - origin) / safe
    axis = np.argmin(t_axis, axis=-1)
    t = np.take_along_axis(t_axis, axis[..., None], axis=-1)[..., 0]
    normal = np.zeros_like(dirs)
    np.put_along_axis(normal, axis[..., None], -np.sign(np.take_along_axis(safe, axis[..., None], -1)), -1)
    up = np.take_along_axis(safe, axis[..., None], -1)[..., 0] > 0
    ident = np.where(axis != 1, WALL_ID, np.where(up, CEILING_ID, FLOOR_ID)).astype(np.int32)
    point = origin + dirs * t[..., None]
    checker = (np.floor(point[..., 0] / 0.5) + np.floor(point[..., 2] / 0.5)) % 2
    floor_rgb = np.array([0.62, 0.5, 0.38]) + 0.06 * checker[..., None]
    albedo = np.where((ident == FLOOR_ID)[..., None], floor_rgb, np.array([0.86, 0.84, 0.78]))
    albedo = np.where((ident == CEILING_ID)[..., None], np.array([0.95, 0.95, 0.95]), albedo)
    hits.t, hits.ids, hits.normal, hits.albedo = t, ident, normal, albedo


def _rot_y(yaw: float) -> F64:
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _box_hit(part: Part, origin: F64, dirs: F64) -> tuple[F64, F64]:
    rot = _rot_y(part.yaw)
    o = (origin - np.array(part.center)) @ rot
    d = dirs @ rot
    half = np.array(part.size) / 2
    safe = np.where(np.abs(d) < _EPS, _EPS, d)
    t1, t2 = (-half - o) / safe, (half - o) / safe
    near, far = np.minimum(t1, t2), np.maximum(t1, t2)
    t_near, t_far = near.max(axis=-1), far.min(axis=-1)
    t = np.where((t_near <= t_far) & (t_near > _EPS), t_near, np.inf)
    axis = near.argmax(axis=-1)
    local_n = np.zeros_like(d)
    np.put_along_axis(local_n, axis[..., None], -np.sign(np.take_along_axis(safe, axis[..., None], -1)), -1)
    return t, local_n @ rot.T


def _sphere_hit(part: Part, origin: F64, dirs: F64) -> tuple[F64, F64]:
    oc = origin - np.array(part.center)
    a = np.einsum("...i,...i", dirs, dirs)
    b = 2 * np.einsum("...i,...i", oc, dirs)
    c = float(oc @ oc) - part.size[0] ** 2
    disc = b * b - 4 * a * c
    root = np.sqrt(np.maximum(disc, 0.0))
    t = np.where(disc >= 0, (-b - root) / (2 * a), np.inf)
    t = np.where(t > _EPS, t, np.inf)
    hit = origin + dirs * np.where(np.isfinite(t), t, 0)[..., None]
    normal = (hit - np.array(part.center)) / part.size[0]
    return t, normal


def _cylinder_hit(part: Part, origin: F64, dirs: F64) -> tuple[F64, F64]:
    cx, cy, cz = part.center
    r, h = part.size[0], part.size[1]
    ox, oz = origin[0] - cx, origin[2] - cz
    dx, dy, dz = dirs[..., 0], dirs[..., 1], dirs[..., 2]
    a = np.maximum(dx * dx + dz * dz, _EPS)
    b = 2 * (ox * dx + oz * dz)
    disc = b * b - 4 * a * (ox * ox + oz * oz - r * r)
    t_side = np.where(disc >= 0, (-b - np.sqrt(np.maximum(disc, 0))) / (2 * a), np.inf)
    y_side = origin[1] + dy * t_side
    t_side = np.where((t_side > _EPS) & (np.abs(y_side - cy) <= h / 2), t_side, np.inf)
    top = cy + h / 2
    t_cap = (top - origin[1]) / np.where(np.abs(dy) < _EPS, -_EPS, dy)
    rx, rz = ox + dx * t_cap, oz + dz * t_cap
    t_cap = np.where((t_cap > _EPS) & (rx * rx + rz * rz <= r * r), t_cap, np.inf)
    side = t_side <= t_cap
    t = np.minimum(t_side, t_cap)
    px, pz = ox + dx * np.where(np.isfinite(t), t, 0), oz + dz * np.where(np.isfinite(t), t, 0)
    side_n = np.stack([px / r, np.zeros_like(px), pz / r], axis=-1)
    return t, np.where(side[..., None], side_n, np.array([0.0, 1.0, 0.0]))


_HIT = {"box": _box_hit, "sphere": _sphere_hit, "cylinder": _cylinder_hit}


def _corners(part: Part) -> F64:
    if part.kind == "box":
        half = np.array(part.size) / 2
    elif part.kind == "cylinder":
        half = np.array([part.size[0], part.size[1] / 2, part.size[0]])
    else:
        half = np.full(3, part.size[0])
    signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], dtype=np.float64)
    local = signs * half
    if part.kind == "box":
        local = local @ _rot_y(part.yaw).T
    return np.asarray(local + np.array(part.center), dtype=np.float64)


def _screen_rect(corners: F64, K: F64, w2c: F64, width: int, height: int) -> tuple[slice, slice] | None:
    cam = corners @ w2c[:3, :3].T + w2c[:3, 3]
    if (cam[:, 2] < 0.05).all():
        return None
    if (cam[:, 2] < 0.05).any():
        return slice(0, height), slice(0, width)
    u = K[0, 0] * cam[:, 0] / cam[:, 2] + K[0, 2]
    v = K[1, 1] * cam[:, 1] / cam[:, 2] + K[1, 2]
    u0, u1 = max(int(np.floor(u.min())) - 1, 0), min(int(np.ceil(u.max())) + 1, width)
    v0, v1 = max(int(np.floor(v.min())) - 1, 0), min(int(np.ceil(v.max())) + 1, height)
    if u0 >= u1 or v0 >= v1:
        return None
    return slice(v0, v1), slice(u0, u1)


def _shade(hits: _Hits) -> npt.NDArray[np.uint8]:
    lambert = np.clip(hits.normal @ _LIGHT, 0.0, 1.0)
    light = 0.45 + 0.55 * lambert
    rgb = hits.albedo * light[..., None]
    out: npt.NDArray[np.uint8] = (np.clip(rgb, 0.0, 1.0) ** (1 / 2.2) * 255 + 0.5).astype(np.uint8)
    return out


def render(scene: Scene, camera: Camera, width: int = 256, height: int = 256) -> Frame:
    """Ray-cast `scene` from `camera` at `width` x `height`."""
    K = intrinsics(width, height, camera.hfov_deg)
    c2w = camera.matrix()
    w2c: F64 = np.linalg.inv(c2w).astype(np.float64)
    origin = c2w[:3, 3]
    dirs = _camera_rays(width, height, K) @ c2w[:3, :3].T
    hits = _Hits(height, width)
    _room_hits(scene, origin, dirs, hits)
    for obj in scene.objects:
        albedo_base = np.array(COLOURS[obj.colour])
        for part in obj.parts:
            rect = _screen_rect(_corners(part), K, w2c, width, height)
            if rect is None:
                continue
            t, normal = _HIT[part.kind](part, origin, dirs[rect])
            hits.offer(rect, t, normal, obj.id, albedo_base * part.shade)
    return Frame(
        rgb=_shade(hits),
        depth=hits.t.astype(np.float32),
        ids=hits.ids,
        normals=hits.normal.astype(np.float32),
        K=K,
        c2w=c2w,
    )
