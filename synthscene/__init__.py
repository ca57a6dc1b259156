"""Procedural 3-D scenes for the embedded default, shared by the synthetic suite (`bench.suites.synthetic`:
questions and samples) and the synthetic perception backend (`servers.perception`: exact depth, cameras
and masks), so neither imports the other: `scene` (rooms and objects), `camera` (cameras and rigs),
`render` (ray casting into RGB, depth and instance ids) and `world` (the key that rebuilds one sample's
scene and cameras exactly).
"""

from __future__ import annotations

from synthscene.camera import Camera, Rig, intrinsics
from synthscene.render import CEILING_ID, FLOOR_ID, WALL_ID, Frame, render
from synthscene.scene import CATEGORIES, COLOURS, Scene, SceneObject, generate_scene
from synthscene.world import TASKS, World, WorldKey, build_world, parse_key

__all__ = [
    "CATEGORIES",
    "CEILING_ID",
    "COLOURS",
    "FLOOR_ID",
    "TASKS",
    "WALL_ID",
    "Camera",
    "Frame",
    "Rig",
    "Scene",
    "SceneObject",
    "World",
    "WorldKey",
    "build_world",
    "generate_scene",
    "intrinsics",
    "parse_key",
    "render",
]
