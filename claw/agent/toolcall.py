"""The `tool-call` action interface: the same kernel tools offered as OpenAI function tools, one call per
step, so the paper's code-versus-tool-calls comparison runs on the same runtime, kernels and events.

Every public callable of `claw.tools` (e.g. `SAM3`, `Geometry_closest_distance`) becomes one function
whose JSON arguments are its parameters; `show`, `vlm_ask`, `vlm_locate`, `vlm_reason`, `evaluate` and
`answer` complete the set. A call becomes a one-line cell, `rN = tools.X.y(param=value, ...)`, that goes
through the same safety policy and kernel as model-written code; its result stays in the kernel as `rN`,
and later calls refer to it (or to any kernel value) with a string argument starting with `$`, e.g.
`"$r1"` or `"$InputImages[0]"`. Only names, attributes, subscripts, calls and literals are allowed after `$`.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
from functools import cache

import msgspec

from claw.llm.types import ToolCall, ToolSpec

__all__ = ["ToolCellError", "cell_for_call", "result_name", "tool_specs"]

_REF_HELP = (
    'A string argument starting with "$" is a kernel expression, e.g. "$r1" (an earlier result), '
    '"$InputImages[0]", "$r2.mask(0, 1)".'
)
_EXTRA_TOOLS: dict[str, tuple[str, str, list[str], list[str]]] = {
    # name: (python callable, description, parameters, required)
    "show": (
        "show",
        "Show an image (frame, array or overlay) in the next observation.",
        ["image", "caption"],
        ["image"],
    ),
    "evaluate": (
        "",
        'Evaluate one kernel expression (e.g. "$r1.count(0)") and keep it as a result.',
        ["expression"],
        ["expression"],
    ),
    "answer": (
        "ReturnAnswer",
        "Submit the final answer (checked against the answer format).",
        ["answer"],
        ["answer"],
    ),
}
_ALLOWED_NODES = (
    ast.Expression,
    ast.Name,
    ast.Attribute,
    ast.Subscript,
    ast.Constant,
    ast.Call,
    ast.Load,
    ast.Slice,
    ast.Tuple,
    ast.List,
    ast.UnaryOp,
    ast.USub,
    ast.keyword,
)


class ToolCellError(msgspec.Struct, frozen=True, kw_only=True):
    """Why a tool call could not become a cell (shown to the model in the tool's reply)."""

    message: str


def result_name(step: int) -> str:
    """The kernel variable that holds the result of the call made at `step`."""
    return f"r{step + 1}"


@cache
def _catalogue() -> dict[str, tuple[str, str, list[str], list[str]]]:
    tools = importlib.import_module("claw.tools")
    found: dict[str, tuple[str, str, list[str], list[str]]] = {}
    for name in getattr(tools, "__all__", ()):
        obj = getattr(tools, name)
        if inspect.isclass(obj) and not _is_namespace(obj):
            continue
        members = inspect.getmembers(obj, callable) if inspect.isclass(obj) else [("", obj)]
        for attr, member in members:
            if attr.startswith("_"):
                continue
            tool = f"{name}_{attr}" if attr else name
            path = f"tools.{name}.{attr}" if attr else f"tools.{name}"
            found[tool] = (path, _contract(member), *_parameters(member))
    return found | _vlm_tools() | _EXTRA_TOOLS


def _vlm_tools() -> dict[str, tuple[str, str, list[str], list[str]]]:
    """`vlm.ask`, `vlm.locate` and `vlm.reason` as `vlm_ask`, `vlm_locate`, `vlm_reason`, described by
    their whole docstrings like the kernel tools."""
    vlm = importlib.import_module("claw.tools.vlm")
    calls = {name: getattr(vlm, name) for name in ("ask", "locate", "reason")}
    return {f"vlm_{name}": (f"vlm.{name}", _contract(f), *_parameters(f)) for name, f in calls.items()}


def _is_namespace(cls: type) -> bool:
    """Tool classes such as `Geometry` are namespaces of static methods, not records to construct."""
    return any(isinstance(v, staticmethod) for v in vars(cls).values())


def _contract(obj: object) -> str:
    """The whole docstring (shapes, units, limits, what it raises), as in the code prompt."""
    return inspect.getdoc(obj) or ""


def _parameters(func: object) -> tuple[list[str], list[str]]:
    try:
        signature = inspect.signature(func)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return [], []
    names = [p.name for p in signature.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    required = [p.name for p in signature.parameters.values() if p.default is p.empty and p.name in names]
    return names, required


def _schema(parameters: list[str], required: list[str]) -> msgspec.Raw:
    properties = {name: {"description": _REF_HELP} for name in parameters}
    schema = {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
    return msgspec.Raw(msgspec.json.encode(schema))


@cache
def _specs() -> tuple[ToolSpec, ...]:
    return tuple(
        ToolSpec(name=name, description=description, parameters=_schema(params, required))
        for name, (_, description, params, required) in sorted(_catalogue().items())
    )


def tool_specs() -> list[ToolSpec]:
    """Every tool offered to the model, in a stable order (so the prompt prefix stays cacheable)."""
    return list(_specs())


def _reference(text: str) -> str | ToolCellError:
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return ToolCellError(message=f"${text} is not a valid expression")
    for node in ast.walk(tree):
        bad_attr = isinstance(node, ast.Attribute) and node.attr.startswith("_")
        bad_name = isinstance(node, ast.Name) and node.id.startswith("_")
        if not isinstance(node, _ALLOWED_NODES) or bad_attr or bad_name:
            return ToolCellError(message=f"${text}: only names, attributes, subscripts, calls and literals")
    return text


def _literal(value: object) -> str | ToolCellError:
    match value:
        case str() if value.startswith("$"):
            return _reference(value[1:])
        case None | bool() | int() | float() | str():
            return repr(value)
        case list():
            parts = [_literal(v) for v in value]
            errors = [p for p in parts if isinstance(p, ToolCellError)]
            return errors[0] if errors else "[" + ", ".join(p for p in parts if isinstance(p, str)) + "]"
    hint = "use numbers, strings, lists or $references"
    return ToolCellError(message=f"unsupported argument value {value!r}: {hint}")


def _arguments(call: ToolCall, allowed: list[str]) -> dict[str, str] | ToolCellError:
    try:
        raw = json.loads(call.function.arguments or "{}")
    except json.JSONDecodeError as exc:
        return ToolCellError(message=f"arguments of {call.function.name} are not JSON: {exc}")
    if not isinstance(raw, dict):
        return ToolCellError(message=f"arguments of {call.function.name} must be a JSON object")
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        name = call.function.name
        return ToolCellError(message=f"{name} has no parameter {unknown[0]!r}; it takes {allowed}")
    rendered: dict[str, str] = {}
    for key, value in raw.items():
        literal = _literal(value)
        if isinstance(literal, ToolCellError):
            return literal
        rendered[key] = literal
    return rendered


def cell_for_call(call: ToolCall, step: int) -> str | ToolCellError:
    """The one-line cell that performs `call`, binding its result to `result_name(step)`."""
    entry = _catalogue().get(call.function.name)
    if entry is None:
        return ToolCellError(message=f"there is no tool {call.function.name!r}; use one of the offered tools")
    path, _, params, required = entry
    arguments = _arguments(call, params)
    if isinstance(arguments, ToolCellError):
        return arguments
    missing = [name for name in required if name not in arguments]
    if missing:
        return ToolCellError(message=f"{call.function.name} needs the argument {missing[0]!r}")
    target = result_name(step)
    if call.function.name == "evaluate":
        return _evaluate_cell(call, target)
    keywords = ", ".join(f"{k}={v}" for k, v in arguments.items())
    return f"{target} = {path}({keywords})\nprint(repr({target})[:2000])"


def _evaluate_cell(call: ToolCall, target: str) -> str | ToolCellError:
    expression = str(json.loads(call.function.arguments)["expression"]).removeprefix("$")
    checked = _reference(expression)
    if isinstance(checked, ToolCellError):
        return checked
    return f"{target} = {checked}\nprint(repr({target})[:2000])"
