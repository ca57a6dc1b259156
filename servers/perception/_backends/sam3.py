"""The `sam3` backend: SAM 3 promptable concept segmentation through transformers' `Sam3Model`.

Weights: `perception.weights.sam3` names a local folder holding a transformers SAM 3 checkpoint
(`config.json`, `model.safetensors`) and its CLIP tokenizer files (`vocab.json`, `merges.txt`); nothing
is downloaded. A server batch is flattened into frames and run in chunks of images; text prompts share one
forward pass per chunk, box prompts (and points, turned into small boxes around each click, as SAM 3's
image model takes no points) run per frame and need torchvision's `roi_align`. Instances are linked into
tracks across the frames of one request by mask overlap (`object_ids`); SAM 3's memory-based video
propagation is not wired here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from transformers import CLIPTokenizer
from transformers.models.sam3.modeling_sam3 import Sam3Model

from claw.config import PerceptionConfig
from claw.errors import ConfigError, PerceptionError
from claw.perception_wire import (
    NDArray,
    ReconstructRequest,
    ReconstructResponse,
    SegmentRequest,
    SegmentResponse,
)
from servers.perception._backends._common import ModelRunner, link_tracks, weights_path

__all__ = ["Sam3Backend", "backend_class"]

_HINT = "a transformers SAM 3 checkpoint (config.json, model.safetensors, vocab.json, merges.txt)"
_POINT_BOX_FRACTION = 0.05
_VISUAL_PROMPT = "visual"
_MAX_TEXT_TOKENS = 32


@dataclass(frozen=True)
class _Job:
    """One frame of one request, with its prompt."""

    image: npt.NDArray[np.uint8]
    text: str
    boxes: npt.NDArray[np.float64] | None
    """(B, 4) pixel xyxy box prompts, or None for a text prompt."""
    threshold: float


@dataclass(frozen=True)
class _Found:
    masks: npt.NDArray[np.bool_]
    scores: npt.NDArray[np.float32]
    boxes: npt.NDArray[np.float32]


class Sam3Backend:
    """SAM 3 instance segmentation; see the module docstring."""

    name = "sam3"

    def __init__(self, config: PerceptionConfig, *, chunk: int = 16) -> None:
        path = weights_path(config, "sam3", hint=_HINT)
        self._device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self._model, self._tokenizer = _load(path, self._device)
        vision: Any = self._model.config.vision_config
        self._size = int(vision.backbone_config.image_size)
        self._chunk = max(1, chunk)
        self._runner = ModelRunner("sam3")

    def __repr__(self) -> str:
        return f"<Sam3Backend device={self._device} image_size={self._size}>"

    async def reconstruct(self, batch: list[ReconstructRequest]) -> list[ReconstructResponse]:
        """Not served by this backend.

        Raises:
            PerceptionError: always; run `da3` (or `synthetic`) for reconstruction.
        """
        raise PerceptionError("the sam3 backend only segments; serve /v1/reconstruct with da3 or synthetic")

    async def segment(self, batch: list[SegmentRequest]) -> list[SegmentResponse]:
        """Segment every frame of every request; instances linked into tracks per request."""
        return await self._runner.run(lambda: self._segment_batch(batch))

    def _segment_batch(self, batch: list[SegmentRequest]) -> list[SegmentResponse]:
        jobs = [job for request in batch for job in _jobs(request)]
        found = self._detect_all(jobs)
        responses, start = [], 0
        for request in batch:
            n = len(request.images)
            responses.append(_response(found[start : start + n]))
            start += n
        return responses

    def _detect_all(self, jobs: list[_Job]) -> list[_Found]:
        found: dict[int, _Found] = {}
        text_jobs = [(i, job) for i, job in enumerate(jobs) if job.boxes is None]
        for chunk in _chunks(text_jobs, self._chunk):
            found.update(zip([i for i, _ in chunk], self._forward([job for _, job in chunk]), strict=True))
        for i, job in enumerate(jobs):
            if job.boxes is not None:
                found[i] = self._forward([job])[0]
        return [found[i] for i in range(len(jobs))]

    @torch.inference_mode()
    def _forward(self, jobs: list[_Job]) -> list[_Found]:
        tokens = self._tokenizer(
            [job.text for job in jobs],
            padding="max_length",
            max_length=_MAX_TEXT_TOKENS,
            truncation=True,
            return_tensors="pt",
        )
        inputs: dict[str, Any] = {
            "pixel_values": torch.stack([self._pixels(job.image) for job in jobs]),
            "input_ids": tokens["input_ids"].to(self._device),
            "attention_mask": tokens["attention_mask"].to(self._device),
        }
        if jobs[0].boxes is not None:
            inputs.update(_box_inputs(jobs[0], self._device, self._model.dtype))
        outputs = self._model(**inputs)
        return [_instances(outputs, k, job) for k, job in enumerate(jobs)]

    def _pixels(self, image: npt.NDArray[np.uint8]) -> torch.Tensor:
        # Resize and normalise on the model's device: on CPU (PIL) this cost more than the forward pass.
        pixels = torch.from_numpy(image).to(self._device).permute(2, 0, 1)[None].float() / 255.0
        resized = torch.nn.functional.interpolate(
            pixels, size=(self._size, self._size), mode="bilinear", align_corners=False
        )
        return ((resized[0] - 0.5) / 0.5).to(self._model.dtype)


def _load(path: Path, device: torch.device) -> tuple[Sam3Model, CLIPTokenizer]:
    try:
        model = Sam3Model.from_pretrained(str(path), local_files_only=True)
        tokenizer = CLIPTokenizer.from_pretrained(str(path), local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"perception.weights.sam3 = {str(path)!r}: cannot load SAM 3 from it ({exc}); "
            f"it must hold {_HINT}",
            field="perception.weights.sam3",
        ) from None
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    loaded: Any = model
    return loaded.to(device=device, dtype=dtype).eval(), tokenizer


def _jobs(request: SegmentRequest) -> Iterator[_Job]:
    boxes = _prompt_boxes(request)
    text = request.text if request.text is not None else _VISUAL_PROMPT
    for wire in request.images:
        image = np.array(wire.to_numpy(), dtype=np.uint8)  # writable: torch refuses read-only buffers
        yield _Job(image=image, text=text, boxes=boxes, threshold=request.threshold)


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


def _box_inputs(job: _Job, device: torch.device, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    assert job.boxes is not None  # only called for box jobs
    h, w = job.image.shape[:2]
    x1, y1, x2, y2 = (np.clip(job.boxes[:, i] / s, 0.0, 1.0) for i, s in enumerate((w, h, w, h)))
    cxcywh = np.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], axis=1)
    return {
        # in the model's dtype: a bf16 model on a GPU rejects float32 box embeddings
        "input_boxes": torch.tensor(cxcywh[None], dtype=dtype, device=device),
        "input_boxes_labels": torch.ones((1, len(cxcywh)), dtype=torch.long, device=device),
    }


def _instances(outputs: Any, k: int, job: _Job) -> _Found:
    scores = outputs.pred_logits[k].float().sigmoid()
    if outputs.presence_logits is not None:
        scores = scores * outputs.presence_logits[k].float().sigmoid()
    keep = torch.nonzero(scores >= job.threshold).flatten()
    keep = keep[torch.argsort(scores[keep], descending=True)]
    h, w = job.image.shape[:2]
    masks = outputs.pred_masks[k][keep].float()
    masks = _resize(masks, h, w) if len(keep) else torch.zeros((0, h, w))
    boxes = outputs.pred_boxes[k][keep].float() * torch.tensor([w, h, w, h], device=scores.device)
    return _Found(
        masks=(masks.sigmoid() > 0.5).cpu().numpy(),
        scores=scores[keep].cpu().numpy().astype(np.float32),
        boxes=boxes.cpu().numpy().astype(np.float32).reshape(-1, 4),
    )


def _resize(masks: torch.Tensor, h: int, w: int) -> torch.Tensor:
    return torch.nn.functional.interpolate(masks[None], size=(h, w), mode="bilinear", align_corners=False)[0]


def _response(frames: list[_Found]) -> SegmentResponse:
    ids = link_tracks([f.masks for f in frames])
    return SegmentResponse(
        masks=[NDArray.from_numpy(f.masks) for f in frames],
        scores=[NDArray.from_numpy(f.scores) for f in frames],
        boxes=[NDArray.from_numpy(f.boxes) for f in frames],
        object_ids=ids,
    )


def _chunks(items: list[tuple[int, _Job]], size: int) -> Iterator[list[tuple[int, _Job]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


backend_class = Sam3Backend
