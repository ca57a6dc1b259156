"""claw: a training-free spatial-reasoning agent whose action interface is code, and the async runtime
that evaluates it at scale.

The embeddable API is re-exported here; everything else lives in subpackages.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
