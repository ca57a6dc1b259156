"""SAM 3 video propagation in the `sam3` backend, on CPU with a tiny randomly initialised `sam3_video`
checkpoint saved to a temporary folder: shapes, frame order, tracker ids and the routing between the video
and image paths (not accuracy). Skipped when torch/transformers are not installed."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest

from bench.perf.perception_batching import write_clip_vocab
from claw.config import PerceptionConfig
from claw.errors import ConfigError, PerceptionError
from claw.wire.perception import NDArray, SegmentRequest, SegmentResponse
from servers.perception._loader import load_backend

HAS_TORCH = all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers"))
pytestmark = pytest.mark.skipif(not HAS_TORCH, reason="the gpu extra (torch, transformers) is not installed")

_H = 128  # the tracker splits its 128-wide pointers into 64-wide memory tokens; 64 hits a transformers bug


def _tiny_sam3_video(folder: Path) -> None:
    import torch
    from transformers.models.sam3_video.configuration_sam3_video import Sam3VideoConfig
    from transformers.models.sam3_video.modeling_sam3_video import Sam3VideoModel

    small = {"hidden_size": _H, "intermediate_size": 128, "num_attention_heads": 2}
    backbone = {
        "model_type": "sam3_vit_model",
        **small,
        "num_hidden_layers": 2,
        "image_size": 56,
        "patch_size": 14,
        "window_size": 2,
        "global_attn_indexes": [1],
        "pretrain_image_size": 28,
    }
    vision = {
        "backbone_config": backbone,
        "fpn_hidden_size": _H,
        "backbone_feature_sizes": [[16, 16], [8, 8], [4, 4]],
    }
    text = {"model_type": "clip_text_model", **small, "num_hidden_layers": 1, "vocab_size": 60}
    text |= {
        "projection_dim": _H,
        "max_position_embeddings": 32,
        "bos_token_id": 0,
        "eos_token_id": 1,
        "pad_token_id": 1,
    }
    detector = {
        "vision_config": vision,
        "text_config": text,
        "geometry_encoder_config": {**small, "num_layers": 1},
        "detr_encoder_config": {**small, "num_layers": 1},
        "detr_decoder_config": {**small, "num_layers": 1, "num_queries": 6},
        "mask_decoder_config": {"hidden_size": _H, "num_attention_heads": 2},
    }
    tracker = {
        "vision_config": vision,
        "image_size": 56,
        "prompt_encoder_config": {"hidden_size": _H, "image_size": 56, "patch_size": 14},
        "mask_decoder_config": {
            "hidden_size": _H,
            "mlp_dim": 64,
            "num_attention_heads": 2,
            "iou_head_hidden_dim": _H,
        },
        "memory_attention_hidden_size": _H,
        "memory_attention_num_layers": 1,
        "memory_attention_feed_forward_hidden_size": 64,
        "memory_attention_rope_feat_sizes": [4, 4],
        "memory_encoder_hidden_size": _H,
        "mask_downsampler_embed_dim": _H,
        "memory_fuser_embed_dim": _H,
        "memory_fuser_intermediate_dim": 64,
    }
    config = Sam3VideoConfig(
        detector_config=detector,
        tracker_config=tracker,
        low_res_mask_size=16,
        new_det_thresh=0.0,
        hotstart_delay=0,
    )
    torch.manual_seed(0)
    Sam3VideoModel(config).save_pretrained(folder)
    write_clip_vocab(folder)


@pytest.fixture(scope="module")
def video_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sam3_video")
    _tiny_sam3_video(folder)
    return folder


@pytest.fixture(scope="module")
def backend(video_weights: Path) -> object:
    return load_backend(PerceptionConfig(backend="sam3", weights={"sam3": str(video_weights)}))


def _image(h: int, w: int, seed: int) -> NDArray:
    return NDArray.from_numpy(np.random.default_rng(seed).integers(0, 255, (h, w, 3), dtype=np.uint8))


def _video(n: int, **prompt: object) -> SegmentRequest:
    frames = [_image(30, 40, seed) for seed in range(n)]
    return SegmentRequest(images=frames, frame_indices=list(range(0, 4 * n, 4)), **prompt)  # type: ignore[arg-type]


def _check_frames(out: SegmentResponse, n: int, h: int, w: int) -> None:
    assert len(out.masks) == len(out.scores) == len(out.boxes) == len(out.object_ids) == n
    for masks, scores, boxes, ids in zip(out.masks, out.scores, out.boxes, out.object_ids, strict=True):
        k = len(ids)
        assert masks.shape == (k, h, w) and masks.to_numpy().dtype == np.bool_
        assert scores.shape == (k,) and boxes.shape == (k, 4)
        assert len(set(ids)) == k
        assert masks.to_numpy().any(axis=(1, 2)).all()  # the video path drops objects with empty masks
        s = np.asarray(scores.to_numpy(), dtype=np.float64)
        assert (np.diff(s) <= 0).all() and ((s >= 0) & (s <= 1)).all()


async def test_a_text_prompted_video_is_tracked_with_the_trackers_ids(backend: object) -> None:
    assert "video=True" in repr(backend)
    out = (await backend.segment([_video(3, text="chair", threshold=0.0)]))[0]  # type: ignore[attr-defined]
    _check_frames(out, 3, 30, 40)
    first = out.object_ids[0]
    assert first and min(first) == 0  # the tracker numbers its objects from 0 (IoU linking starts at 1)
    assert set(out.object_ids[2]) & set(first)  # tracked objects keep their id on later frames
    boxes, masks = out.boxes[0].to_numpy(), out.masks[0].to_numpy()
    ys, xs = np.nonzero(masks[0])
    np.testing.assert_array_equal(boxes[0], [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])


async def test_a_high_threshold_leaves_every_frame_empty(backend: object) -> None:
    out = (await backend.segment([_video(2, text="cup", threshold=1.0)]))[0]  # type: ignore[attr-defined]
    assert [m.shape for m in out.masks] == [(0, 30, 40)] * 2
    assert out.object_ids == [[], []]


async def test_box_prompts_on_the_first_frame_are_propagated(backend: object) -> None:
    boxes = [[2, 3, 20, 25], [22, 5, 38, 28]]
    out = (await backend.segment([_video(3, boxes=boxes, threshold=0.0)]))[0]  # type: ignore[attr-defined]
    _check_frames(out, 3, 30, 40)
    assert all(set(ids) <= {0, 1} for ids in out.object_ids)  # box k is object k on every frame
    assert any(out.object_ids)


async def test_point_prompts_make_one_object(backend: object) -> None:
    request = _video(2, points=[[10, 10], [30, 20]], point_labels=[1, 0], threshold=0.0)
    out = (await backend.segment([request]))[0]  # type: ignore[attr-defined]
    _check_frames(out, 2, 30, 40)
    assert all(ids in ([], [0]) for ids in out.object_ids)
    with pytest.raises(PerceptionError, match="foreground point"):
        await backend.segment([_video(2, points=[[10, 10]], point_labels=[0])])  # type: ignore[attr-defined]


async def test_a_mixed_batch_keeps_order_and_single_frames_use_the_image_model(backend: object) -> None:
    single = SegmentRequest(images=[_image(20, 24, 9)], frame_indices=[3], text="cup", threshold=0.0)
    video = _video(2, text="chair", threshold=0.0)
    out = await backend.segment([video, single, video])  # type: ignore[attr-defined]
    assert len(out) == 3
    assert out[1].masks[0].shape == (6, 20, 24)  # the image model keeps all 6 queries at threshold 0
    assert out[1].object_ids == [[1, 2, 3, 4, 5, 6]]  # linked by overlap, numbered from 1
    assert out[0] == out[2]  # one session per request: nothing leaks between them


def test_missing_tokenizer_files_are_named(video_weights: Path, tmp_path: Path) -> None:
    for name in ("config.json", "model.safetensors"):
        shutil.copy(video_weights / name, tmp_path / name)
    with pytest.raises(ConfigError, match=r"missing vocab\.json, merges\.txt") as info:
        load_backend(PerceptionConfig(backend="sam3", weights={"sam3": str(tmp_path)}))
    assert info.value.field == "perception.weights.sam3"
