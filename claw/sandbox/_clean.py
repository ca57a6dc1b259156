"""`CleanCheck`: decides from its cells' source whether an episode provably left its kernel clean, so the
pool may reset and lend the kernel again instead of killing it and forking a new one.

The rule is a data-flow argument, not a blacklist. A cell is *contained* when it parses as plain Python
(no IPython syntax) and every name it reads was *definitely* bound before, by the episode's own contained
code: an unconditional assignment earlier in the cell or in an earlier contained cell, a `for` target
inside its loop, a comprehension target inside it (a name bound only inside an `if` or a loop body does not
count after it). It may use literals, arithmetic, comparisons, boolean and conditional expressions,
f-strings, container displays, subscripts, slices and comprehensions; assign to names (never one starting
with `_` or a capital, a pure builtin's or the kernel's own) and to subscripts of bound names;
`if`/`for`/`while`/`pass`/`break`/`continue`; call, without keywords, a few pure builtins (`print`, `len`,
`range`, …); and call `ReturnAnswer(...)` as a statement. No attribute access, import, definition,
deletion, `with`, `try`, `global`, lambda or walrus. Every value such a cell reaches is then a builtin value
it made itself, so all it can change is the user namespace, IPython's history and the answer: exactly what
the reset cell (`claw.tools._reuse.reset_episode`) puts back. Any other cell makes the kernel unfit.
"""

from __future__ import annotations

import ast

__all__ = ["CleanCheck"]

PURE_CALLS = frozenset(
    {"print", "len", "range", "min", "max", "sum", "abs", "round", "int", "float", "str", "bool"}
    | {"sorted", "list", "tuple", "dict", "set", "enumerate", "zip", "divmod", "pow"}
)
ANSWER = "ReturnAnswer"
_KERNEL_NAMES = frozenset({"exit", "quit", "get_ipython", "display"})
_LEAVES = (ast.Constant, ast.Pass, ast.Break, ast.Continue)
_COMPOSITES: tuple[type[ast.AST], ...] = (
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.JoinedStr,
    ast.FormattedValue,
)
_COMPOSITES += (ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Subscript, ast.Slice, ast.Starred)
_CONTEXTS = (ast.Load, ast.Store, ast.operator, ast.unaryop, ast.boolop, ast.cmpop)


class CleanCheck:
    """Feed it every cell an episode runs, in order; `clean` says whether all of them were contained."""

    def __init__(self) -> None:
        self.clean = True
        self._bound: set[str] = set()

    def admit(self, code: str) -> bool:
        """Record one cell; return whether the kernel is still provably clean."""
        if not self.clean:
            return False
        try:
            tree = ast.parse(code)
        except (SyntaxError, ValueError):
            self.clean = False  # IPython syntax (magics, shell escapes, help) or not Python at all
            return False
        bound = set(self._bound)
        self.clean = _block(tree.body, bound)
        if self.clean:
            self._bound = bound
        return self.clean


def _reserved(name: str) -> bool:
    special = name in PURE_CALLS or name in _KERNEL_NAMES or name == ANSWER
    return special or name.startswith("_") or name[:1].isupper()


def _block(statements: list[ast.stmt], bound: set[str]) -> bool:
    """Whether every statement is contained, in order; `bound` gains the names they definitely bind."""
    return all(_statement(statement, bound) for statement in statements)


def _statement(node: ast.stmt, bound: set[str]) -> bool:
    if isinstance(node, ast.Expr):
        call = node.value
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == ANSWER:
            return not call.keywords and all(_expression(arg, bound) for arg in call.args)
        return _expression(call, bound)
    if isinstance(node, ast.Assign):
        names: set[str] = set()
        fine = _expression(node.value, bound) and all(_target(t, bound, names) for t in node.targets)
        bound |= names
        return fine
    if isinstance(node, ast.AugAssign):
        return (
            _target(node.target, bound, set())
            and _expression(node.target, bound)
            and _expression(node.value, bound)
        )
    if isinstance(node, ast.If | ast.While):
        return (
            _expression(node.test, bound)
            and _block(node.body, set(bound))
            and _block(node.orelse, set(bound))
        )
    if isinstance(node, ast.For):
        inner: set[str] = set()
        fine = _expression(node.iter, bound) and _target(node.target, bound, inner)
        return fine and _block(node.body, bound | inner) and _block(node.orelse, set(bound))
    return isinstance(node, _LEAVES)


def _target(node: ast.expr, bound: set[str], names: set[str]) -> bool:
    """An assignment target: a free name (added to `names`), a subscript of a bound one, or a sequence."""
    if isinstance(node, ast.Name):
        names.add(node.id)
        return not _reserved(node.id)
    if isinstance(node, ast.Subscript):
        return _expression(node.value, bound) and _expression(node.slice, bound)
    if isinstance(node, ast.Tuple | ast.List):
        return all(_target(element, bound, names) for element in node.elts)
    return False


def _expression(node: ast.AST, bound: set[str]) -> bool:
    if isinstance(node, ast.Name):
        return node.id in bound
    if isinstance(node, ast.Call):
        pure = isinstance(node.func, ast.Name) and node.func.id in PURE_CALLS and not node.keywords
        return pure and all(_expression(arg, bound) for arg in node.args)
    if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
        return _comprehension(node, bound)
    if isinstance(node, _COMPOSITES):
        return all(_expression(child, bound) for child in ast.iter_child_nodes(node))
    return isinstance(node, (ast.Constant, *_CONTEXTS))


def _comprehension(
    node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp, bound: set[str]
) -> bool:
    scope = set(bound)
    for generator in node.generators:
        names: set[str] = set()
        if generator.is_async or not _expression(generator.iter, scope):
            return False
        if not _target(generator.target, scope, names):
            return False
        scope |= names
        if not all(_expression(condition, scope) for condition in generator.ifs):
            return False
    parts = [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
    return all(_expression(part, scope) for part in parts)
