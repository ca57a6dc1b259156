"""Tiny, randomly initialised SAM 3 and Depth Anything 3 checkpoints for tests on CPU (shapes and
plumbing, not accuracy): written to a folder in the layout `perception.weights` expects. Needs the GPU
extra (torch, transformers, depth-anything-3); callers skip without it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.perf.perception_batching import write_clip_vocab

__all__ = ["tiny_da3", "tiny_nested_da3", "tiny_sam3"]


def tiny_sam3(folder: Path) -> None:
    """A 2-layer SAM 3 image model (56-pixel input) with a character-level CLIP tokenizer."""
    import torch
    from transformers.models.sam3.configuration_sam3 import Sam3Config
    from transformers.models.sam3.modeling_sam3 import Sam3Model

    h = 32
    small = {"hidden_size": h, "intermediate_size": 64, "num_attention_heads": 2}
    config = Sam3Config(
        vision_config={
            "backbone_config": {
                "model_type": "sam3_vit_model",
                **small,
                "num_hidden_layers": 2,
                "image_size": 56,
                "patch_size": 14,
                "window_size": 2,
                "global_attn_indexes": [1],
                "pretrain_image_size": 28,
            },
            "fpn_hidden_size": h,
            "backbone_feature_sizes": [[16, 16], [8, 8], [4, 4]],
        },
        text_config={
            "model_type": "clip_text_model",
            **small,
            "num_hidden_layers": 1,
            "vocab_size": 60,
            "projection_dim": h,
            "max_position_embeddings": 32,
            "bos_token_id": 0,
            "eos_token_id": 1,
            "pad_token_id": 1,
        },
        geometry_encoder_config={**small, "num_layers": 1},
        detr_encoder_config={**small, "num_layers": 1},
        detr_decoder_config={**small, "num_layers": 1, "num_queries": 6},
        mask_decoder_config={"hidden_size": h, "num_attention_heads": 2},
    )
    torch.manual_seed(0)
    Sam3Model(config).save_pretrained(folder)
    write_clip_vocab(folder)


def tiny_da3(folder: Path) -> None:
    """Depth Anything 3 small (the smallest published preset), random weights."""
    import torch
    from safetensors.torch import save_model

    from servers.perception._backends.da3 import MODEL_REGISTRY, create_object, load_config

    torch.manual_seed(0)
    net = create_object(load_config(MODEL_REGISTRY["da3-small"]))
    holder = torch.nn.Module()  # published checkpoints are saved from a wrapper that holds the net as `model`
    holder.model = net
    save_model(holder, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps({"model_name": "da3-small"}))


def tiny_nested_da3() -> Any:
    """A nested (any-view + metric branch) Depth Anything 3 network, both branches ViT-S sized, random
    weights: the shape of the published metric checkpoint, small enough for CPU."""
    import torch
    from depth_anything_3.model.da3 import NestedDepthAnything3Net  # type: ignore[import-untyped]

    from servers.perception._backends.da3 import MODEL_REGISTRY, load_config

    anyview = load_config(MODEL_REGISTRY["da3-small"])
    metric = load_config(MODEL_REGISTRY["da3metric-large"])
    metric.net.name, metric.net.out_layers = "vits", [2, 5, 8, 11]
    metric.head.dim_in, metric.head.features, metric.head.out_channels = 384, 32, [24, 48, 96, 192]
    torch.manual_seed(0)
    return NestedDepthAnything3Net(anyview, metric).eval()
