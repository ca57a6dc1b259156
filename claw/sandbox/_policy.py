"""The AST policy: early, readable feedback on a model-written cell before it runs.

It rejects only what reaches files, processes or the interpreter's machinery: imports outside an
allow-list (`_modules`), an allowed module's attribute that is itself a module outside it (`plt.importlib`,
`enum.bltns`), dunder or private (`_x`) attribute access, names that reach the interpreter (`eval`,
`exec`, `compile`, `open`, `__import__`, `globals`, `vars`, `get_ipython`, …), `getattr`/`setattr` with
anything but a literal public attribute name, file-writing or process-spawning methods (`tofile`,
`savefig`, `savetxt`, `system`, …) and frame, generator or code-object introspection. Each rule is one
small method of one `ast.NodeVisitor`; the first violation (in source order) comes back as a `Violation`
naming the rule, the line and what is allowed. This check is a courtesy to the model, not the security
boundary: the OS confinement of every kernel is.
"""

from __future__ import annotations

import ast

import msgspec

from claw.sandbox._modules import (
    ALLOWED_MODULES,
    ALLOWED_TEXT,
    PREBOUND_MODULES,
    attribute_module,
    module_allowed,
)

__all__ = ["ALLOWED_MODULES", "Violation", "check_cell"]

_FORBIDDEN_NAMES = frozenset(
    {
        "eval", "exec", "compile", "open", "delattr", "globals", "locals", "vars", "breakpoint", "input",
        "help", "get_ipython", "exit", "quit",
    }
)  # fmt: skip
_LITERAL_NAME_CALLS = frozenset({"getattr", "setattr", "hasattr"})
"""Allowed only with a literal public attribute name (then they are `obj.name` written differently)."""
_FILE_METHODS = frozenset(
    {
        "tofile", "save", "savez", "savez_compressed", "savetxt", "savefig", "imsave", "imwrite", "to_csv",
        "to_json", "to_parquet", "to_pickle", "dump", "write", "writelines", "write_text", "write_bytes",
        "memmap", "open_memmap", "fromfile", "mkdir", "makedirs", "unlink", "rmdir", "rename",
        "system", "popen", "fork", "kill", "spawn", "execv", "execve", "open", "DataSource", "load",
        "loadtxt", "genfromtxt", "fromregex", "ctypeslib", "f2py", "distutils", "format_map", "savemat",
        "mmwrite", "hb_write",
    }
)  # fmt: skip
_DENIED_ATTRIBUTES = frozenset(
    {"io", "ctypeslib", "f2py", "distutils", "os", "sys", "subprocess", "builtins", "importlib"}
)
_INTROSPECTION = frozenset(
    {
        "gi_frame", "gi_code", "gi_yieldfrom", "cr_frame", "cr_code", "cr_await", "ag_frame", "ag_code",
        "f_back", "f_globals", "f_locals", "f_builtins", "f_code", "tb_frame", "tb_next", "co_code",
        "co_consts", "co_names",
    }
)  # fmt: skip
_FILES_HINT = "cells cannot touch files or processes: use print() for values and show(image) for images"


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


class _Policy(ast.NodeVisitor):
    """One method per node type; each raises `_Found` on the first violation it sees.

    `modules` maps the names that hold a module (pre-bound ones and the cell's own imports) to the
    module's name, so attribute chains rooted at them can be resolved.
    """

    def __init__(self) -> None:
        self.modules = dict(PREBOUND_MODULES)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._check_module(node, alias.name)
            if alias.asname is not None:
                self.modules[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                self.modules[top] = top

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level or node.module is None:
            hint = f"import from: {ALLOWED_TEXT}"
            raise _violation(node, "import", "relative imports are not allowed", hint)
        self._check_module(node, node.module)
        for alias in node.names:
            if alias.name == "*":
                raise _violation(node, "import", "`import *` is not allowed", "import the names you need")
            self._check_attribute_name(node, alias.name)
            target = attribute_module(node.module, alias.name)
            if target is not None:
                self._check_reached_module(node, f"{node.module}.{alias.name}", target)
                self.modules[alias.asname or alias.name] = target

    def _check_module(self, node: ast.AST, name: str) -> None:
        for part in name.split("."):
            self._check_attribute_name(node, part)
        if not module_allowed(name):
            hint = f"allowed modules: {ALLOWED_TEXT}; np, scipy, plt, tools and math are already imported"
            raise _violation(node, "import", f"import of {name!r} is not allowed", hint)

    def _check_reached_module(self, node: ast.AST, path: str, module: str) -> None:
        if not module_allowed(module):
            what = f"`{path}` is the module {module!r}, which cells may not use"
            raise _violation(node, "import", what, f"allowed modules: {ALLOWED_TEXT}")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self._check_attribute_name(node, node.attr)
        if node.attr in _DENIED_ATTRIBUTES:
            raise _violation(node, "file-io", f"attribute `.{node.attr}` is not allowed", _FILES_HINT)
        if node.attr in _INTROSPECTION:
            hint = "frame, generator and code objects are off limits; work with values directly"
            raise _violation(node, "introspection", f"attribute `.{node.attr}` is not allowed", hint)
        self._check_module_chain(node)
        self.generic_visit(node)

    def _check_module_chain(self, node: ast.Attribute) -> None:
        """`a.b.c` rooted at a module name: every step that is a module must be an allowed one."""
        chain = _chain(node)
        if chain is None or chain[0] not in self.modules:
            return
        module, path = self.modules[chain[0]], chain[0]
        for attribute in chain[1:]:
            path = f"{path}.{attribute}"
            reached = attribute_module(module, attribute)
            if reached is None:
                return
            self._check_reached_module(node, path, reached)
            module = reached

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
        if node.id in _LITERAL_NAME_CALLS and not getattr(node, "claw_literal_call", False):
            hint = f"call {node.id}(obj, 'name') with a literal attribute name, or use obj.name"
            raise _violation(node, "forbidden-name", f"`{node.id}` needs a literal attribute name", hint)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in _FILE_METHODS:
            raise _violation(node, "file-io", f"`.{func.attr}(...)` is not allowed", _FILES_HINT)
        if isinstance(func, ast.Attribute) and func.attr == "format" and _has_dunder_text(func.value):
            raise _violation(
                node, "format", "format strings may not reach dunder attributes", "use f-strings"
            )
        if isinstance(func, ast.Name) and func.id in _LITERAL_NAME_CALLS:
            self._check_literal_call(node, func)
        self.generic_visit(node)

    def _check_literal_call(self, node: ast.Call, func: ast.Name) -> None:
        """`getattr(obj, "name"[, default])` is `obj.name`: allowed when "name" is a literal public name."""
        if len(node.args) < 2 or node.keywords:
            return
        name = node.args[1]
        if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
            return
        attribute = ast.Attribute(value=node.args[0], attr=name.value, ctx=ast.Load())
        ast.copy_location(attribute, node)
        self.visit_Attribute(attribute)
        func.claw_literal_call = True  # type: ignore[attr-defined]  # the visit of `func` lets it pass

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


def _chain(node: ast.Attribute) -> list[str] | None:
    """`a.b.c` as ["a", "b", "c"], or None when the chain does not start at a plain name."""
    names: list[str] = []
    current: ast.expr = node
    while isinstance(current, ast.Attribute):
        names.append(current.attr)
        current = current.value
    if not isinstance(current, ast.Name):
        return None
    names.append(current.id)
    return names[::-1]


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
