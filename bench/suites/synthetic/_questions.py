"""Question generators: one per task type, each turning a world and its rendered views into a question
whose answer is computed from the exact geometry.

A generator returns None when its draw would make an ambiguous question (an object barely visible, two
distances within the margin a careful measurement can resolve); the suite then redraws the world. The
phrasing is fixed per task type so that answers are comparable across samples.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import msgspec
import numpy as np
import numpy.typing as npt

from bench.suites.synthetic._surface import closest_distance
from claw.suite import AnswerFormat
from synthscene.render import Frame
from synthscene.scene import SceneObject
from synthscene.world import World

__all__ = ["GENERATORS", "Question", "Views", "plural"]

F64 = npt.NDArray[np.float64]
MIN_PX = 150
"""Pixels an object needs in a frame to count as visible there."""


class Question(msgspec.Struct, frozen=True, kw_only=True):
    """A generated question and its exact answer."""

    text: str
    answer_format: AnswerFormat
    ground_truth: str
    options: tuple[str, ...] = ()


class Views:
    """Rendered frames of a world with per-object visible pixel counts."""

    def __init__(self, world: World, frames: Sequence[Frame]) -> None:
        self.world = world
        self.frames = list(frames)
        ids = np.stack([f.ids for f in frames])
        self.pixels = {o.id: (ids == o.id).sum(axis=(1, 2)) for o in world.scene.objects}
        self._coverage: dict[int, F64] = {}

    def frames_seen(self, obj: SceneObject, min_px: int = MIN_PX) -> int:
        """In how many frames `obj` covers at least `min_px` pixels."""
        return int((self.pixels[obj.id] >= min_px).sum())

    def seen(self, min_frames: int = 1, min_px: int = MIN_PX) -> list[SceneObject]:
        """Objects visible in at least `min_frames` frames."""
        return [o for o in self.world.scene.objects if self.frames_seen(o, min_px) >= min_frames]

    def coverage(self, obj: SceneObject) -> F64:
        """Extent of the visible part of `obj` over its true extent, per local axis (width, height, depth).

        Measuring questions ask only about objects whose measured sides the views actually show.
        """
        if obj.id not in self._coverage:
            clouds = [f.points()[f.ids == obj.id] for f in self.frames]
            cloud = np.concatenate(clouds).astype(np.float64)
            if len(cloud) == 0:
                self._coverage[obj.id] = np.zeros(3)
            else:
                c, s = math.cos(obj.yaw), math.sin(obj.yaw)
                rot = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
                local = (cloud - np.array(obj.center)) @ rot
                self._coverage[obj.id] = (local.max(axis=0) - local.min(axis=0)) / np.array(obj.extents)
        return self._coverage[obj.id]

    def measurable(self, min_coverage: float = 0.85, min_frames: int = 2) -> list[SceneObject]:
        """Objects seen in `min_frames` frames whose every side is at least `min_coverage` visible."""
        return [o for o in self.seen(min_frames) if self.coverage(o).min() >= min_coverage]


Generator = Callable[[Views, np.random.Generator], Question | None]


def plural(category: str) -> str:
    """English plural of a category name."""
    return category + "es" if category.endswith(("x", "s")) else category + "s"


def _pick(rng: np.random.Generator, items: Sequence[SceneObject], k: int) -> list[SceneObject]:
    chosen = rng.choice(len(items), size=k, replace=False)
    return [items[int(i)] for i in chosen]


def _mcq(text: str, correct: str, others: Sequence[str], rng: np.random.Generator) -> Question:
    options = [correct, *others]
    order = [int(i) for i in rng.permutation(len(options))]
    shuffled = tuple(options[i] for i in order)
    letter = chr(65 + shuffled.index(correct))
    return Question(text=text, answer_format="letter", ground_truth=letter, options=shuffled)


def _numeric(text: str, value: float) -> Question:
    return Question(text=text, answer_format="number", ground_truth=f"{value:.3f}")


def _centre_distance(a: SceneObject, b: SceneObject) -> float:
    return float(np.linalg.norm(np.subtract(a.center, b.center)))


# --------------------------------------------------------------------------------------- generators


def _pair_seen(views: Views, rng: np.random.Generator) -> tuple[SceneObject, SceneObject] | None:
    seen = views.measurable()
    if len(seen) < 2:
        return None
    a, b = _pick(rng, seen, 2)
    return a, b


def gen_abs_distance_closest(views: Views, rng: np.random.Generator) -> Question | None:
    """Closest-point distance between two objects, in metres."""
    pair = _pair_seen(views, rng)
    if pair is None:
        return None
    a, b = pair
    text = (
        f"What is the distance in metres between the {a.name} and the {b.name}, "
        "measured between their closest points?"
    )
    return _numeric(text, closest_distance(a, b))


def gen_abs_distance_centroid(views: Views, rng: np.random.Generator) -> Question | None:
    """Distance between two objects' bounding-box centres, in metres."""
    pair = _pair_seen(views, rng)
    if pair is None:
        return None
    a, b = pair
    text = f"What is the distance in metres between the centres of the {a.name} and the {b.name}?"
    return _numeric(text, _centre_distance(a, b))


