"""The in-kernel bootstrap: the fixed code that turns a fresh kernel into an episode's kernel.

`preload()` runs once in the template process (before any fork) and imports the heavy modules; `install()`
runs as the first cell of every episode. It reads the episode's `KernelSetup` as msgpack from the kernel's
private directory (`$CLAW_KERNEL_DIR/setup.msgpack`; never pickle, never generated source), binds the
kernel API (`InputImages`, `Metadata`, `tools`, the tool classes, `show`, `vlm`, `ReturnAnswer`, `np`,
`math`, `scipy`, `plt`), points the perception client at its socket, and registers the IPython hooks that,
after every cell, publish one `CellReport` (new/changed variables, shown images, the submitted answer,
the failing line) as a display_data message, so a cell costs the host exactly one round trip.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import io
import math
import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import ModuleType, TracebackType
from typing import Any, SupportsIndex, overload

import msgspec
import numpy as np
import numpy.typing as npt

from claw.suite import Video
from claw.wire.kernel import (
    REPORT_MIME,
    CellReport,
    KernelSetup,
    ShownImage,
    SubmittedAnswer,
    VariableSummary,
)

__all__ = [
    "FrameImage",
    "FrameList",
    "MetadataInfo",
    "ReturnAnswer",
    "VideoInfo",
    "check_answer",
    "install",
    "preload",
    "prepare",
    "show",
]

_MAX_VARIABLES = 40
_MAX_PREVIEW = 80
_MAX_IMAGE_EDGE = 1024
_MINMAX_LIMIT = 20_000_000
_TOOL_NAMES = ("Reconstruct", "SAM3", "Geometry", "Mask", "Draw", "Time")
_NUMBER = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*([A-Za-z%°²³/.\s]{0,24})$")
_LETTER = re.compile(r"^\(?([A-Za-z])[).:]?(\s.*)?$", re.DOTALL)


class _State:
    """Per-kernel state of the bootstrap (one episode per kernel)."""

    max_images = 4
    images: list[ShownImage] = []  # noqa: RUF012 - reset per cell by the hooks
    images_dropped = 0
    answer: SubmittedAnswer | None = None
    answer_format = "text"
    options: tuple[str, ...] = ()
    hidden: frozenset[str] = frozenset()
    signatures: dict[str, tuple[object, ...]] = {}  # noqa: RUF012
    tools_error: str | None = None
    prepared = False
    vlm_module: ModuleType | None = None
    configure: Callable[..., None] | None = None
    configure_fps = False


def preload() -> None:
    """Import the tool package once (in the template, before forking); an import error is kept for later."""
    try:
        importlib.import_module("claw.tools")
    except ImportError as exc:
        _State.tools_error = f"{type(exc).__name__}: {exc}"


FRAME_CACHE_FRAMES = 64
"""Decoded frames kept in memory per kernel (most recently used): a video can put thousands of frames in
`InputImages`, and a loop over all of them must not hold every one (64 frames at 768×576 ≈ 85 MB)."""


@dataclass(eq=False)
class FrameImage:
    """One input frame. Pixels load lazily from `path` on first use of `.array`; the kernel keeps the
    last `FRAME_CACHE_FRAMES` decoded frames, so a loop over every frame of a long video stays bounded.

    Attributes:
        path: image file the frame is read from.
        index: absolute frame index in its video.
        timestamp_s: seconds from the start of the video (None for image sets).
        video: name of the video the frame belongs to.
    """

    path: str
    index: int
    timestamp_s: float | None = None
    video: str = ""

    @property
    def array(self) -> npt.NDArray[np.uint8]:
        """(H, W, 3) uint8 RGB pixels (decoded on first use, then cached while recently used)."""
        return _cached_rgb(self.path)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels (read from the file header; nothing is decoded)."""
        from PIL import Image

        try:
            with Image.open(self.path) as image:
                width, height = image.size
        except OSError as exc:
            raise OSError(f"frame file {self.path} cannot be read inside the sandbox: {exc}") from None
        return (int(width), int(height))

    def __array__(self, dtype: npt.DTypeLike | None = None, copy: bool | None = None) -> npt.NDArray[Any]:
        return self.array if dtype is None else self.array.astype(dtype)

    def __repr__(self) -> str:
        when = f", t={self.timestamp_s:.2f}s" if self.timestamp_s is not None else ""
        return f"FrameImage(index={self.index}{when}, video={self.video!r})"


