"""What keeping requests under the images-per-prompt limit costs the prefix cache.

`python -m bench.perf.image_limit [--limit 64] [--key-frames 32] [--steps 30] [--per-step 4] [--json OUT]`

Builds one episode's requests as the runtime sends them (system prompt, the question with its key
frames, then per step a reply and an observation with `--per-step` shown images), passes each through
`claw.llm.image_limit.fit_images`, and counts, like vLLM's automatic prefix cache on one server, the
prompt tokens each request shares with the previous one from the start (content parts compared in
order; text at 4 characters a token, an image at the mock server's image cost). Reported per drop block
size: the share of all prompt tokens served from the cache, the number of requests that broke the
prefix, and prefill tokens recomputed, next to the unlimited run (which the server would refuse).
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Sequence

from bench.perf._cli import say, write_figures
from claw.llm.image_limit import count_images, fit_images
from claw.llm.types import ImagePart, ImageURL, Message, TextPart
from servers.mockllm.latency import IMAGE_TOKENS, count_tokens

_REPLY = (
    "**Purpose:** look\n**Reasoning:** measure it\n**Next Goal:** answer\n**Code:**\n```python\n"
    + ("x = tools.Reconstruct(InputImages[:8])\nprint(x.depth.shape)\n" * 6)
    + "```"
)
_OBSERVATION = "## Observation\nstdout:\n" + "depth (8, 480, 640) float32, 0.4..6.1 m\n" * 12


def _image(n: int) -> ImagePart:
    return ImagePart(image_url=ImageURL(url=f"data:image/jpeg;base64,frame{n}"))


def episode(key_frames: int, steps: int, per_step: int) -> list[list[Message]]:
    """The transcript at each agent call (the first call sees the question alone)."""
    messages = [
        Message(role="system", content="You are a spatial reasoning agent. " * 200),
        Message(role="user", content=[TextPart(text="question"), *[_image(i) for i in range(key_frames)]]),
    ]
    calls = [list(messages)]
    for step in range(steps):
        shown = [_image(10_000 + step * per_step + k) for k in range(per_step)]
        messages += [
            Message(role="assistant", content=_REPLY),
            Message(role="user", content=[TextPart(text=_OBSERVATION), *shown]),
        ]
        calls.append(list(messages))
    return calls


def _units(messages: Sequence[Message]) -> list[tuple[str, int]]:
    """Each message's parts as (identity, tokens), in wire order."""
    out: list[tuple[str, int]] = []
    for m in messages:
        out.append((f"<{m.role}>", 4))
        parts = [TextPart(text=m.content)] if isinstance(m.content, str) else m.content
        for part in parts:
            if isinstance(part, ImagePart):
                out.append((part.image_url.url, IMAGE_TOKENS))
            else:
                out.append((part.text, count_tokens(part.text)))
    return out


def _shared(before: list[tuple[str, int]], after: list[tuple[str, int]]) -> int:
    tokens = 0
    for a, b in zip(before, after, strict=False):
        if a != b:
            break
        tokens += a[1]
    return tokens


def measure(calls: list[list[Message]], limit: int | None, block: int) -> dict[str, float]:
    """Prefix-cache figures for one episode's requests under `limit` (None: unlimited)."""
    sent = [list(c) if limit is None else fit_images(c, limit, block=block) for c in calls]
    units = [_units(s) for s in sent]
    prompt = [sum(t for _, t in u) for u in units]
    cached = [0] + [_shared(a, b) for a, b in itertools.pairwise(units)]
    full_prefix = [sum(t for _, t in a) for a in units[:-1]]
    breaks = sum(c < f for c, f in zip(cached[1:], full_prefix, strict=True))
    return {
        "requests": len(sent),
        "max_images_sent": max(count_images(s) for s in sent),
        "prompt_tokens": sum(prompt),
        "cached_share": sum(cached) / sum(prompt),
        "prefix_breaks": breaks,
        "recomputed_tokens": sum(prompt) - sum(cached),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.perf.image_limit", description=__doc__)
    parser.add_argument("--limit", type=int, default=64)
    parser.add_argument("--key-frames", type=int, default=32)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--per-step", type=int, default=4)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    calls = episode(args.key_frames, args.steps, args.per_step)
    figures: dict[str, object] = {"settings": vars(args)}
    runs: list[tuple[str, int | None, int]] = [("unlimited", None, 1)]
    runs += [(f"block={b}", args.limit, b) for b in (1, 4, 8, 16, 32)]
    for name, limit, block in runs:
        result = measure(calls, limit, block)
        figures[name] = result
        say(
            f"{name:>10}: cached share {result['cached_share']:.3f}, prefix breaks "
            f"{result['prefix_breaks']:>2}, recomputed {result['recomputed_tokens']:>7} of "
            f"{result['prompt_tokens']} prompt tokens, at most {result['max_images_sent']} images"
        )
    write_figures(figures, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
