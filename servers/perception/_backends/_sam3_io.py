"""SAM 3's inputs and outputs, without the models: a segment request as per-frame jobs (text, or box
prompts where points become small boxes around each click, as SAM 3's image model takes no points) and
as the video tracker's point inputs; the image model's outputs as thresholded instances, the tracker's
per-object masks as instances with their ids, and both as wire `SegmentResponse`s (image-model
instances linked into tracks by mask overlap)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from claw.errors import PerceptionError
from claw.wire.perception import NDArray, SegmentRequest, SegmentResponse
from servers.perception._backends._common import link_tracks

__all__ = [
    "Found",
    "Job",
    "Tracked",
    "box_inputs",
    "frame_objects",
    "image_instances",
    "image_response",
    "in_chunks",
    "request_jobs",
    "tracked_response",
    "tracker_clicks",
]

VISUAL_PROMPT = "visual"
"""The text the model gets with a box or point prompt and no words."""
_POINT_BOX_FRACTION = 0.05
_BOX_LABELS = (2, 3)
"""The tracker's point labels for a box's top-left and bottom-right corners."""


@dataclass(frozen=True)
class Job:
    """One frame of one request, with its prompt."""

    image: npt.NDArray[np.uint8]
    text: str
    boxes: npt.NDArray[np.float64] | None
    """(B, 4) pixel xyxy box prompts, or None for a text prompt."""
    threshold: float


@dataclass(frozen=True)
class Found:
    """One frame's instances: masks at the frame's size, scores, pixel xyxy boxes; best first."""

    masks: npt.NDArray[np.bool_]
    scores: npt.NDArray[np.float32]
    boxes: npt.NDArray[np.float32]


@dataclass(frozen=True)
class Tracked:
    """One frame's instances from the video model, with the tracker's object ids."""

    found: Found
    ids: list[int]


def request_jobs(request: SegmentRequest) -> Iterator[Job]:
    boxes = _prompt_boxes(request)
    text = request.text if request.text is not None else VISUAL_PROMPT
    for wire in request.images:
        image = np.array(wire.to_numpy(), dtype=np.uint8)  # writable: torch refuses read-only buffers
        yield Job(image=image, text=text, boxes=boxes, threshold=request.threshold)


def _prompt_boxes(request: SegmentRequest) -> npt.NDArray[np.float64] | None:
    if request.boxes is not None:
        return np.asarray(request.boxes, dtype=np.float64).reshape(-1, 4)
    if request.points is None:
        return None
    h, w = request.images[0].shape[:2]
    labels = request.point_labels or [1] * len(request.points)
    clicks = [p for p, label in zip(request.points, labels, strict=False) if label == 1]
    if not clicks:
        raise PerceptionError("SAM 3 needs at least one foreground point (label 1)")
    rx, ry = _POINT_BOX_FRACTION * w, _POINT_BOX_FRACTION * h
    return np.array([[x - rx, y - ry, x + rx, y + ry] for x, y in clicks], dtype=np.float64)


def box_inputs(job: Job, device: torch.device, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    assert job.boxes is not None  # only called for box jobs
    h, w = job.image.shape[:2]
    x1, y1, x2, y2 = (np.clip(job.boxes[:, i] / s, 0.0, 1.0) for i, s in enumerate((w, h, w, h)))
    cxcywh = np.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], axis=1)
    return {
        # in the model's dtype: a bf16 model on a GPU rejects float32 box embeddings
        "input_boxes": torch.tensor(cxcywh[None], dtype=dtype, device=device),
        "input_boxes_labels": torch.ones((1, len(cxcywh)), dtype=torch.long, device=device),
    }


def image_instances(outputs: Any, k: int, job: Job) -> Found:
    scores = outputs.pred_logits[k].float().sigmoid()
    if outputs.presence_logits is not None:
        scores = scores * outputs.presence_logits[k].float().sigmoid()
    keep = torch.nonzero(scores >= job.threshold).flatten()
    keep = keep[torch.argsort(scores[keep], descending=True)]
    h, w = job.image.shape[:2]
    masks = outputs.pred_masks[k][keep].float()
    masks = _resize(masks, h, w) if len(keep) else torch.zeros((0, h, w))
    boxes = outputs.pred_boxes[k][keep].float() * torch.tensor([w, h, w, h], device=scores.device)
    return Found(
        masks=(masks.sigmoid() > 0.5).cpu().numpy(),
        scores=scores[keep].cpu().numpy().astype(np.float32),
        boxes=boxes.cpu().numpy().astype(np.float32).reshape(-1, 4),
    )


def _resize(masks: torch.Tensor, h: int, w: int) -> torch.Tensor:
    return torch.nn.functional.interpolate(masks[None], size=(h, w), mode="bilinear", align_corners=False)[0]


def image_response(frames: list[Found]) -> SegmentResponse:
    ids = link_tracks([f.masks for f in frames])
    return SegmentResponse(
        masks=[NDArray.from_numpy(f.masks) for f in frames],
        scores=[NDArray.from_numpy(f.scores) for f in frames],
        boxes=[NDArray.from_numpy(f.boxes) for f in frames],
        object_ids=ids,
    )


def tracker_clicks(
    request: SegmentRequest, size: tuple[int, ...], target: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """The tracker's point inputs, one (coords (1, 1, N, 2), labels (1, 1, N)) per object, in model pixels."""
    h, w = size
    scale = np.array([target / w, target / h])
    if request.boxes is not None:
        for box in np.asarray(request.boxes, dtype=np.float64).reshape(-1, 4):
            yield _click_tensors(box.reshape(2, 2) * scale, list(_BOX_LABELS))
        return
    points = np.asarray(request.points, dtype=np.float64).reshape(-1, 2)
    labels = request.point_labels or [1] * len(points)
    if len(labels) != len(points):
        raise PerceptionError(
            f"{len(points)} points but {len(labels)} point_labels; give one label per point"
        )
    if 1 not in labels:
        raise PerceptionError("SAM 3 needs at least one foreground point (label 1)")
    yield _click_tensors(points * scale, labels)


