"""The `da3` backend: Depth Anything 3 (the `depth-anything-3` package's network) for depth, confidence,
intrinsics and camera poses of a set of views, returned in claw's world frame.

Weights: `perception.weights.da3` names a local folder as Depth Anything 3 publishes it (`config.json`
naming the preset, e.g. `{"model_name": "da3nested-giant-large"}`, and `model.safetensors`); nothing is
downloaded. Frames are resized to a multiple of the 14-pixel patch (long side `process_res`) and
normalised with ImageNet statistics; requests in one server batch with the same frame count and size
run as one (B, N, 3, H, W) forward pass, but every request keeps its own metric scale: a nested
checkpoint's alignment of the any-view depth to the metric branch is done per request (the package's
forward would fit one scale to the whole batch, coupling unrelated episodes). Depth is metric only with
a metric or nested checkpoint.
Confidence is mapped to 0..1 as 1 - 1/conf (DA3's confidence is >= 1). World frame (see `claw_world`):
+Y up along the normal of the floor plane found in the points, camera 0 looking along -Z, floor at Y = 0;
with no floor in view, camera 0's frame assumed level, ground at Y = 0.
"""

from __future__ import annotations

import json
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from claw.config import PerceptionConfig
from claw.errors import ConfigError, PerceptionError
from claw.wire.perception import ReconstructRequest, ReconstructResponse, SegmentRequest, SegmentResponse
from servers.perception._backends._common import ModelRunner, claw_world, weights_path