@functools.lru_cache(maxsize=FRAME_CACHE_FRAMES)
def _cached_rgb(path: str) -> npt.NDArray[np.uint8]:
    return _load_rgb(path)


def _load_rgb(path: str) -> npt.NDArray[np.uint8]:
    from PIL import Image

    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except OSError as exc:
        raise OSError(f"frame file {path} cannot be read inside the sandbox: {exc}") from None


class FrameList(list[FrameImage]):
    """A list of `FrameImage`; slicing returns a `FrameList` again."""

    @overload
    def __getitem__(self, item: SupportsIndex) -> FrameImage: ...
    @overload
    def __getitem__(self, item: slice) -> FrameList: ...
    def __getitem__(self, item: SupportsIndex | slice) -> FrameImage | FrameList:
        if isinstance(item, slice):
            return FrameList(super().__getitem__(item))
        return super().__getitem__(item)

    @property
    def frame_indices(self) -> list[int]:
        """Absolute frame indices, in order."""
        return [frame.index for frame in self]

    def __repr__(self) -> str:
        if not self:
            return "FrameList([])"
        return f"FrameList({len(self)} frames, indices {self[0].index}..{self[-1].index})"


@dataclass(frozen=True)
class VideoInfo:
    """One input video (or image set) as `Metadata.videos` lists it."""

    name: str
    num_frames: int
    fps: float | None
    total_frames: int | None
    duration_s: float | None


@dataclass(frozen=True)
class MetadataInfo:
    """Facts about the inputs: `Metadata` in the kernel.

    Attributes:
        is_video: whether the inputs come from a video (timestamps known).
        fps: native fps of the (first) video, None for image sets.
        duration_s: duration of the (first) video in seconds.
        total_frames: frames of the (first) video before sampling.
        num_images: number of input frames over all videos.
        videos: one `VideoInfo` per video.
        answer_format: letter, number, yes_no or text.
        options: the answer options (option i has letter chr(65 + i)).
        extra: dataset facts (e.g. `extra["scene"]`).
    """

    is_video: bool
    fps: float | None
    duration_s: float | None
    total_frames: int | None
    num_images: int
    videos: tuple[VideoInfo, ...]
    answer_format: str
    options: tuple[str, ...]
    extra: dict[str, Any]


def _frames_of(video: Video) -> FrameList:
    return FrameList(FrameImage(f.path, f.index, f.timestamp_s, video.name) for f in video.frames)


def _metadata(setup: KernelSetup) -> MetadataInfo:
    first = setup.videos[0] if setup.videos else None
    videos = tuple(
        VideoInfo(v.name, len(v.frames), v.fps, v.total_frames, v.duration_s) for v in setup.videos
    )
    return MetadataInfo(
        is_video=any(f.timestamp_s is not None for v in setup.videos for f in v.frames),
        fps=first.fps if first else None,
        duration_s=first.duration_s if first else None,
        total_frames=first.total_frames if first else None,
        num_images=sum(len(v.frames) for v in setup.videos),
        videos=videos,
        answer_format=setup.answer_format,
        options=setup.options,
        extra=dict(setup.metadata),
    )


# ---------------------------------------------------------------------------------------------- answers


def check_answer(answer: object, answer_format: str, options: tuple[str, ...]) -> SubmittedAnswer:
    """Validate `answer` against the question's answer format.

    Returns:
        A `SubmittedAnswer`; `valid` is False with a message saying what is expected when it does not fit.
    """
    checks: dict[str, Callable[[object, tuple[str, ...]], tuple[str | None, str]]] = {
        "letter": _check_letter,
        "number": _check_number,
        "yes_no": _check_yes_no,
    }
    text, problem = checks.get(answer_format, _check_text)(answer, options)
    if text is None:
        return SubmittedAnswer(text=_short(answer), valid=False, message=problem)
    return SubmittedAnswer(text=text, valid=True)


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 200 else text[:200] + "…"


