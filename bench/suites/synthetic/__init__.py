"""The synthetic spatial suite: seeded indoor scenes rendered with exact depth, instance ids and cameras,
and questions whose answers come from the geometry. Public names are re-exported here; the pieces live
in `_scene` (objects), `_camera` (cameras and rigs), `_render` (ray casting), `_world` (scene keys),
`_questions` (task generators) and `_suite` (the `Suite`).
"""

from __future__ import annotations

from bench.suites.synthetic._camera import Camera, Rig, intrinsics
from bench.suites.synthetic._questions import GENERATORS, Question, Views, closest_distance
from bench.suites.synthetic._render import CEILING_ID, FLOOR_ID, WALL_ID, Frame, render
from bench.suites.synthetic._scene import CATEGORIES, COLOURS, Scene, SceneObject, generate_scene
from bench.suites.synthetic._suite import DEFAULT_N, SyntheticSuite, draw_sample, make_suite, png_bytes
from bench.suites.synthetic._world import TASKS, World, WorldKey, build_world, parse_key

__all__ = [
    "CATEGORIES",
    "CEILING_ID",
    "COLOURS",
    "DEFAULT_N",
    "FLOOR_ID",
    "GENERATORS",
    "TASKS",
    "WALL_ID",
    "Camera",
    "Frame",
    "Question",
    "Rig",
    "Scene",
    "SceneObject",
    "SyntheticSuite",
    "Views",
    "World",
    "WorldKey",
    "build_world",
    "closest_distance",
    "draw_sample",
    "generate_scene",
    "intrinsics",
    "make_suite",
    "parse_key",
    "png_bytes",
    "render",
]
