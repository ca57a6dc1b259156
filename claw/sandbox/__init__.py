"""The kernel sandbox: `KernelPool` (warm, confined kernels forked from a pre-imported template, one per
episode), `check_cell` (the AST policy that gives early, readable feedback) and the `Kernel` protocol in
`claw.sandbox.types` (the records a kernel takes and returns are in `claw.wire.kernel`). OS confinement, not
the AST check, is the security boundary.
"""

from __future__ import annotations

from claw.sandbox._policy import Violation, check_cell
from claw.sandbox._pool import KernelPool
from claw.sandbox.types import PoolStatistics

__all__ = ["KernelPool", "PoolStatistics", "Violation", "check_cell"]
