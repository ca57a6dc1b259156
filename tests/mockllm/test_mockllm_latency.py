"""The mock server's token counts, prefix cache and service-time model."""

from __future__ import annotations

from claw.llm.types import ImagePart, ImageURL, Message, TextPart
from servers.mockllm.latency import IMAGE_TOKENS, LatencyModel, PrefixCache, count_tokens, message_tokens

SYSTEM = Message(role="system", content="you are a careful agent " * 20)


def _turns(n: int) -> list[Message]:
    messages = [SYSTEM, Message(role="user", content="question")]
    for i in range(n):
        messages += [Message(role="assistant", content=f"cell {i}"), Message(role="user", content=f"obs {i}")]
    return messages


def test_token_counts() -> None:
    assert count_tokens("") == 0 and count_tokens("abcd") == 1 and count_tokens("abcde") == 2
    image = ImagePart(image_url=ImageURL(url="data:image/png;base64,AAAA"))
    with_image = Message(role="user", content=[TextPart(text="abcd"), image])
    assert message_tokens(with_image) == 4 + 1 + IMAGE_TOKENS


def test_append_only_steps_extend_and_hit_the_cache() -> None:
    cache = PrefixCache()
    first = cache.lookup_and_insert(_turns(0))
    second = cache.lookup_and_insert(_turns(1))
    third = cache.lookup_and_insert(_turns(2))
    assert first.cached_tokens == 0 and not first.extends_previous
    assert second.extends_previous and second.cached_tokens == first.prompt_tokens
    assert third.extends_previous and third.cached_tokens == second.prompt_tokens


def test_a_rewritten_transcript_does_not_extend() -> None:
    cache = PrefixCache()
    cache.lookup_and_insert(_turns(1))
    edited = _turns(2)
    edited[2] = Message(role="assistant", content="cell 0 (edited)")
    lookup = cache.lookup_and_insert(edited)
    assert not lookup.extends_previous
    assert lookup.cached_tokens == message_tokens(SYSTEM) + message_tokens(edited[1])


def test_shared_system_prompt_is_cached_but_is_not_an_extension() -> None:
    cache = PrefixCache()
    cache.lookup_and_insert([SYSTEM, Message(role="user", content="q1")])
    other = cache.lookup_and_insert([SYSTEM, Message(role="user", content="q2")])
    assert other.cached_tokens == message_tokens(SYSTEM) and not other.extends_previous


def test_cache_is_bounded() -> None:
    cache = PrefixCache(capacity=5)
    cache.lookup_and_insert(_turns(5))
    assert len(cache) == 5


def test_service_time() -> None:
    model = LatencyModel(
        base_ms=10, prefill_ms_per_token=1, cached_prefill_ms_per_token=0.1, decode_ms_per_token=20
    )
    assert abs(model.service_s(prompt_tokens=100, cached_tokens=50, completion_tokens=5) - 0.165) < 1e-9
    assert LatencyModel().service_s(1000, 0, 1000) == 0.0
