"""The AST policy: early, readable feedback on a model-written cell before it runs.

An allow-list of importable modules; no dunder or private (`_x`) attribute access; no names that reach
the interpreter's machinery (`eval`, `exec`, `compile`, `open`, `__import__`, `getattr`, `setattr`,
`globals`, `vars`, `get_ipython`, …); no file-writing or process-spawning methods (`tofile`, `savefig`,
`savetxt`, `write`, `system`, …); no frame, generator or code-object introspection. Each rule is one
small method of one `ast.NodeVisitor`; the first violation (in source order) comes back as a
`Violation` naming the rule, the line and what is allowed. This check is a courtesy to the model, not
the security boundary: the OS confinement of every kernel is.
"""

from __future__ import annotations

import ast

import msgspec

__all__ = ["ALLOWED_MODULES", "Violation", "check_cell"]

ALLOWED_MODULES = frozenset(
    {
        "bisect", "cmath", "collections", "copy", "dataclasses", "datetime", "decimal", "enum", "fractions",
        "functools", "heapq", "itertools", "json", "math", "numpy", "operator", "random", "re", "scipy",
        "statistics", "string", "textwrap", "typing", "claw.tools", "PIL.Image", "PIL.ImageDraw",
    }
)  # fmt: skip
"""Top-level modules (or exact dotted modules) a cell may import."""

_DENIED_SUBMODULES = frozenset(
    {"scipy.io", "numpy.ctypeslib", "numpy.f2py", "numpy.distutils", "numpy.testing"}
)
_FORBIDDEN_NAMES = frozenset(
    {
        "eval", "exec", "compile", "open", "getattr", "setattr", "delattr", "globals", "locals",
        "vars", "breakpoint", "input", "help", "memoryview", "get_ipython", "exit", "quit",
    }
)  # fmt: skip
_FILE_METHODS = frozenset(
    {
        "tofile", "save", "savez", "savez_compressed", "savetxt", "savefig", "imsave", "imwrite", "to_csv",
        "to_json", "to_parquet", "to_pickle", "dump", "write", "writelines", "write_text", "write_bytes",
        "memmap", "open_memmap", "fromfile", "mkdir", "makedirs", "remove", "unlink", "rmdir", "rename",
        "replace_file", "system", "popen", "fork", "kill", "spawn", "execv", "execve", "open",
        "DataSource", "load", "loadtxt", "genfromtxt", "fromregex", "ctypeslib", "f2py", "distutils",
        "format_map", "savemat", "mmwrite", "hb_write",
    }
)  # fmt: skip
_DENIED_ATTRIBUTES = frozenset(
    {"io", "ctypeslib", "f2py", "distutils", "os", "sys", "subprocess", "builtins"}
)
_INTROSPECTION = frozenset(
    {
        "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await", "ag_frame", "ag_code",
        "f_back", "f_globals", "f_locals", "f_builtins", "f_code", "tb_frame", "tb_next", "co_code",
        "co_consts", "co_names",
    }
)  # fmt: skip
_ALLOWED_TEXT = (
    "math, numpy, scipy (not scipy.io), collections, itertools, functools, statistics, re, json, random…"
)


class Violation(msgspec.Struct, frozen=True, kw_only=True):
    """Why a cell was rejected; becomes the model's observation."""

    rule: str
    """Stable rule id: syntax, import, dunder, private, forbidden-name, file-io, introspection, format."""
    lineno: int
    col: int
    message: str
    """What was wrong (the renderer adds `line N:` from `lineno`)."""
    hint: str = ""
    """What to do instead."""


class _Found(Exception):
    def __init__(self, violation: Violation) -> None:
        super().__init__(violation.message)
        self.violation = violation


def _violation(node: ast.AST, rule: str, what: str, hint: str) -> _Found:
    lineno = getattr(node, "lineno", 1)
    col = getattr(node, "col_offset", 0)
    return _Found(Violation(rule=rule, lineno=lineno, col=col, message=what, hint=hint))


def _module_allowed(name: str) -> bool:
    if any(name == denied or name.startswith(denied + ".") for denied in _DENIED_SUBMODULES):
        return False
    return any(name == allowed or name.startswith(allowed + ".") for allowed in ALLOWED_MODULES)


