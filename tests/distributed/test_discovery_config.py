"""`[ray] discover` without a cluster: its config rules (one-line errors), how discovered servers become
a worker's config, the registry actor's bookkeeping, `claw serve register`'s argument checks, and the
health check that tells a live registered server from a stale entry (against a loopback mock server)."""

from __future__ import annotations

import anyio
import pytest

from claw.cli import build_parser, eval_config_from_args
from claw.cli._commands import COMMANDS
from claw.config import config_from_mapping
from claw.distributed.discovery import Discovered, discovered_config, perception_for, problem_of
from claw.distributed.registry import EndpointRegistry
from claw.errors import ConfigError
from claw.llm.mockserver import start_mock_server
from claw.wire.ray import Registration, decode_registrations, encode_registration


def test_discover_flag_sets_the_config_and_needs_a_cluster() -> None:
    args = build_parser().parse_args(["eval", "--ray", "auto", "--ray-discover", "models,perception"])
    assert eval_config_from_args(args).ray.discover == ["models", "perception"]
    with pytest.raises(ConfigError, match=r"ray\.discover needs a Ray cluster: add --ray"):
        eval_config_from_args(build_parser().parse_args(["eval", "--ray-discover", "models"]))
    with pytest.raises(ConfigError, match=r"ray\.discover"):
        config_from_mapping({"ray": {"address": "auto", "discover": ["gpus"]}})


def test_discover_refuses_servers_the_config_also_names() -> None:
    agent = [{"url": "http://127.0.0.1:8000/v1", "model": "m"}]
    with pytest.raises(ConfigError, match=r"ray\.discover models replaces"):
        config_from_mapping({"ray": {"address": "auto", "discover": ["models"]}, "models": {"agent": agent}})
    perception = {"url": "http://127.0.0.1:9000", "token_env": "T"}
    with pytest.raises(ConfigError, match=r"ray\.discover perception replaces"):
        config_from_mapping(
            {"ray": {"address": "auto", "discover": ["perception"]}, "perception": perception}
        )


def test_discovered_servers_become_each_workers_config() -> None:
    config = config_from_mapping({"ray": {"address": "auto", "discover": ["models", "perception"]}})
    big = Registration(kind="model", url="http://10.0.0.1:8000/v1", model="big", max_concurrency=8)
    small = Registration(kind="model", url="http://10.0.0.2:8000/v1", model="small", roles=("vlm_ask",))
    seeing = [Registration(kind="perception", url=f"http://10.0.0.{i}:9000", token_env="T") for i in (3, 4)]
    found = Discovered(models=[big, small], perception=seeing)

    first, second, third = (discovered_config(config, found, worker) for worker in range(3))
    assert [(e.url, e.model, e.max_concurrency) for e in first.models.agent] == [(big.url, "big", 8)]
    assert [e.model for e in first.models.vlm_ask] == ["big", "small"]
    assert [first.perception.url, second.perception.url, third.perception.url] == [
        seeing[0].url,
        seeing[1].url,
        seeing[0].url,
    ]
    assert first.perception.token_env == "T"


def test_the_registry_keeps_entries_until_removed() -> None:
    registry = EndpointRegistry()
    one = Registration(kind="model", url="http://10.0.0.1:8000/v1", model="m")
    two = Registration(kind="perception", url="http://10.0.0.2:9000", token_env="T")
    registry.add("a", encode_registration(one))
    registry.add("b", encode_registration(two))
    assert decode_registrations(registry.entries()) == {"a": one, "b": two}
    assert registry.remove("a") and not registry.remove("a")
    assert decode_registrations(registry.entries()) == {"b": two}
    assert registry.remove("b") and decode_registrations(registry.entries()) == {}


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--url", "http://127.0.0.1:1/v1"], "--kind model needs --model"),
        (["--url", "127.0.0.1:1", "--model", "m"], "is not an http"),
        (
            ["--url", "http://127.0.0.1:1/v1", "--model", "m", "--roles", "agent,critic"],
            "unknown role 'critic'",
        ),
    ],
)
def test_serve_register_checks_its_arguments_before_connecting(flags: list[str], message: str) -> None:
    args = build_parser().parse_args(["serve", "register", "--ray", "127.0.0.1:1", *flags])
    with pytest.raises(ConfigError, match=message):
        anyio.run(COMMANDS["serve"], args)


@pytest.mark.slow
async def test_a_registered_server_is_healthy_only_while_it_answers_for_its_model() -> None:
    async with start_mock_server("scripted", seed=0) as url:
        assert await problem_of(Registration(kind="model", url=url, model="mock")) is None
        assert (
            await problem_of(Registration(kind="model", url=url, model="other"))
            == "it serves mock, not other"
        )
    gone = await problem_of(Registration(kind="model", url=url, model="mock"))
    assert gone is not None and "cannot reach" in gone, gone
    closed = url.removesuffix("/v1")  # nothing listens there any more
    perception = await problem_of(Registration(kind="perception", url=closed, token_env="T"))
    assert perception is not None and "not reachable" in perception, perception


def test_a_worker_prefers_a_perception_server_on_its_own_node() -> None:
    def server(port: int, node: str) -> Registration:
        return Registration(kind="perception", url=f"http://127.0.0.1:{port}", node_id=node)

    servers = [server(1, "a"), server(2, "b"), server(3, "a")]
    on_a = [perception_for(servers, "a", worker).url for worker in range(3)]
    assert on_a == ["http://127.0.0.1:1", "http://127.0.0.1:3", "http://127.0.0.1:1"]
    assert perception_for(servers, "b", 5).url == "http://127.0.0.1:2"
    assert perception_for(servers, "c", 1).url == "http://127.0.0.1:2"  # none on its node: round robin