with warnings.catch_warnings():
    # depth_anything_3 registers an omegaconf resolver and scripts helpers with calls that omegaconf and
    # torch now deprecate; the warnings are theirs, not ours to act on.
    warnings.simplefilter("ignore", UserWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    import depth_anything_3.model.da3  # noqa: F401
    from depth_anything_3.cfg import create_object, load_config
    from depth_anything_3.registry import MODEL_REGISTRY

__all__ = ["Da3Backend", "backend_class"]

_HINT = "a Depth Anything 3 checkpoint (config.json with model_name, model.safetensors)"
_PATCH = 14
_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
_ALIGN_SEED = 0


class Da3Backend:
    """Depth Anything 3 multi-view reconstruction; see the module docstring."""

    name = "da3"

    def __init__(self, config: PerceptionConfig, *, process_res: int = 504) -> None:
        path = weights_path(config, "da3", hint=_HINT)
        self._device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        self._net = _load(path).to(self._device).eval()
        self._process_res = process_res
        self._mean = torch.tensor(_MEAN, device=self._device).view(1, 3, 1, 1)
        self._std = torch.tensor(_STD, device=self._device).view(1, 3, 1, 1)
        self._runner = ModelRunner("da3")

    def __repr__(self) -> str:
        return f"<Da3Backend device={self._device} process_res={self._process_res}>"

    async def reconstruct(self, batch: list[ReconstructRequest]) -> list[ReconstructResponse]:
        """Reconstruct every request; same-shaped requests share one forward pass."""
        return await self._runner.run(lambda: self._reconstruct_batch(batch))

    async def segment(self, batch: list[SegmentRequest]) -> list[SegmentResponse]:
        """Not served by this backend.

        Raises:
            PerceptionError: always; run `sam3` (or `synthetic`) for segmentation.
        """
        raise PerceptionError("the da3 backend only reconstructs; serve /v1/segment with sam3 or synthetic")

    def _reconstruct_batch(self, batch: list[ReconstructRequest]) -> list[ReconstructResponse]:
        groups: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for i, request in enumerate(batch):
            groups[(len(request.images), *request.images[0].shape[:2])].append(i)
        out: dict[int, ReconstructResponse] = {}
        for members in groups.values():
            out.update(zip(members, self._forward([batch[i] for i in members]), strict=True))
        return [out[i] for i in range(len(batch))]

    @torch.inference_mode()
    def _forward(self, requests: list[ReconstructRequest]) -> list[ReconstructResponse]:
        h, w = requests[0].images[0].shape[:2]
        size = _model_size(h, w, self._process_res)
        pixels = torch.stack([self._pixels(request, size) for request in requests])
        on_gpu = self._device.type == "cuda"
        with torch.autocast(device_type=self._device.type, dtype=torch.bfloat16, enabled=on_gpu):
            outputs = self._per_request(pixels)
        return [_response(output, (h, w)) for output in outputs]

    def _per_request(self, pixels: torch.Tensor) -> list[Any]:
        """One output per request (batch dim 1 each). The networks run batched; a nested checkpoint's
        metric alignment (one least-squares scale, confidence median, sky depth) runs per request, as
        the package's own forward computes them over the whole batch and would give every scene in a
        batch one shared metric scale."""
        net: Any = self._net
        if not _is_nested(net):
            output = net(pixels)
            return [_item(output, b, len(pixels)) for b in range(len(pixels))]
        anyview, metric = net.da3(pixels), net.da3_metric(pixels)
        out = []
        for b in range(len(pixels)):
            one, one_metric = _item(anyview, b, len(pixels)), _item(metric, b, len(pixels))
            # the sky handling samples pixels at random: seeded per request, so an answer is repeatable
            with torch.random.fork_rng(devices=self._rng_devices()):
                torch.manual_seed(_ALIGN_SEED)
                one = net._apply_metric_scaling(one, one_metric)
                one = net._apply_depth_alignment(one, one_metric)
                out.append(net._handle_sky_regions(one, one_metric))
        return out

    def _rng_devices(self) -> list[int]:
        if self._device.type != "cuda":
            return []
        return [self._device.index if self._device.index is not None else torch.cuda.current_device()]

    def _pixels(self, request: ReconstructRequest, size: tuple[int, int]) -> torch.Tensor:
        # Resize and normalise on the model's device: on CPU (PIL) this cost more than the forward pass.
        frames = np.stack([np.asarray(img.to_numpy(), dtype=np.uint8) for img in request.images])
        pixels = torch.from_numpy(frames).to(self._device).permute(0, 3, 1, 2).float() / 255.0
        resized = torch.nn.functional.interpolate(pixels, size=size, mode="bicubic", align_corners=False)
        return (resized - self._mean) / self._std


def _load(path: Path) -> torch.nn.Module:
    model_name = _model_name(path)
    try:
        from safetensors.torch import load_model

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            net: torch.nn.Module = create_object(load_config(MODEL_REGISTRY[model_name]))
        holder = torch.nn.Module()  # checkpoints are saved from a wrapper holding the net as `model`
        holder.model = net
        load_model(holder, str(path / "model.safetensors"))
    except (OSError, RuntimeError, KeyError) as exc:
        raise ConfigError(
            f"perception.weights.da3 = {str(path)!r}: cannot load Depth Anything 3 ({exc}); "
            f"it must hold {_HINT}",
            field="perception.weights.da3",
        ) from None
    return net


def _model_name(path: Path) -> str:
    try:
        name = str(json.loads((path / "config.json").read_text(encoding="utf-8")).get("model_name", ""))
    except (OSError, ValueError, AttributeError):
        name = ""
    if name not in MODEL_REGISTRY:
        known = ", ".join(MODEL_REGISTRY)
        raise ConfigError(
            f"perception.weights.da3 = {str(path)!r}: config.json must name one of {known} as model_name",
            field="perception.weights.da3",
        )
    return name


def _model_size(h: int, w: int, process_res: int) -> tuple[int, int]:
    """(height, width) with the long side ~process_res, both multiples of the patch size."""
    scale = process_res / max(h, w)
    return (max(_PATCH, round(h * scale / _PATCH) * _PATCH), max(_PATCH, round(w * scale / _PATCH) * _PATCH))


def _is_nested(net: Any) -> bool:
    return hasattr(net, "da3") and hasattr(net, "da3_metric")


def _item(output: Any, b: int, batch: int) -> Any:
    """Request `b`'s slice (batch dim kept, size 1) of a batched output mapping; other values as is."""
    one = type(output)()
    for key, value in output.items():
        is_batched = isinstance(value, torch.Tensor) and value.dim() > 0 and value.shape[0] == batch
        one[key] = value[b : b + 1] if is_batched else value
    return one


def _response(output: Any, size: tuple[int, int]) -> ReconstructResponse:
    def grab(key: str) -> npt.NDArray[Any]:
        return np.asarray(output[key][0].float().cpu().numpy())

    conf = grab("depth_conf") if "depth_conf" in output else np.ones_like(grab("depth")) * 2.0
    return claw_world(
        depth=grab("depth").astype(np.float32),
        confidence=np.clip(1.0 - 1.0 / np.maximum(conf, 1.0), 0.0, 1.0).astype(np.float32),
        intrinsics=grab("intrinsics").astype(np.float64),
        w2c=grab("extrinsics").astype(np.float64),
        size=size,
    )


backend_class = Da3Backend
