"""The `synthetic` perception backend: answers from the ground truth of the synthetic suite's scenes.

Every request names its scene key (`syn1-…`, from the sample's `metadata["scene"]`); the backend rebuilds
that world, renders the requested absolute frames at the request's image size (small LRU caches for
worlds and frames) and serves exact planar depth, world points, K and camera-to-world poses, and instance
masks for text prompts that name objects (`chair`, `red chair`, `chairs`, `floor`, `wall`), clicked
points or boxes. A frame the synthetic suite already rendered is not rendered again: its depth, ids and
camera are read from the file the suite left in `perception.truth_dir` (`synthscene.truth`); only frames
with no such file (another size, a frame the suite never showed, no folder given) are ray-cast.
With `noise = "realistic"` it perturbs answers the way real models err: a per-request depth scale
error and pixel noise, masks eroded or dilated by a pixel, scores below 1 and occasional missed
detections, all drawn from a generator seeded by the request itself, so the same request always gets the
same answer. Numpy work runs in a worker thread.
"""

from __future__ import annotations

import functools
import re
import zlib
from collections.abc import Iterable
from pathlib import Path

import anyio.to_thread
import msgspec
import numpy as np
import numpy.typing as npt
import structlog
from scipy import ndimage

from claw.config import PerceptionConfig
from claw.errors import ConfigError, PerceptionError, SuiteError
from claw.wire.perception import (
    NDArray,
    ReconstructRequest,
    ReconstructResponse,
    SegmentRequest,
    SegmentResponse,
)
from synthscene import (
    CATEGORIES,
    CEILING_ID,
    COLOURS,
    FLOOR_ID,
    WALL_ID,
    World,
    build_world,
    parse_key,
    render,
)
from synthscene.truth import FrameTruth, read_truth, truth_of

__all__ = ["NOISE_MODELS", "NoiseModel", "SyntheticBackend", "backend_class", "match_prompt"]


class NoiseModel(msgspec.Struct, frozen=True, kw_only=True):
    """How far answers stray from the ground truth."""

    depth_scale_sd: float = 0.0
    """Standard deviation of the per-request multiplicative depth scale error."""
    depth_pixel_sd: float = 0.0
    """Relative per-pixel depth noise."""
    mask_jitter: float = 0.0
    """Probability that a mask is eroded, and again that it is dilated, by one pixel."""
    miss_rate: float = 0.0
    """Probability that an instance is missed in one frame."""
    min_score: float = 1.0
    """Scores are uniform in [min_score, 1]."""


NOISE_MODELS: dict[str, NoiseModel] = {
    "none": NoiseModel(),
    "realistic": NoiseModel(
        depth_scale_sd=0.025, depth_pixel_sd=0.01, mask_jitter=0.3, miss_rate=0.05, min_score=0.5
    ),
}

_STRUCTURE = {"floor": FLOOR_ID, "ground": FLOOR_ID, "wall": WALL_ID, "ceiling": CEILING_ID}
_STOP = {"the", "a", "an", "all", "of", "object", "objects"}
_CACHE_WORLDS, _CACHE_FRAMES = 32, 512
_log = structlog.get_logger("servers.perception.synthetic")


def _singular(word: str) -> str:
    for suffix in ("es", "s"):
        if word.endswith(suffix) and word[: -len(suffix)] in (*CATEGORIES, *_STRUCTURE):
            return word[: -len(suffix)]
    return word


def match_prompt(world: World, text: str) -> list[int]:
    """Instance ids a text prompt names: a category (optionally with a colour) or a room surface.

    Unknown words are ignored; a prompt naming no known category or surface matches nothing.
    """
    words = [_singular(w) for w in re.findall(r"[a-z]+", text.lower()) if w not in _STOP]
    surfaces = [_STRUCTURE[w] for w in words if w in _STRUCTURE]
    if surfaces:
        return sorted(set(surfaces))
    categories = {w for w in words if w in CATEGORIES}
    colours = {w for w in words if w in COLOURS}
    return [
        o.id for o in world.scene.objects if o.category in categories and (not colours or o.colour in colours)
    ]


def _seed(*parts: object) -> int:
    return zlib.crc32(repr(parts).encode())


def _image_size(images: list[NDArray]) -> tuple[int, int]:
    if not images:
        raise PerceptionError("a perception request needs at least one image; it had none")
    height, width = images[0].shape[:2]
    return width, height


