"""The AST policy: what passes, one rejected case per rule, and what a violation says."""

from __future__ import annotations

import anyio
import pytest

from claw.sandbox import Violation, check_cell
from claw.sandbox._modules import warm_up

ALLOWED = [
    "x = np.zeros((3, 3)); print(x.mean())",
    "import numpy as np\nfrom scipy.spatial import cKDTree\nimport math, itertools, collections",
    "recon = tools.Reconstruct(InputImages)\nd = recon.depth[InputImages[0].index]",
    "seg = SAM3(InputImages[:2], text='chair')\nprint(seg.count(InputImages[0].index))",
    "def area(m):\n    return int(m.sum())\nclass Box:\n    @property\n    def w(self):\n        return 1",
    "show(plt.figure(), caption='plot')\nReturnAnswer('B')",
    "values = [v ** 2 for v in range(10) if v % 2]\nprint(f'{values!r}', type(values), hasattr(values, 'x'))",
    "from PIL import Image\nimg = Image.fromarray(InputImages[0].array)",
]

REJECTED = [
    ("import os", "import"),
    ("from subprocess import run", "import"),
    ("import scipy.io", "import"),
    ("from scipy import io", "import"),
    ("from . import x", "import"),
    ("from numpy import *", "import"),
    ("import claw.tools._client", "private"),
    ("x = ().__class__", "dunder"),
    ("print(__builtins__)", "dunder"),
    ("def __init__(self): pass", "dunder"),
    ("tools._client.configure()", "private"),
    ("eval('1+1')", "forbidden-name"),
    ("f = exec", "forbidden-name"),
    ("open('/etc/passwd').read()", "forbidden-name"),
    ("getattr(np, name)", "forbidden-name"),
    ("getattr(x, '__class__')", "dunder"),
    ("plt.importlib.import_module('os')", "import"),
    ("import enum\nenum.bltns.open", "import"),
    ("from enum import bltns", "import"),
    ("plt.logging.handlers.socket", "import"),
    ("import PIL.ImageShow", "import"),
    ("shell = get_ipython", "forbidden-name"),
    ("get_ipython().system('ls')", "file-io"),
    ("vars(np)", "forbidden-name"),
    ("np.save('/tmp/x.npy', a)", "file-io"),
    ("a.tofile('/tmp/x')", "file-io"),
    ("plt.savefig('/tmp/x.png')", "file-io"),
    ("np.savetxt('x.txt', a)", "file-io"),
    ("scipy.io.savemat('x.mat', {})", "file-io"),
    ("g = (i for i in [1]); f = g.gi_frame", "introspection"),
    ("tb.tb_frame.f_globals", "introspection"),
    ("'{0.__class__}'.format(1)", "format"),
    ("%time x = 1", "syntax"),
    ("!ls /", "syntax"),
    ("def f(:\n  pass", "syntax"),
]


@pytest.mark.parametrize("code", ALLOWED)
def test_ordinary_cells_pass(code: str) -> None:
    assert check_cell(code) is None


@pytest.mark.parametrize(("code", "rule"), REJECTED)
def test_each_rule_rejects(code: str, rule: str) -> None:
    violation = check_cell(code)
    assert violation is not None
    assert violation.rule == rule


def test_violation_names_line_and_what_is_allowed() -> None:
    violation = check_cell("x = 1\ny = 2\nimport socket\n")
    assert isinstance(violation, Violation)
    assert (violation.rule, violation.lineno) == ("import", 3)
    assert "socket" in violation.message and "not allowed" in violation.message
    assert "numpy" in violation.hint


def test_first_violation_in_source_order_wins() -> None:
    violation = check_cell("a = 1\neval('2')\nimport os\n")
    assert violation is not None
    assert (violation.rule, violation.lineno) == ("forbidden-name", 2)


def test_deep_nesting_is_a_violation_not_a_crash() -> None:
    violation = check_cell("x = " + "(" * 400 + "1" + ")" * 400)
    assert violation is None or violation.rule == "syntax"


async def test_module_chains_resolve_on_an_event_loop_after_warm_up() -> None:
    # On a running loop the policy never imports (an import blocks); the pool warms the pre-bound modules.
    await anyio.to_thread.run_sync(warm_up)
    violation = check_cell("plt.importlib.import_module('subprocess')")
    assert violation is not None and "importlib" in violation.message
    assert check_cell("import matplotlib.pyplot as plt\nfig, ax = plt.subplots()") is None
