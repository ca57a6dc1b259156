"""The kernel side loads only what a kernel uses: importing the kernel bootstrap (`claw.tools._runtime`, the
module the template pre-imports and every kernel runs) pulls in neither the sandbox host (`claw.sandbox`,
with its pool, `zmq` and `jupyter_client`) nor the runtime or the model client.
"""

from __future__ import annotations

import json
import subprocess
import sys

_PROBE = """
import json, sys
import claw.tools._runtime
print(json.dumps(sorted(sys.modules)))
"""

_FORBIDDEN = ("claw.sandbox", "claw.runtime", "claw.llm", "zmq", "jupyter_client")


def _modules_after_bootstrap_import() -> list[str]:
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=300
    )
    modules: list[str] = json.loads(completed.stdout)
    return modules


def test_kernel_bootstrap_loads_no_host_side_package() -> None:
    modules = _modules_after_bootstrap_import()
    assert "claw.tools._runtime" in modules
    assert "claw.wire.kernel" in modules
    loaded = [name for name in modules if any(name == p or name.startswith(p + ".") for p in _FORBIDDEN)]
    assert loaded == []
