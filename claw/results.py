"""One line of `results.jsonl`: `EpisodeResult`, the outcome of one episode (answer, score, reason,
cost), flushed as soon as the episode finishes, and its decoder. Written with `claw.events.encode_line`
like the events; resume and the reports read it.
"""

from __future__ import annotations

import msgspec

from claw._format import FORMAT_VERSION

__all__ = ["EpisodeResult", "decode_result"]


class EpisodeResult(msgspec.Struct, frozen=True, kw_only=True):
    """One line of `results.jsonl`: the outcome of one episode (a score, or an `error`), flushed as soon
    as it ends."""

    run_id: str
    episode_id: str
    sample_id: str
    suite: str
    category: str
    answer: str | None
    ground_truth: str
    score: float
    metric: str
    reason: str
    steps: int
    duration_s: float
    prompt_tokens: int = 0
    completion_tokens: int = 0
    format_version: int = FORMAT_VERSION
    error_type: str = ""
    """For an episode the runtime could not end normally (`EpisodeFailed`, `reason` "error"): the type of
    the error that ended it, e.g. `EpisodeTimeout`; empty for an episode that ran to its end."""


_result_decoder = msgspec.json.Decoder(EpisodeResult)


def decode_result(line: bytes | str) -> EpisodeResult:
    """Decode one line of `results.jsonl`.

    Raises:
        msgspec.DecodeError: the line is not a result record.
    """
    return _result_decoder.decode(line)