def gen_object_size(views: Views, rng: np.random.Generator) -> Question | None:
    """Longest side of one object, in centimetres."""
    seen = views.measurable(min_coverage=0.95, min_frames=3)
    if not seen:
        return None
    (a,) = _pick(rng, seen, 1)
    return _numeric(f"How long is the longest side of the {a.name}, in centimetres?", 100 * a.longest_side)


def gen_object_count(views: Views, rng: np.random.Generator) -> Question | None:
    """How many objects of one category the room holds (every one of them visible somewhere)."""
    scene = views.world.scene
    seen_ids = {o.id for o in views.seen()}
    categories = sorted({o.category for o in scene.objects})
    fully_seen = [c for c in categories if all(o.id in seen_ids for o in scene.of_category(c))]
    if not fully_seen:
        return None
    weights = np.array([len(scene.of_category(c)) for c in fully_seen], dtype=np.float64)
    category = fully_seen[int(rng.choice(len(fully_seen), p=weights / weights.sum()))]
    text = f"How many {plural(category)} are there in the room?"
    return Question(text=text, answer_format="number", ground_truth=str(len(scene.of_category(category))))


def gen_relative_distance(views: Views, rng: np.random.Generator) -> Question | None:
    """Which of 3 candidates is closest (centre to centre) to a reference object."""
    seen = views.seen(min_frames=2)
    if len(seen) < 4:
        return None
    ref, *cands = _pick(rng, seen, 4)
    ranked = sorted(cands, key=lambda o: _centre_distance(ref, o))
    if _centre_distance(ref, ranked[1]) - _centre_distance(ref, ranked[0]) < 0.4:
        return None
    text = f"Which of these objects is closest to the {ref.name}, measured between object centres?"
    return _mcq(text, ranked[0].name, [o.name for o in ranked[1:]], rng)


def _signed_angle(facing: F64, target: F64) -> float:
    """Angle in degrees from `facing` to `target` in the floor plane; positive = to the right."""
    cross = facing[0] * target[1] - facing[1] * target[0]
    return math.degrees(math.atan2(cross, float(facing @ target)))


def _xz(obj: SceneObject) -> F64:
    return np.array([obj.center[0], obj.center[2]])


def gen_relative_direction_object(views: Views, rng: np.random.Generator) -> Question | None:
    """Left or right of an observer standing at one object and facing another."""
    seen = views.seen(min_frames=2)
    if len(seen) < 3:
        return None
    at, facing, target = _pick(rng, seen, 3)
    angle = _signed_angle(_xz(facing) - _xz(at), _xz(target) - _xz(at))
    if not 20 <= abs(angle) <= 160:
        return None
    text = (
        f"If I stand at the {at.name} facing the {facing.name}, "
        f"is the {target.name} to my left or to my right?"
    )
    side = "right" if angle > 0 else "left"
    return _mcq(text, side, ["left" if side == "right" else "right"], rng)


def gen_relative_direction_camera(views: Views, rng: np.random.Generator) -> Question | None:
    """Quadrant of an object relative to one camera of a multi-view set (it may be behind that camera)."""
    seen = views.seen(min_frames=1)
    if not seen:
        return None
    (target,) = _pick(rng, seen, 1)
    k = int(rng.integers(len(views.frames)))
    c2w = views.frames[k].c2w
    local = np.linalg.inv(c2w) @ np.array([*target.center, 1.0])
    if abs(local[0]) < 0.5 or abs(local[2]) < 0.5:
        return None
    answer = ("front" if local[2] > 0 else "back") + "-" + ("right" if local[0] > 0 else "left")
    others = [q for q in ("front-left", "front-right", "back-left", "back-right") if q != answer]
    text = (
        f"Relative to the camera that took image {k + 1} (its position and viewing direction), "
        f"where is the {target.name}?"
    )
    return _mcq(text, answer, others, rng)


def gen_depth_order(views: Views, rng: np.random.Generator) -> Question | None:
    """Which of 3 visible objects is nearest to the camera of a single image."""
    frame = views.frames[0]
    seen = views.seen(min_frames=1, min_px=300)
    if len(seen) < 3:
        return None
    cands = _pick(rng, seen, 3)
    depth = {o.id: float(np.median(frame.depth[frame.ids == o.id])) for o in cands}
    ranked = sorted(cands, key=lambda o: depth[o.id])
    if depth[ranked[1].id] - depth[ranked[0].id] < max(0.5, 0.15 * depth[ranked[0].id]):
        return None
    return _mcq(
        "Which of these objects is nearest to the camera?", ranked[0].name, [o.name for o in ranked[1:]], rng
    )


