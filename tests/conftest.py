"""Repository-wide test fixtures: every test runs under blockbuster, which fails it on any blocking call
(sleep, sync file or socket I/O) made while an event loop is running in the test's thread (STYLE E14).

Narrow exceptions, each a third-party internal we cannot move off the loop:
- a library reading its own package metadata on a lazy first import (`importlib.metadata.version`, e.g.
  httpcore when `openai.AsyncOpenAI` builds its transport): a one-time read of an installed file;
- a logged exception's traceback being rendered (structlog's console renderer via rich, or the stdlib
  `traceback`/`linecache`), which stats and reads the source files named in the traceback;
- anyio's `create_unix_listener`, which stats (and unlinks a stale) socket path before binding;
- a test marked `@pytest.mark.allow_blocking("why")` runs without the guard: only for an async test whose
  point is a blocking call, saying why (no test needs it today).
Plain sync tests (a synchronous client, the subprocess-driven e2e runs) need no
exception: blockbuster only objects while an event loop is running in the calling thread.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from blockbuster import BlockBuster, blockbuster_ctx

_READS = ("io.TextIOWrapper.read", "io.BufferedReader.read", "os.stat")
# (blocking functions, file, functions in that file that may call them)
_ALLOWED = (
    (_READS, "importlib/metadata/__init__.py", {"version"}),
    (_READS, "rich/traceback.py", {"_render_stack"}),
    (_READS, "linecache.py", {"updatecache", "checkcache"}),
    (("os.stat", "os.unlink"), "anyio/_core/_sockets.py", {"setup_unix_local_socket"}),
)


@pytest.fixture(autouse=True)
def blockbuster(request: pytest.FixtureRequest) -> Iterator[BlockBuster | None]:
    """Fail the test on any blocking call on the event loop, unless it is marked `allow_blocking`."""
    if request.node.get_closest_marker("allow_blocking") is not None:
        yield None
        return
    with blockbuster_ctx() as bb:
        for names, filename, functions in _ALLOWED:
            for name in names:
                bb.functions[name].can_block_in(filename, functions)
        yield bb
