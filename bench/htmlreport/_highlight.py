"""Python syntax highlighting for the report, built on the standard library's tokenizer: each token is
wrapped in a `<span>` whose class names its kind (keyword, builtin, string, number, comment, def name).
Code the tokenizer cannot read to the end (a model's cell may be cut off) keeps what was read highlighted
and the rest escaped as plain text."""

from __future__ import annotations

import builtins
import html
import io
import keyword
import tokenize
from collections.abc import Iterator

__all__ = ["highlight_python"]

_BUILTINS = frozenset(name for name in dir(builtins) if not name.startswith("_"))
_SKIPPED = {tokenize.ENCODING, tokenize.ENDMARKER}


def _css_class(token: tokenize.TokenInfo, previous: str) -> str:
    kind, text = token.type, token.string
    if kind == tokenize.NAME:
        if keyword.iskeyword(text) or keyword.issoftkeyword(text):
            return "kw"
        if previous in ("def", "class"):
            return "fn"
        return "bi" if text in _BUILTINS else ""
    if kind == tokenize.STRING or kind in _FSTRING_KINDS:
        return "st"
    return {tokenize.NUMBER: "nu", tokenize.COMMENT: "co"}.get(kind, "")


_FSTRING_NAMES = ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END")  # Python 3.12+ tokenizes f-strings
_FSTRING_KINDS = {getattr(tokenize, n) for n in _FSTRING_NAMES if hasattr(tokenize, n)}


def _offsets(code: str) -> list[int]:
    starts, total = [0], 0
    for line in code.splitlines(keepends=True):
        total += len(line)
        starts.append(total)
    return starts


def _tokens(code: str) -> Iterator[tokenize.TokenInfo]:
    """The tokens of `code` up to the first one the tokenizer cannot read (a cut-off cell)."""
    try:
        yield from tokenize.generate_tokens(io.StringIO(code).readline)
    except (tokenize.TokenError, SyntaxError):
        return


def highlight_python(code: str) -> str:
    """`code` as escaped HTML with highlighting spans (no enclosing `<pre>`)."""
    starts = _offsets(code)
    out: list[str] = []
    position, previous = 0, ""
    for token in _tokens(code):
        if token.type in _SKIPPED or not token.string:
            continue
        begin = starts[token.start[0] - 1] + token.start[1]
        end = starts[token.end[0] - 1] + token.end[1]
        out.append(html.escape(code[position:begin]))
        css = _css_class(token, previous)
        text = html.escape(code[begin:end])
        out.append(f'<span class="{css}">{text}</span>' if css else text)
        position = end
        if token.type == tokenize.NAME:
            previous = token.string
    out.append(html.escape(code[position:]))
    return "".join(out)