def _click_tensors(coords: npt.NDArray[np.float64], labels: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    return (
        torch.tensor(coords[None, None], dtype=torch.float32),
        torch.tensor([[labels]], dtype=torch.int32),
    )


def frame_objects(
    low_res: dict[int, torch.Tensor], scores: dict[int, float], frame: npt.NDArray[np.uint8], threshold: float
) -> Tracked:
    """Masks at the frame's size for objects scoring at least `threshold`, best first; empty ones dropped."""
    h, w = frame.shape[:2]
    ids = sorted((i for i in low_res if scores.get(i, 0.0) >= threshold), key=lambda i: -scores[i])
    masks = np.zeros((0, h, w), bool)
    if ids:
        stacked = torch.stack([low_res[i].float().reshape(low_res[i].shape[-2:]) for i in ids])
        masks = (_resize(stacked, h, w) > 0).cpu().numpy()
    present = np.asarray(masks.any(axis=(1, 2)), dtype=bool)
    ids = [i for i, keep in zip(ids, present.tolist(), strict=True) if keep]
    found = Found(
        masks=masks[present],
        scores=np.array([scores[i] for i in ids], dtype=np.float32),
        boxes=_mask_boxes(masks[present]),
    )
    return Tracked(found=found, ids=ids)


def _mask_boxes(masks: npt.NDArray[np.bool_]) -> npt.NDArray[np.float32]:
    """Pixel xyxy boxes around non-empty masks (right and bottom edges exclusive)."""
    boxes = np.zeros((len(masks), 4), np.float32)
    for k, mask in enumerate(masks):
        ys, xs = np.nonzero(mask)
        boxes[k] = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    return boxes


def tracked_response(frames: list[Tracked]) -> SegmentResponse:
    return SegmentResponse(
        masks=[NDArray.from_numpy(f.found.masks) for f in frames],
        scores=[NDArray.from_numpy(f.found.scores) for f in frames],
        boxes=[NDArray.from_numpy(f.found.boxes) for f in frames],
        object_ids=[f.ids for f in frames],
    )


def in_chunks(items: list[tuple[int, Job]], size: int) -> Iterator[list[tuple[int, Job]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
