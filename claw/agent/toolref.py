"""The tool contracts in the agent's system prompt, generated from the kernel code itself: for every name
a cell can use (`InputImages`, `Metadata`, `show`, `ReturnAnswer`, `vlm`, and each tool in `claw.tools`)
its call signature and its WHOLE docstring (shapes, units, conventions, limits, what it raises), followed
by the tool's worked example from `claw.agent.examples`. Changing a docstring changes the prompt, so the
two cannot drift apart; the prompt snapshot tests show the change.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from collections.abc import Iterator
from functools import cache
from types import ModuleType

from claw.agent.examples import example_for

__all__ = ["Entry", "entries", "render_reference"]


@dataclasses.dataclass(frozen=True)
class Entry:
    """One documented kernel name."""

    name: str
    """As a cell writes it, e.g. `tools.SAM3` or `Geometry.masked_points`."""
    signature: str
    """"(frames, text=None, ...) -> Segmentation", or "" for records and lists."""
    doc: str
    members: tuple[Entry, ...] = ()


def _signature(obj: object) -> str:
    """Parameters with defaults, without annotations (the docstring says the types)."""
    try:
        sig = inspect.signature(obj)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "(...)"
    params = [p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()]
    if params and params[0].name == "self":
        params = params[1:]
    returned = sig.return_annotation
    text = str(sig.replace(parameters=params, return_annotation=inspect.Signature.empty))
    if returned is not inspect.Signature.empty:
        text += f" -> {_type_name(returned)}"
    return text


_TYPE_WORDS = {
    "npt.NDArray[np.bool_]": "bool array",
    "BoolMask": "bool array",
    "npt.NDArray[np.float32]": "float32 array",
    "FloatArray": "float32 array",
    "npt.NDArray[np.float64]": "float64 array",
    "Array": "float64 array",
    "npt.NDArray[np.int64]": "int64 array",
    "npt.NDArray[np.uint8]": "uint8 array",
}


def _type_name(annotation: object) -> str:
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    return _TYPE_WORDS.get(text, text)


def _doc(obj: object) -> str:
    return inspect.getdoc(obj) or ""


def _public(owner: type | ModuleType) -> Iterator[tuple[str, object]]:
    for attr, member in vars(owner).items():
        if attr.startswith("_"):
            continue
        if isinstance(member, staticmethod | classmethod):
            yield attr, member.__func__
        elif isinstance(member, property):
            yield attr, member
        elif inspect.isfunction(member):
            yield attr, member


def _member(owner: str, attr: str, member: object) -> Entry:
    if isinstance(member, property):
        return Entry(f"{owner}.{attr}", "", _doc(member))
    return Entry(f"{owner}.{attr}", _signature(member), _doc(member))


def _class(name: str, cls: type, short: str) -> Entry:
    members = tuple(_member(short, attr, m) for attr, m in _public(cls))
    return Entry(name, "", _doc(cls), members)


_TOOL_ORDER = (
    "Reconstruct",
    "Reconstruction",
    "SAM3",
    "Segmentation",
    "Geometry",
    "OBB",
    "Plane",
    "Mask",
    "Draw",
)
"""Tools in the order a session uses them (the worked examples build on each other in this order);
tools not listed follow in `claw.tools.__all__` order."""


def _tools() -> list[Entry]:
    tools = importlib.import_module("claw.tools")
    listed = list(getattr(tools, "__all__", ()))
    ordered = [n for n in _TOOL_ORDER if n in listed] + [n for n in listed if n not in _TOOL_ORDER]
    found = []
    for name in ordered:
        obj = getattr(tools, name)
        if inspect.isclass(obj):
            found.append(_class(f"tools.{name}", obj, name))
        elif callable(obj):
            found.append(Entry(f"tools.{name}", _signature(obj), _doc(obj)))
        if name == "Reconstruction":
            found.append(_per_frame_maps())
    return found


def _per_frame_maps() -> Entry:
    frames = importlib.import_module("claw.tools._frames")
    return Entry("recon.depth, seg.masks, ... (per-frame maps)", "", _doc(frames.FrameMap))


def _kernel_names() -> list[Entry]:
    inputs = importlib.import_module("claw.tools._inputs")
    shown = importlib.import_module("claw.tools._show")
    answer = importlib.import_module("claw.tools._answer")
    frames = Entry(
        "InputImages",
        "",
        _doc(inputs.FrameList),
        (
            Entry("InputImages[i]", "", _doc(inputs.FrameImage)),
            *(_member("InputImages[i]", a, m) for a, m in _public(inputs.FrameImage)),
            *(_member("InputImages", a, m) for a, m in _public(inputs.FrameList)),
        ),
    )
    metadata = Entry(
        "Metadata",
        "",
        _doc(inputs.MetadataInfo),
        (Entry("Metadata.videos[k]", "", _doc(inputs.VideoInfo)),),
    )
    return [
        frames,
        metadata,
        Entry("show", _signature(shown.show), _doc(shown.show)),
        Entry("ReturnAnswer", _signature(answer.ReturnAnswer), _doc(answer.ReturnAnswer)),
        *_vlm(),
    ]


def _vlm() -> list[Entry]:
    """`vlm.ask`, `vlm.locate`, ... as the kernel binds them (`claw.tools.vlm.api`), and the records
    they return."""
    try:
        module = importlib.import_module("claw.tools.vlm")
    except ImportError:
        return []
    api = getattr(module, "api", None)
    if api is None:
        return []
    found = []
    for attr, member in vars(type(api)).items():
        if attr.startswith("_"):
            continue
        if isinstance(member, staticmethod):
            found.append(Entry(f"vlm.{attr}", _signature(member.__func__), _doc(member.__func__)))
        elif inspect.isclass(member) and dataclasses.is_dataclass(member):
            found.append(_class(f"vlm.{attr}", member, attr))
    return found


def entries() -> list[Entry]:
    """Every documented kernel name, kernel inputs first, then the tools in `claw.tools.__all__` order."""
    return [*_kernel_names(), *_tools()]


def _indent(text: str, prefix: str = "  ") -> str:
    return "\n".join(prefix + line if line.strip() else "" for line in text.splitlines())


def _render(entry: Entry, level: int = 0) -> list[str]:
    head = f"{entry.name}{entry.signature}"
    lines = [f"{'###' if level == 0 else '-'} {head}"]
    if entry.doc:
        lines.append(_indent(entry.doc, "  " * (level + 1)))
    for member in entry.members:
        lines.extend(_render(member, level + 1))
    example = example_for(entry.name) if level == 0 else None
    if example:
        lines.extend(["  Example:", "```python", example, "```"])
    return lines


@cache
def render_reference() -> str:
    """The full tool reference as the system prompt shows it (cached: it depends on code only)."""
    blocks = ["\n".join(_render(entry)) for entry in entries()]
    return "\n\n".join(blocks)
