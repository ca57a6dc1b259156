"""The synthetic spatial suite: seeded indoor scenes rendered with exact depth, instance ids and cameras,
and questions whose answers come from the geometry. The scenes, cameras, renderer and scene keys live in
the neutral package `synthscene` (the synthetic perception backend uses them too); the suite's own pieces
are `_questions` (task generators), `_surface` (the exact object geometry answers come from) and
`_suite` (the `Suite`). Public names are re-exported here.
"""

from __future__ import annotations

from bench.suites.synthetic._questions import GENERATORS, Question, Views
from bench.suites.synthetic._suite import DEFAULT_N, SyntheticSuite, draw_sample, make_suite, png_bytes
from bench.suites.synthetic._surface import closest_distance
from synthscene.camera import Camera, Rig, intrinsics
from synthscene.render import CEILING_ID, FLOOR_ID, WALL_ID, Frame, render
from synthscene.scene import CATEGORIES, COLOURS, Scene, SceneObject, generate_scene
from synthscene.world import TASKS, World, WorldKey, build_world, parse_key

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