def gen_height_comparison(views: Views, rng: np.random.Generator) -> Question | None:
    """Yes/no: is one object's top higher than another's."""
    pair = _pair_seen(views, rng)
    if pair is None:
        return None
    a, b = pair
    if abs(a.top - b.top) < 0.15:
        return None
    text = f"Is the top of the {a.name} higher above the floor than the top of the {b.name}?"
    return Question(text=text, answer_format="yes_no", ground_truth="yes" if a.top > b.top else "no")


def gen_larger_object(views: Views, rng: np.random.Generator) -> Question | None:
    """Which of two objects has the longer longest side."""
    pair = _pair_seen(views, rng)
    if pair is None:
        return None
    a, b = sorted(pair, key=lambda o: -o.longest_side)
    if a.longest_side < 1.2 * b.longest_side:
        return None
    text = f"Which object is larger (by its longest side): the {pair[0].name} or the {pair[1].name}?"
    return _mcq(text, a.name, [b.name], rng)


def gen_room_size(views: Views, rng: np.random.Generator) -> Question | None:
    """Floor area of the room in square metres."""
    area = views.world.scene.room.floor_area
    return _numeric("What is the floor area of this room, in square metres?", area)


def gen_camera_motion(views: Views, rng: np.random.Generator) -> Question | None:
    """Main direction of the camera's translation between two images, in the first camera's frame."""
    first, second = (f.c2w for f in views.frames)
    move = first[:3, :3].T @ (second[:3, 3] - first[:3, 3])
    lateral, forward = float(move[0]), float(move[2])
    if max(abs(lateral), abs(forward)) < 0.4:
        return None
    if abs(lateral) > abs(forward):
        answer = "right" if lateral > 0 else "left"
    else:
        answer = "forward" if forward > 0 else "backward"
    others = [d for d in ("forward", "backward", "left", "right") if d != answer]
    text = (
        "Between image 1 and image 2, in which direction did the camera mainly move, relative to the "
        "direction it was facing in image 1?"
    )
    return _mcq(text, answer, others, rng)


def gen_camera_rotation(views: Views, rng: np.random.Generator) -> Question | None:
    """Whether the camera turned left or right between two images."""
    first, second = (f.c2w for f in views.frames)
    forward = first[:3, :3].T @ second[:3, 2]
    turn = math.degrees(math.atan2(float(forward[0]), float(forward[2])))
    if abs(turn) < 10:
        return None
    answer = "right" if turn > 0 else "left"
    text = "Between image 1 and image 2, did the camera turn to its left or to its right?"
    return _mcq(text, answer, ["left" if answer == "right" else "right"], rng)


def gen_appearance_order(views: Views, rng: np.random.Generator) -> Question | None:
    """Order in which 3 objects first appear in a video."""
    first: dict[int, int] = {}
    for obj in views.world.scene.objects:
        frames = np.flatnonzero(views.pixels[obj.id] >= MIN_PX)
        if frames.size and views.pixels[obj.id][0] == 0:
            first[obj.id] = int(frames[0])
    objs = [o for o in views.world.scene.objects if o.id in first]
    if len(objs) < 3:
        return None
    chosen = sorted(_pick(rng, objs, 3), key=lambda o: first[o.id])
    starts = [first[o.id] for o in chosen]
    if min(b - a for a, b in itertools.pairwise(starts)) < 2:
        return None
    names = [o.name for o in chosen]
    perms = [", ".join(p) for p in itertools.permutations(names)]
    others = [p for p in perms if p != ", ".join(names)]
    picks = [others[int(i)] for i in rng.choice(len(others), size=3, replace=False)]
    text = "In which order do these objects first appear in the video?"
    return _mcq(text, ", ".join(names), picks, rng)


GENERATORS: dict[str, Generator] = {
    "abs_distance_closest": gen_abs_distance_closest,
    "abs_distance_centroid": gen_abs_distance_centroid,
    "object_size": gen_object_size,
    "object_count": gen_object_count,
    "relative_distance": gen_relative_distance,
    "relative_direction_object": gen_relative_direction_object,
    "relative_direction_camera": gen_relative_direction_camera,
    "depth_order": gen_depth_order,
    "height_comparison": gen_height_comparison,
    "larger_object": gen_larger_object,
    "room_size": gen_room_size,
    "camera_motion": gen_camera_motion,
    "camera_rotation": gen_camera_rotation,
    "appearance_order": gen_appearance_order,
}
"""Task type -> generator; keys match `_world.TASKS`."""