def _check_letter(answer: object, options: tuple[str, ...]) -> tuple[str | None, str]:
    letters = [chr(65 + i) for i in range(len(options))] or [chr(65 + i) for i in range(26)]
    match = _LETTER.match(str(answer).strip()) if isinstance(answer, str) else None
    letter = match.group(1).upper() if match else None
    if letter in letters:
        return letter, ""
    return None, f"expected one option letter out of {', '.join(letters)}, e.g. ReturnAnswer('{letters[0]}')"


def _check_number(answer: object, options: tuple[str, ...]) -> tuple[str | None, str]:
    expected = "expected a number, optionally with a unit, e.g. ReturnAnswer(2.5) or ReturnAnswer('2.5 m')"
    if isinstance(answer, bool):
        return None, expected
    if isinstance(answer, int | float | np.integer | np.floating):
        value = float(answer)
        return (
            (repr(answer.item()) if isinstance(answer, np.generic) else str(answer), "")
            if math.isfinite(value)
            else (None, expected + " (got a non-finite value)")
        )
    if isinstance(answer, str) and _NUMBER.match(answer):
        return answer.strip(), ""
    return None, expected


def _check_yes_no(answer: object, options: tuple[str, ...]) -> tuple[str | None, str]:
    if isinstance(answer, bool | np.bool_):
        return ("yes" if answer else "no"), ""
    word = str(answer).strip().lower().rstrip(".!") if isinstance(answer, str) else ""
    if word in ("yes", "no"):
        return word, ""
    return None, "expected 'yes' or 'no', e.g. ReturnAnswer('yes')"


def _check_text(answer: object, options: tuple[str, ...]) -> tuple[str | None, str]:
    text = str(answer).strip() if isinstance(answer, str | int | float | np.generic) else ""
    if text:
        return text, ""
    return None, "expected a non-empty answer string, e.g. ReturnAnswer('the red chair')"


def ReturnAnswer(answer: object) -> None:
    """Submit the final answer; it is checked against `Metadata.answer_format`.

    Args:
        answer: an option letter ('B'), a number (2.5 or '2.5 m'), 'yes'/'no', or text, per the format.
    """
    submitted = check_answer(answer, _State.answer_format, _State.options)
    _State.answer = submitted
    if submitted.valid:
        _say(f"Answer accepted: {submitted.text}")
    else:
        _say(f"Answer NOT accepted ({submitted.text!r}): {submitted.message}")


def _say(line: str) -> None:
    """Write one line to the cell's stdout: in the kernel that *is* the model's observation."""
    sys.stdout.write(line + "\n")


# ------------------------------------------------------------------------------------------------ show


def show(image: object, caption: str = "") -> None:
    """Show an image in the next observation.

    Args:
        image: a FrameImage, an (H, W, 3) or (H, W) array, a PIL image or a matplotlib figure.
        caption: a short text shown with the image.
    """
    if len(_State.images) >= _State.max_images:
        _State.images_dropped += 1
        _say(f"[show] image dropped: at most {_State.max_images} images per step")
        return
    _State.images.append(ShownImage(png=_png_bytes(image), caption=str(caption)[:200]))


def _png_bytes(image: object) -> bytes:
    from PIL import Image

    pil: Image.Image
    if hasattr(image, "savefig"):
        buffer = io.BytesIO()
        image.savefig(buffer, format="png", dpi=100)
        pil = Image.open(io.BytesIO(buffer.getvalue()))
    elif isinstance(image, Image.Image):
        pil = image
    else:
        pil = Image.fromarray(_as_uint8(np.asarray(image)))
    pil.thumbnail((_MAX_IMAGE_EDGE, _MAX_IMAGE_EDGE))
    out = io.BytesIO()
    pil.convert("RGB").save(out, format="png")
    return out.getvalue()


