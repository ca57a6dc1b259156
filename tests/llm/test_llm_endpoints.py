"""Endpoint sources: config, endpoints file, environment, default URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from claw.config import EndpointConfig, ModelsConfig
from claw.errors import ConfigError
from claw.llm import (
    EndpointsFile,
    ServedEndpoint,
    endpoints_from_env,
    read_endpoints_file,
    resolve_endpoints,
    write_endpoints_file,
)


def test_endpoints_file_round_trip(tmp_path: Path) -> None:
    served = EndpointsFile(endpoints=[ServedEndpoint(url="http://h:1/v1", model="m", roles=("agent",))])
    path = tmp_path / "sub" / "endpoints.json"
    write_endpoints_file(path, served)
    assert read_endpoints_file(path) == served
    assert not path.with_name("endpoints.json.partial").exists()


@pytest.mark.parametrize(
    ("content", "match"),
    [(None, "does not exist"), (b"{", "invalid"), (b'{"endpoints": [{"url": "u"}]}', "invalid")],
)
def test_bad_endpoints_file(tmp_path: Path, content: bytes | None, match: str) -> None:
    path = tmp_path / "e.json"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError, match=match) as caught:
        read_endpoints_file(path)
    assert caught.value.field == "models.endpoints_file"


def test_env_endpoints() -> None:
    env = {
        "CLAW_AGENT_URL": "http://a/v1, http://b/v1",
        "CLAW_AGENT_MODEL": "m",
        "CLAW_AGENT_API_KEY_ENV": "K",
    }
    found = endpoints_from_env(env)
    assert list(found) == ["agent"]
    assert [e.url for e in found["agent"]] == ["http://a/v1", "http://b/v1"]
    assert found["agent"][0].api_key_env == "K"


def test_env_url_without_model_is_an_error() -> None:
    with pytest.raises(ConfigError, match="CLAW_PLANNER_MODEL"):
        endpoints_from_env({"CLAW_PLANNER_URL": "http://p/v1"})


def test_resolution_order() -> None:
    configured = EndpointConfig(url="http://config/v1", model="c")
    served = EndpointsFile(
        endpoints=[
            ServedEndpoint(url="http://file/v1", model="f", roles=("agent", "planner")),
        ]
    )
    env = {"CLAW_VLM_ASK_URL": "http://env/v1", "CLAW_VLM_ASK_MODEL": "e", "CLAW_PLANNER_URL": "http://x/v1"}
    env["CLAW_PLANNER_MODEL"] = "x"
    roles = resolve_endpoints(
        ModelsConfig(agent=[configured]), served=served, env=env, default_url="http://mock/v1"
    )
    assert roles["agent"] == [configured]
    assert [e.url for e in roles["planner"]] == ["http://file/v1"]
    assert [e.url for e in roles["vlm_ask"]] == ["http://env/v1"]


def test_default_url_fills_every_empty_role() -> None:
    roles = resolve_endpoints(ModelsConfig(), env={}, default_url="http://mock/v1")
    assert {r: [e.url for e in es] for r, es in roles.items()} == {
        "agent": ["http://mock/v1"],
        "planner": ["http://mock/v1"],
        "vlm_ask": ["http://mock/v1"],
    }


def test_no_agent_endpoint_is_an_error() -> None:
    with pytest.raises(ConfigError, match="CLAW_AGENT_URL"):
        resolve_endpoints(ModelsConfig(), env={})