class SyntheticBackend:
    """Ground-truth depth, cameras and masks for synthetic scenes (see the module docstring)."""

    name = "synthetic"

    def __init__(self, config: PerceptionConfig) -> None:
        if config.noise not in NOISE_MODELS:
            known = ", ".join(NOISE_MODELS)
            raise ConfigError(
                f"unknown perception noise {config.noise!r}; choose one of: {known}", field="perception.noise"
            )
        self.config = config
        self.noise = NOISE_MODELS[config.noise]
        self._world = functools.lru_cache(maxsize=_CACHE_WORLDS)(self._build_world)
        self._truth_dir = Path(config.truth_dir) if config.truth_dir else None
        self._frame = functools.lru_cache(maxsize=_CACHE_FRAMES)(self._frame_truth)

    def __repr__(self) -> str:
        cached = self._frame.cache_info().currsize
        return f"<SyntheticBackend noise={self.config.noise!r} frames_cached={cached}>"

    async def reconstruct(self, batch: list[ReconstructRequest]) -> list[ReconstructResponse]:
        """Exact (or noisy) geometry for every request, in order.

        Raises:
            PerceptionError: a request names no synthetic scene or a frame the scene lacks.
        """
        return await anyio.to_thread.run_sync(lambda: [self._reconstruct_one(r) for r in batch])

    async def segment(self, batch: list[SegmentRequest]) -> list[SegmentResponse]:
        """Instance masks for every request, in order.

        Raises:
            PerceptionError: a request names no synthetic scene or a frame the scene lacks.
        """
        return await anyio.to_thread.run_sync(lambda: [self._segment_one(r) for r in batch])

    # ------------------------------------------------------------------------------------- rendering

    @staticmethod
    def _build_world(scene: str) -> World:
        return build_world(parse_key(scene))

    def _frame_truth(self, scene: str, frame_index: int, width: int, height: int) -> FrameTruth:
        parse_key(scene)  # a valid key before it names a file: it comes from the kernel
        kept = self._kept_truth(scene, frame_index, width, height)
        if kept is not None:
            return kept
        world = self._world(scene)
        return truth_of(render(world.scene, world.rig.camera(frame_index), width, height))

    def _kept_truth(self, scene: str, frame_index: int, width: int, height: int) -> FrameTruth | None:
        if self._truth_dir is None:
            return None
        try:
            return read_truth(self._truth_dir, scene, frame_index, width, height)
        except ValueError as exc:  # a damaged file costs a render, not the answer
            _log.warning("ground-truth file unreadable; rendering the frame instead", error=str(exc))
            return None

    def _frames(self, scene: str | None, indices: Iterable[int], size: tuple[int, int]) -> list[FrameTruth]:
        if scene is None:
            raise PerceptionError(
                "the synthetic backend needs the sample's scene key (`scene`) in every request"
            )
        try:
            return [self._frame(scene, fi, *size) for fi in indices]
        except SuiteError as exc:
            raise PerceptionError(exc.message) from None
        except KeyError as exc:
            raise PerceptionError(f"scene {scene}: {exc.args[0]}") from None

    # ----------------------------------------------------------------------------------- reconstruct

    def _reconstruct_one(self, request: ReconstructRequest) -> ReconstructResponse:
        frames = self._frames(request.scene, request.frame_indices, _image_size(request.images))
        depth = np.stack([f.depth for f in frames])
        rng = np.random.default_rng(_seed("reconstruct", request.scene, request.frame_indices))
        depth = self._noisy_depth(depth, rng)
        points = np.stack([_unproject(f, d) for f, d in zip(frames, depth, strict=True)])
        confidence = np.where(np.isfinite(depth), 1.0, 0.0).astype(np.float32)
        return ReconstructResponse(
            depth=NDArray.from_numpy(depth),
            points=NDArray.from_numpy(points),
            confidence=NDArray.from_numpy(confidence),
            intrinsics=NDArray.from_numpy(np.stack([f.K for f in frames])),
            extrinsics=NDArray.from_numpy(np.stack([f.c2w for f in frames])),
        )

    def _noisy_depth(
        self, depth: npt.NDArray[np.float32], rng: np.random.Generator
    ) -> npt.NDArray[np.float32]:
        if self.noise.depth_scale_sd == 0 and self.noise.depth_pixel_sd == 0:
            return depth
        scale = 1.0 + rng.normal(0.0, self.noise.depth_scale_sd)
        pixel = 1.0 + rng.normal(0.0, self.noise.depth_pixel_sd, size=depth.shape)
        return (depth * scale * pixel).astype(np.float32)

    # --------------------------------------------------------------------------------------- segment

    def _segment_one(self, request: SegmentRequest) -> SegmentResponse:
        frames = self._frames(request.scene, request.frame_indices, _image_size(request.images))
        ids = self._prompted_ids(request, frames[0])
        rng = np.random.default_rng(
            _seed(
                "segment", request.scene, request.frame_indices, request.text, request.points, request.boxes
            )
        )
        per_frame = [self._instances(frame, ids, rng, request.threshold) for frame in frames]
        return SegmentResponse(
            masks=[NDArray.from_numpy(m) for m, _, _, _ in per_frame],
            scores=[NDArray.from_numpy(s) for _, s, _, _ in per_frame],
            boxes=[NDArray.from_numpy(b) for _, _, b, _ in per_frame],
            object_ids=[k for _, _, _, k in per_frame],
        )

    def _prompted_ids(self, request: SegmentRequest, first: FrameTruth) -> list[int]:
        if request.text is not None and request.scene is not None:
            return match_prompt(self._world(request.scene), request.text)
        if request.points is not None:
            return _ids_at_points(first, request.points, request.point_labels)
        if request.boxes is not None:
            return _ids_in_boxes(first, request.boxes)
        raise PerceptionError("a segment request needs one prompt: text, points or boxes")

    def _instances(
        self, frame: FrameTruth, ids: list[int], rng: np.random.Generator, threshold: float
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.float32], npt.NDArray[np.float32], list[int]]:
        masks, scores, kept = [], [], []
        for ident in ids:
            mask = self._noisy_mask(frame.ids == ident, rng)
            score = float(rng.uniform(self.noise.min_score, 1.0)) if self.noise.min_score < 1 else 1.0
            if mask.any() and score >= threshold:
                masks.append(mask)
                scores.append(score)
                kept.append(ident)
        h, w = frame.ids.shape
        stack = np.stack(masks) if masks else np.zeros((0, h, w), dtype=bool)
        boxes = np.array([_bbox(m) for m in masks], dtype=np.float32).reshape(-1, 4)
        return stack, np.array(scores, dtype=np.float32), boxes, kept

    def _noisy_mask(self, mask: npt.NDArray[np.bool_], rng: np.random.Generator) -> npt.NDArray[np.bool_]:
        noise = self.noise
        if noise.miss_rate and rng.uniform() < noise.miss_rate:
            return np.zeros_like(mask)
        if noise.mask_jitter and rng.uniform() < noise.mask_jitter:
            mask = ndimage.binary_erosion(mask)
        elif noise.mask_jitter and rng.uniform() < noise.mask_jitter:
            mask = ndimage.binary_dilation(mask)
        return np.asarray(mask, dtype=bool)


