"""The model layer: an async OpenAI-compatible client, endpoint pools per role with per-role request
settings, reasoning kept apart from replies (`reasoning`), requests kept under the server's
images-per-prompt limit (`image_limit`), and the mock-server and vLLM (`vllm`) launchers.

Public surface: `open_llm` (the run's `ChatTransport`), `EndpointPool`, `ScriptedTransport` (tests),
`start_mock_server`, image helpers, endpoint sources, and the chat types. aiohttp stays behind
`claw.llm._http`. This package is transport only: what the model sees (prompts, parsing, the action
interfaces) is in `claw.agent`.
"""

from __future__ import annotations

from claw.llm._pool import EndpointPool as EndpointPool
from claw.llm._pool import EndpointStats as EndpointStats
from claw.llm._pool import PoolStats as PoolStats
from claw.llm._pool import choose_endpoint as choose_endpoint
from claw.llm._retry import RetryPolicy as RetryPolicy
from claw.llm._retry import retry as retry
from claw.llm._router import RoleRouter as RoleRouter
from claw.llm._router import open_llm as open_llm
from claw.llm._scripted import ScriptedTransport as ScriptedTransport
from claw.llm.endpoints import EndpointsFile as EndpointsFile
from claw.llm.endpoints import ServedEndpoint as ServedEndpoint
from claw.llm.endpoints import endpoints_from_env as endpoints_from_env
from claw.llm.endpoints import read_endpoints_file as read_endpoints_file
from claw.llm.endpoints import resolve_endpoints as resolve_endpoints
from claw.llm.endpoints import write_endpoints_file as write_endpoints_file
from claw.llm.images import image_message as image_message
from claw.llm.images import image_part as image_part
from claw.llm.images import to_data_url as to_data_url
from claw.llm.mockserver import start_mock_server as start_mock_server
from claw.llm.types import ChatRequest as ChatRequest
from claw.llm.types import ChatResponse as ChatResponse
from claw.llm.types import ChatTransport as ChatTransport
from claw.llm.types import ImagePart as ImagePart
from claw.llm.types import ImageURL as ImageURL
from claw.llm.types import Message as Message
from claw.llm.types import TextPart as TextPart
from claw.llm.types import ToolCall as ToolCall
from claw.llm.types import ToolSpec as ToolSpec
from claw.llm.types import Usage as Usage

__all__ = [
    "ChatRequest",
    "ChatResponse",
    "ChatTransport",
    "EndpointPool",
    "EndpointStats",
    "EndpointsFile",
    "ImagePart",
    "ImageURL",
    "Message",
    "PoolStats",
    "RetryPolicy",
    "RoleRouter",
    "ScriptedTransport",
    "ServedEndpoint",
    "TextPart",
    "ToolCall",
    "ToolSpec",
    "Usage",
    "choose_endpoint",
    "endpoints_from_env",
    "image_message",
    "image_part",
    "open_llm",
    "read_endpoints_file",
    "resolve_endpoints",
    "retry",
    "start_mock_server",
    "to_data_url",
    "write_endpoints_file",
]
