"""The `sam3` backend: SAM 3 promptable concept segmentation through transformers' `Sam3Model`, and
video propagation through `Sam3VideoModel` when the checkpoint holds the tracker too.

Weights: `perception.weights.sam3` names a local folder holding a transformers SAM 3 checkpoint
(`config.json`, `model.safetensors`) and its CLIP tokenizer files (`vocab.json`, `merges.txt`); nothing
is downloaded. A `sam3_video` checkpoint (the published `facebook/sam3` one) serves both paths from one
copy of the weights (the image model is its detector); a `sam3` (image-only) checkpoint serves the image
path alone.

Single-frame requests (and every request when the checkpoint has no tracker) run the image model: a
server batch is flattened into frames and run in chunks of images; text prompts share one forward pass per
chunk, box prompts (and points, turned into small boxes around each click, as SAM 3's image model takes no
points) run per frame and need torchvision's `roi_align`; instances are linked into tracks across frames by
mask overlap. A multi-frame request with a video checkpoint is run through the video model, frames in
request order, one request after another: a text prompt is detected on every frame and tracked by SAM 3's
memory (object ids from the tracker); point or box prompts on the first frame are propagated by the tracker
alone (each box one object, all clicks together one object, id 0 for the clicks and k for box k).
This module holds the models and their calls; turning requests into model inputs and model outputs into
responses is `_sam3_io`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from transformers import CLIPTokenizer
from transformers.models.sam3.modeling_sam3 import Sam3Model
from transformers.models.sam3_tracker_video.modeling_sam3_tracker_video import (
    Sam3TrackerVideoInferenceSession,
)
from transformers.models.sam3_video.modeling_sam3_video import Sam3VideoInferenceSession, Sam3VideoModel

from claw.config import PerceptionConfig
from claw.errors import ConfigError, PerceptionError
from claw.wire.perception import (
    ReconstructRequest,
    ReconstructResponse,
    SegmentRequest,
    SegmentResponse,
)
from servers.perception._backends._common import ModelRunner, weights_path
from servers.perception._backends._sam3_io import (
    VISUAL_PROMPT,
    Found,
    Job,
    Tracked,
    box_inputs,
    frame_objects,
    image_instances,
    image_response,
    in_chunks,
    request_jobs,
    tracked_response,
    tracker_clicks,
)

__all__ = ["Sam3Backend", "backend_class"]

_HINT = "a transformers SAM 3 checkpoint (config.json, model.safetensors, vocab.json, merges.txt)"
_MAX_TEXT_TOKENS = 32
_VIDEO_TYPE = "sam3_video"
_FILES = ("config.json", "vocab.json", "merges.txt")
_WEIGHTS = ("model.safetensors", "model.safetensors.index.json")


class Sam3Backend:
    """SAM 3 instance segmentation; see the module docstring."""

    name = "sam3"

    def __init__(self, config: PerceptionConfig, *, chunk: int = 16) -> None:
        path = weights_path(config, "sam3", hint=_HINT)
        self._device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self._model, self._video, self._tokenizer = _load(path, self._device)
        vision: Any = self._model.config.vision_config
        self._size = int(vision.backbone_config.image_size)
        self._chunk = max(1, chunk)
        self._runner = ModelRunner("sam3")

    def __repr__(self) -> str:
        video = self._video is not None
        return f"<Sam3Backend device={self._device} image_size={self._size} video={video}>"

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
        videos = [self._video is not None and len(request.images) > 1 for request in batch]
        images = [request for request, video in zip(batch, videos, strict=True) if not video]
        found = self._detect_all([job for request in images for job in request_jobs(request)])
        responses, start = [], 0
        for request, video in zip(batch, videos, strict=True):
            if video:
                responses.append(self._track(request))
                continue
            n = len(request.images)
            responses.append(image_response(found[start : start + n]))
            start += n
        return responses

    def _track(self, request: SegmentRequest) -> SegmentResponse:
        frames = [np.array(wire.to_numpy(), dtype=np.uint8) for wire in request.images]
        if request.boxes is not None or request.points is not None:
            tracked = self._track_clicks(request, frames)
        else:
            tracked = self._track_text(request, frames)
        return tracked_response(tracked)

    @torch.inference_mode()
    def _track_text(self, request: SegmentRequest, frames: list[npt.NDArray[np.uint8]]) -> list[Tracked]:
        video: Any = self._video
        session = Sam3VideoInferenceSession(**self._session_args(frames))
        prompt = session.add_prompt(request.text or VISUAL_PROMPT)
        tokens = self._tokens([request.text or VISUAL_PROMPT])
        session.prompt_input_ids[prompt] = tokens["input_ids"]
        session.prompt_attention_masks[prompt] = tokens["attention_mask"]
        video.score_threshold_detection = request.threshold  # the request's cut, not the checkpoint's
        tracked: dict[int, Tracked] = {}
        for out in video.propagate_in_video_iterator(session):
            hidden = set(out.suppressed_obj_ids or ()) | set(session.hotstart_removed_obj_ids)
            masks = {i: m for i, m in out.obj_id_to_mask.items() if i not in hidden}
            frame = frames[out.frame_idx]
            tracked[out.frame_idx] = frame_objects(masks, out.obj_id_to_score, frame, request.threshold)
        return [tracked[i] for i in range(len(frames))]

    @torch.inference_mode()
    def _track_clicks(self, request: SegmentRequest, frames: list[npt.NDArray[np.uint8]]) -> list[Tracked]:
        video: Any = self._video
        session = Sam3TrackerVideoInferenceSession(**self._session_args(frames))
        for obj_id, (coords, labels) in enumerate(tracker_clicks(request, frames[0].shape[:2], self._size)):
            obj_idx = session.obj_id_to_idx(obj_id)
            session.add_point_inputs(obj_idx, 0, {"point_coords": coords, "point_labels": labels})
        session.obj_with_new_inputs = list(session.obj_ids)
        tracked = []
        for index, frame in enumerate(frames):
            embeds = video.detector_model.get_vision_features(pixel_values=session.get_frame(index)[None])
            feats, positions = video.get_vision_features_for_tracker(vision_embeds=embeds)
            session.cache.cache_vision_features(
                index, {"vision_feats": feats, "vision_pos_embeds": positions}
            )
            out = video.tracker_model(inference_session=session, frame_idx=index)
            masks = {obj_id: out.pred_masks[k] for k, obj_id in enumerate(out.object_ids)}
            logits = out.object_score_logits.float().reshape(-1).sigmoid().tolist()
            scores = dict(zip(out.object_ids, logits, strict=True))
            tracked.append(frame_objects(masks, scores, frame, request.threshold))
        return tracked

    def _session_args(self, frames: list[npt.NDArray[np.uint8]]) -> dict[str, Any]:
        h, w = frames[0].shape[:2]
        device, dtype = self._device, self._model.dtype
        pixels = torch.stack([self._pixels(frame) for frame in frames])
        return {
            "video": pixels,
            "video_height": h,
            "video_width": w,
            "inference_device": device,
            "inference_state_device": device,
            "video_storage_device": device,
            "dtype": dtype,
        }

    def _tokens(self, texts: list[str]) -> dict[str, torch.Tensor]:
        tokens = self._tokenizer(
            texts, padding="max_length", max_length=_MAX_TEXT_TOKENS, truncation=True, return_tensors="pt"
        )
        return {key: tokens[key].to(self._device) for key in ("input_ids", "attention_mask")}

    def _detect_all(self, jobs: list[Job]) -> list[Found]:
        found: dict[int, Found] = {}
        text_jobs = [(i, job) for i, job in enumerate(jobs) if job.boxes is None]
        for chunk in in_chunks(text_jobs, self._chunk):
            found.update(zip([i for i, _ in chunk], self._forward([job for _, job in chunk]), strict=True))
        for i, job in enumerate(jobs):
            if job.boxes is not None:
                found[i] = self._forward([job])[0]
        return [found[i] for i in range(len(jobs))]

    @torch.inference_mode()
    def _forward(self, jobs: list[Job]) -> list[Found]:
        inputs: dict[str, Any] = {
            "pixel_values": torch.stack([self._pixels(job.image) for job in jobs]),
            **self._tokens([job.text for job in jobs]),
        }
        if jobs[0].boxes is not None:
            inputs.update(box_inputs(jobs[0], self._device, self._model.dtype))
        outputs = self._model(**inputs)
        return [image_instances(outputs, k, job) for k, job in enumerate(jobs)]

    def _pixels(self, image: npt.NDArray[np.uint8]) -> torch.Tensor:
        # Resize and normalise on the model's device: on CPU (PIL) this cost more than the forward pass.
        pixels = torch.from_numpy(image).to(self._device).permute(2, 0, 1)[None].float() / 255.0
        resized = torch.nn.functional.interpolate(
            pixels, size=(self._size, self._size), mode="bilinear", align_corners=False
        )
        return ((resized[0] - 0.5) / 0.5).to(self._model.dtype)


def _load(path: Path, device: torch.device) -> tuple[Sam3Model, Sam3VideoModel | None, CLIPTokenizer]:
    """The image model, the video model (None for an image-only checkpoint) and the tokenizer."""
    is_video = _model_type(path) == _VIDEO_TYPE
    try:
        cls: Any = Sam3VideoModel if is_video else Sam3Model
        model = cls.from_pretrained(str(path), local_files_only=True)
        tokenizer = CLIPTokenizer.from_pretrained(str(path), local_files_only=True)
    except (OSError, ValueError) as exc:
        raise _load_error(path, str(exc)) from None
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    loaded: Any = model.to(device=device, dtype=dtype).eval()
    if is_video:
        return loaded.detector_model, loaded, tokenizer
    return loaded, None, tokenizer


def _model_type(path: Path) -> str | None:
    missing = [name for name in _FILES if not (path / name).is_file()]
    if not any((path / name).is_file() for name in _WEIGHTS):
        missing.append(_WEIGHTS[0])
    if missing:
        raise _load_error(path, f"missing {', '.join(missing)}")
    try:
        model_type = json.loads((path / "config.json").read_text()).get("model_type")
    except (OSError, ValueError, AttributeError) as exc:
        raise _load_error(path, f"config.json is unreadable: {exc}") from None
    return model_type if isinstance(model_type, str) else None


def _load_error(path: Path, why: str) -> ConfigError:
    return ConfigError(
        f"perception.weights.sam3 = {str(path)!r}: cannot load SAM 3 from it ({why}); it must hold {_HINT}",
        field="perception.weights.sam3",
    )


backend_class = Sam3Backend