def _as_uint8(pixels: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
    if pixels.ndim not in (2, 3):
        raise TypeError(f"show() needs an (H, W, 3) or (H, W) image, got shape {pixels.shape}")
    if pixels.dtype == np.uint8:
        return pixels
    if pixels.dtype == np.bool_:
        return pixels.astype(np.uint8) * 255
    finite = np.nan_to_num(pixels.astype(np.float64))
    low, high = float(finite.min(initial=0.0)), float(finite.max(initial=1.0))
    scaled = (finite - low) / (high - low) if high > low else np.zeros_like(finite)
    return (scaled * 255).astype(np.uint8)


class _VlmUnavailable:
    """Stands in for `vlm` when this installation has no VLM bridge."""

    def ask(self, question: str, images: object = None) -> str:
        """Always raises: no VLM bridge is installed."""
        raise RuntimeError("vlm.ask is not available in this kernel (no claw.tools.vlm bridge is installed)")


# ------------------------------------------------------------------------------------------- variables


def _signature(value: object) -> tuple[object, ...]:
    shape = getattr(value, "shape", None) if isinstance(value, np.ndarray) else None
    length = len(value) if isinstance(value, list | tuple | dict | set | str) else None
    return (id(value), type(value).__name__, shape, length)


def _reportable(name: str, value: object) -> bool:
    if name.startswith("_") or name in _State.hidden:
        return False
    return not isinstance(value, ModuleType | type) and not inspect.isroutine(value)


def _summary(name: str, value: object) -> VariableSummary:
    kind = type(value).__name__
    if isinstance(value, np.ndarray):
        return _array_summary(name, value)
    if isinstance(value, bool | int | float | complex | np.generic | str | bytes) or value is None:
        preview = repr(value)
        return VariableSummary(name=name, type=kind, preview=preview[:_MAX_PREVIEW])
    length = len(value) if isinstance(value, list | tuple | dict | set | frozenset) else None
    return VariableSummary(name=name, type=kind, length=length, preview=_bounded_repr(value))


def _bounded_repr(value: object) -> str | None:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken user __repr__ must not break the report
        return None
    return text if len(text) <= _MAX_PREVIEW else text[: _MAX_PREVIEW - 1] + "…"


def _array_summary(name: str, array: npt.NDArray[Any]) -> VariableSummary:
    low = high = None
    if 0 < array.size <= _MINMAX_LIMIT and array.dtype.kind in "biuf":
        finite = array[np.isfinite(array)] if array.dtype.kind == "f" else array
        if finite.size:
            low, high = float(finite.min()), float(finite.max())
    preview = _bounded_repr(array.tolist()) if array.size <= 6 else None
    return VariableSummary(
        name=name,
        type="ndarray",
        shape=tuple(int(d) for d in array.shape),
        dtype=str(array.dtype),
        min=low,
        max=high,
        preview=preview,
    )


def _changed_variables(namespace: dict[str, Any]) -> tuple[list[VariableSummary], int]:
    summaries: list[VariableSummary] = []
    omitted = 0
    current: dict[str, tuple[object, ...]] = {}
    for name, value in list(namespace.items()):
        if not _reportable(name, value):
            continue
        current[name] = _signature(value)
        if _State.signatures.get(name) == current[name]:
            continue
        if len(summaries) < _MAX_VARIABLES:
            summaries.append(_summary(name, value))
        else:
            omitted += 1
    _State.signatures = current
    return summaries, omitted


# ------------------------------------------------------------------------------------------------ hooks


def _cell_lineno(error: BaseException | None) -> int | None:
    if error is None:
        return None
    if isinstance(error, SyntaxError):
        return error.lineno
    for frame_tb in _walk(error.__traceback__):
        code = frame_tb.tb_frame.f_code
        if code.co_name == "<module>" and _is_cell_file(code.co_filename):
            return frame_tb.tb_lineno
    return None


def _walk(tb: TracebackType | None) -> Iterator[TracebackType]:
    while tb is not None:
        yield tb
        tb = tb.tb_next


def _is_cell_file(filename: str) -> bool:
    return "ipykernel_" in filename or filename.startswith("<ipython-input") or filename.startswith("<cell")


def _pre_run_cell(info: object) -> None:
    _State.images = []
    _State.images_dropped = 0
    _State.answer = None


def _post_run_cell(result: Any) -> None:
    shell = _shell()
    error = result.error_before_exec or result.error_in_exec
    variables, omitted = _changed_variables(shell.user_ns)
    report = CellReport(
        variables=tuple(variables),
        variables_omitted=omitted,
        images=tuple(_State.images),
        images_dropped=_State.images_dropped,
        answer=_State.answer,
        error_lineno=_cell_lineno(error),
    )
    shell.display_pub.publish(data={REPORT_MIME: msgspec.json.encode(report).decode()}, metadata={})


def _shell() -> Any:
    from IPython import get_ipython

    return get_ipython()


# ---------------------------------------------------------------------------------------------- install


_setup_decoder = msgspec.msgpack.Decoder(KernelSetup)  # built once, in the template, before any fork


def _read_setup() -> KernelSetup:
    path = os.path.join(os.environ.get("CLAW_KERNEL_DIR", "."), "setup.msgpack")
    with open(path, "rb") as handle:
        return _setup_decoder.decode(handle.read())


def _tool_names() -> dict[str, object]:
    if _State.tools_error is not None:
        raise ImportError(f"the tool package failed to import: {_State.tools_error}")
    tools = importlib.import_module("claw.tools")
    bound: dict[str, object] = {"tools": tools}
    bound.update({name: getattr(tools, name) for name in _TOOL_NAMES if hasattr(tools, name)})
    return bound


def _optional_module(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def prepare() -> None:
    """Episode-independent set-up, run once per kernel before it is lent (keeps checkout to one fast cell):
    resolve the optional VLM bridge and perception client, and register the per-cell report hooks."""
    _State.vlm_module = _optional_module("claw.tools.vlm")
    client = _optional_module("claw.tools._client")
    configure = getattr(client, "configure", None) if client is not None else None
    _State.configure = configure
    _State.configure_fps = configure is not None and "fps" in inspect.signature(configure).parameters
    events = _shell().events
    _register(events, "pre_run_cell", _pre_run_cell)
    _register(events, "post_run_cell", _post_run_cell)
    _State.prepared = True


def _configure_client(setup: KernelSetup, metadata: MetadataInfo) -> None:
    if _State.configure is None:
        return
    options: dict[str, object] = {
        "socket": setup.perception_socket,
        "url": setup.perception_url,
        "token": setup.perception_token,
        "scene": metadata.extra.get("scene"),
    }
    if _State.configure_fps:
        options["fps"] = metadata.fps
    _State.configure(**options)


def _vlm(setup: KernelSetup) -> object:
    module = _State.vlm_module
    if module is None:
        return _VlmUnavailable()
    configure = getattr(module, "configure", None)
    if configure is not None:
        configure(socket=setup.vlm_socket)
    return module


def _frame_names(setup: KernelSetup) -> dict[str, FrameList]:
    per_video = [_frames_of(video) for video in setup.videos]
    names = {"InputImages": FrameList(frame for frames in per_video for frame in frames)}
    if len(per_video) > 1:
        names.update({f"InputImages_{i + 1}": frames for i, frames in enumerate(per_video)})
    return names


def _namespace(setup: KernelSetup) -> dict[str, object]:
    import matplotlib.pyplot as plt
    import scipy

    metadata = _metadata(setup)
    _configure_client(setup, metadata)
    names: dict[str, object] = {"np": np, "math": math, "scipy": scipy, "plt": plt, "Metadata": metadata}
    names.update(_frame_names(setup))
    names.update(_tool_names())
    names.update({"show": show, "ReturnAnswer": ReturnAnswer, "vlm": _vlm(setup)})
    return names


def install() -> None:
    """Bind the kernel API for this kernel's episode and register the per-cell report hooks.

    Raises:
        OSError: the setup file is missing.
        ImportError: the tool package cannot be imported.
    """
    if not _State.prepared:
        prepare()
    setup = _read_setup()
    _State.max_images = setup.max_images_per_step
    _State.answer_format = setup.answer_format
    _State.options = setup.options
    shell = _shell()
    shell.user_ns.update(_namespace(setup))
    _State.hidden = frozenset(shell.user_ns) | {"In", "Out", "exit", "quit", "get_ipython"}
    _State.signatures = {}


def _register(events: Any, name: str, callback: Callable[..., None]) -> None:
    if callback not in events.callbacks[name]:
        events.register(name, callback)
