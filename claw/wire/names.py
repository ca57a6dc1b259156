"""The names claw passes to its helper servers on their command lines, which the servers must serve:
the mock LLM's policies (`--policy`), the perception server's backends (`--backend`, one per operation)
and its synthetic noise models (`--noise`). They are part of the contract between the runtime and the
servers, kept here so the runtime checks a config's names before a run without importing `servers`;
each server keys its own registry by them, and a test fails when the two lists differ.
"""

from __future__ import annotations

__all__ = ["GROUND_TRUTH_FOLDER", "MOCK_POLICIES", "PERCEPTION_BACKENDS", "PERCEPTION_NOISE"]

MOCK_POLICIES: tuple[str, ...] = ("echo", "probe", "random", "scripted", "steps", "stuck", "two-step")
"""Policies `python -m servers.mockllm --policy NAME` can play (`models.policy`)."""

PERCEPTION_BACKENDS: tuple[str, ...] = ("costmodel", "da3", "sam3", "synthetic")
"""Backends `python -m servers.perception --backend NAME` can load (`perception.backend`,
`perception.operations`); `sam3` and `da3` need the GPU extra, which the server itself checks."""

PERCEPTION_NOISE: tuple[str, ...] = ("none", "realistic")
"""Noise models of the synthetic backend (`perception.noise`)."""

GROUND_TRUTH_FOLDER = "ground-truth"
"""Folder in a run's media folder where the synthetic suite keeps each rendered frame's depth, ids and
camera, and which claw hands its perception server as `--truth-dir` (`perception.truth_dir`)."""
