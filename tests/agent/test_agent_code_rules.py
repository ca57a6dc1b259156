"""The code rules the system prompt states hold in a real confined kernel: what reaches the model (printed
output and a bare last-line expression), and the modules it says are there or may be imported."""

from __future__ import annotations

from pathlib import Path

import pytest

from claw.agent import prompts
from claw.sandbox import KernelPool, check_cell
from tests.sandbox.conftest import TEST_CONFIG, make_setup, pool_in_task

RULES = prompts.agent_system_prompt(30).split("## Code rules", 1)[1].split("\n## ", 1)[0]


@pytest.fixture
def frames(tmp_path: Path) -> Path:
    import numpy as np
    from PIL import Image

    tmp_path.chmod(0o755)
    for i in range(2):
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / f"f{i}.png")
        (tmp_path / f"f{i}.png").chmod(0o644)
    return tmp_path


PREIMPORTED = "print(np.pi == math.pi, scipy.ndimage.median([1, 5, 2]), len(plt.get_fignums()))"
IMPORTS = (
    "import collections, itertools, statistics\nimport scipy.ndimage\nfrom PIL import Image, ImageDraw\n"
    "print(statistics.median([3, 1, 2]), len(list(itertools.permutations('ab'))))"
)
CELLS = [
    # (words of the rule, cell, exact output)
    ("a bare expression on a cell's last line", "x = 41\nprint('printed')\nx + 1", "printed\n42\n"),
    ("np, math, scipy and plt are already imported", PREIMPORTED, "True 2.0 0\n"),
    ("collections,\n  itertools, statistics, scipy submodules, PIL", IMPORTS, "2 2\n"),
]


async def test_the_code_rules_hold_in_a_confined_kernel(frames: Path) -> None:
    pool = KernelPool(TEST_CONFIG, size=1, max_stdout_chars=400)
    async with pool_in_task(pool), pool.checkout(make_setup(frames)) as kernel:
        for words, cell, output in CELLS:
            assert words in RULES, words
            assert check_cell(cell) is None, (cell, check_cell(cell))
            result = await kernel.execute(cell, timeout=120)
            assert (result.status, result.stdout) == ("ok", output), (cell, result.error)