class _Policy(ast.NodeVisitor):
    """One method per node type; each raises `_Found` on the first violation it sees."""

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._check_module(node, alias.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or node.module is None:
            hint = f"import from: {_ALLOWED_TEXT}"
            raise _violation(node, "import", "relative imports are not allowed", hint)
        for alias in node.names:
            if alias.name == "*":
                raise _violation(node, "import", "`import *` is not allowed", "import the names you need")
            self._check_attribute_name(node, alias.name)
            dotted = f"{node.module}.{alias.name}"
            self._check_module_member(node, dotted)
            if not _module_allowed(dotted):
                self._check_module(node, node.module)

    def _check_module_member(self, node: ast.AST, dotted: str) -> None:
        if any(dotted == denied or dotted.startswith(denied + ".") for denied in _DENIED_SUBMODULES):
            raise _violation(
                node, "import", f"import of {dotted!r} is not allowed", f"allowed: {_ALLOWED_TEXT}"
            )

    def _check_module(self, node: ast.AST, name: str) -> None:
        for part in name.split("."):
            self._check_attribute_name(node, part)
        if not _module_allowed(name):
            hint = f"allowed modules: {_ALLOWED_TEXT}; np, scipy, plt, tools and math are already imported"
            raise _violation(node, "import", f"import of {name!r} is not allowed", hint)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self._check_attribute_name(node, node.attr)
        if node.attr in _DENIED_ATTRIBUTES:
            hint = "cells cannot touch files or processes: use print() for values and show(image) for images"
            raise _violation(node, "file-io", f"attribute `.{node.attr}` is not allowed", hint)
        if node.attr in _INTROSPECTION:
            hint = "frame, generator and code objects are off limits; work with values directly"
            raise _violation(node, "introspection", f"attribute `.{node.attr}` is not allowed", hint)
        self.generic_visit(node)

    def _check_attribute_name(self, node: ast.AST, name: str) -> None:
        if name.startswith("__") and name.endswith("__") and len(name) > 4:
            hint = "use the public API (e.g. type(x).__name__ → type(x), len(x), x.shape)"
            raise _violation(node, "dunder", f"dunder attribute `{name}` is not allowed", hint)
        if name.startswith("_") and name != "_":
            raise _violation(
                node, "private", f"private attribute `{name}` is not allowed", "use public names"
            )

    def visit_Name(self, node: ast.Name) -> None:
        if node.id.startswith("__") and node.id.endswith("__"):
            raise _violation(node, "dunder", f"dunder name `{node.id}` is not allowed", "use ordinary names")
        if node.id in _FORBIDDEN_NAMES:
            hint = "call functions directly and read attributes with a dot; files and eval are unavailable"
            raise _violation(node, "forbidden-name", f"`{node.id}` is not allowed", hint)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in _FILE_METHODS:
            hint = "cells cannot touch files or processes: use print() for values and show(image) for images"
            raise _violation(node, "file-io", f"`.{func.attr}(...)` is not allowed", hint)
        if isinstance(func, ast.Attribute) and func.attr == "format" and _has_dunder_text(func.value):
            raise _violation(
                node, "format", "format strings may not reach dunder attributes", "use f-strings"
            )
        self.generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._check_definition(node, node.name)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._check_definition(node, node.name)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._check_definition(node, node.name)

    def _check_definition(self, node: ast.AST, name: str) -> None:
        if name.startswith("__") and name.endswith("__"):
            raise _violation(node, "dunder", f"defining `{name}` is not allowed", "use an ordinary name")
        self.generic_visit(node)


def _has_dunder_text(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and "__" in node.value


def check_cell(code: str) -> Violation | None:
    """Check a model-written cell against the policy.

    Returns:
        None when the cell may run, else the first `Violation` in source order.
    """
    try:
        tree = ast.parse(code, mode="exec")
    except SyntaxError as exc:
        return _syntax_violation(exc)
    try:
        _Policy().visit(tree)
    except _Found as found:
        return found.violation
    except RecursionError:
        return Violation(
            rule="syntax", lineno=1, col=0, message="the cell is nested too deeply", hint="simplify"
        )
    return None


def _syntax_violation(exc: SyntaxError) -> Violation:
    lineno = exc.lineno or 1
    text = (exc.text or "").strip()
    hint = "write plain Python; IPython magics (%...) and shell commands (!...) are not available"
    message = f"syntax error: {exc.msg}" + (f" in `{text[:80]}`" if text else "")
    return Violation(rule="syntax", lineno=lineno, col=(exc.offset or 1) - 1, message=message, hint=hint)