def _unproject(frame: FrameTruth, depth: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    h, w = depth.shape
    u = (np.arange(w) + 0.5 - frame.K[0, 2]) / frame.K[0, 0]
    v = (np.arange(h) + 0.5 - frame.K[1, 2]) / frame.K[1, 1]
    uu, vv = np.meshgrid(u, v)
    rays = np.stack([uu, vv, np.ones_like(uu)], axis=-1)
    world = (rays @ frame.c2w[:3, :3].T) * depth[..., None] + frame.c2w[:3, 3]
    return world.astype(np.float32)


def _bbox(mask: npt.NDArray[np.bool_]) -> list[float]:
    ys, xs = np.nonzero(mask)
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


def _ids_at_points(frame: FrameTruth, points: list[list[float]], labels: list[int] | None) -> list[int]:
    h, w = frame.ids.shape
    chosen: list[int] = []
    for i, (x, y) in enumerate(points):
        positive = labels is None or i >= len(labels) or labels[i] == 1
        ident = int(frame.ids[min(max(int(y), 0), h - 1), min(max(int(x), 0), w - 1)])
        if positive and ident not in chosen:
            chosen.append(ident)
    return chosen


def _ids_in_boxes(frame: FrameTruth, boxes: list[list[float]]) -> list[int]:
    chosen: list[int] = []
    for x1, y1, x2, y2 in boxes:
        inside = frame.ids[max(int(y1), 0) : max(int(y2), 0), max(int(x1), 0) : max(int(x2), 0)]
        values, counts = np.unique(inside[inside < FLOOR_ID], return_counts=True)
        if values.size and int(values[counts.argmax()]) not in chosen:
            chosen.append(int(values[counts.argmax()]))
    return chosen


backend_class = SyntheticBackend
