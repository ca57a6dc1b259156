"""Install layouts: `claw sandbox run --no-ast-check` from an interpreter only root can reach (a venv with
copied binaries under a 0700 directory, as a pyenv or conda install under /root is), and from a non-root
user. Kernels must never run as host root, must see only their minimal filesystem, and must start.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

ROOT = Path(__file__).resolve().parents[2]
ROOT_ONLY = pytest.mark.skipif(os.getuid() != 0, reason="needs root to make a root-only location")

PROBE = """
import os
print('uid', os.getuid())
print('root', sorted(os.listdir('/')))
try:
    open(SECRET).read()
except OSError as exc:
    print('secret', type(exc).__name__)
beside = os.path.dirname(SECRET)
print('beside', sorted(os.listdir(beside)) if os.path.isdir(beside) else 'none')
found = []
for fd in os.listdir('/proc/self/fd'):
    try:
        found.append(os.readlink('/proc/self/fd/' + fd))
    except OSError:
        pass
print('host files', sorted(p for p in found if p.startswith('/') and p != '/dev/null' and '/proc/' not in p))
"""


@pytest.fixture
def secret_file(tmp_path: Path) -> Iterator[Path]:
    secret = tmp_path / "root-only-secret"
    secret.write_text("root-only")
    secret.chmod(0o600)
    yield secret


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A directory other users can pass through (pytest's own tmp_path is private to root)."""
    with tempfile.TemporaryDirectory(prefix="claw-layout-") as name:
        os.chmod(name, 0o755)
        yield Path(name)


def _cell(directory: Path, secret: Path) -> Path:
    cell = directory / "probe.py"
    cell.write_text(f"SECRET = {str(secret)!r}\n" + PROBE)
    cell.chmod(0o644)
    return cell


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _private_venv(parent: Path) -> Path:
    """A venv with copied binaries under a 0700 root-owned directory, seeing this venv's packages."""
    private = parent / "private"
    private.mkdir(mode=0o700)
    venv = private / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--copies", "--without-pip", str(venv)], check=True)
    packages = site.getsitepackages()[0]
    pth = next(venv.glob("lib/python3*/site-packages")) / "claw-test-packages.pth"
    pth.write_text(f"import site; site.addsitedir({packages!r})\n")
    return venv / "bin" / "python"


@ROOT_ONLY
async def test_root_only_interpreter_kernels_run_unprivileged(tmp_path: Path, secret_file: Path) -> None:
    python = await anyio.to_thread.run_sync(_private_venv, tmp_path)
    cell = await anyio.to_thread.run_sync(_cell, tmp_path, secret_file)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    command = [str(python), "-m", "claw.cli", "sandbox", "run", "--no-ast-check", str(cell)]
    done = await anyio.to_thread.run_sync(_run, command, env)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    uid = int(out.split("uid ")[1].split()[0])
    assert uid != 0
    assert "secret FileNotFoundError" in out
    # The venv's directory is bound where it lives; nothing else of that directory is there.
    assert "beside ['private']" in out
    assert "host files []" in out  # nothing the template held open (its log) reaches the kernel
    assert "'home'" not in out and "'var'" not in out


def _blocking_ancestor(path: str) -> str | None:
    """The highest ancestor of `path` that other users cannot pass through, if any."""
    for ancestor in reversed([*Path(path).parents]):
        if ancestor != Path("/") and not os.stat(ancestor).st_mode & 0o001:
            return str(ancestor)
    return None


def _as_nobody(command: list[str]) -> list[str]:
    """`command` as uid 65534, in a private mount namespace where the interpreter is reachable: when it
    lives under a directory only root can pass (e.g. /root), that directory is covered by an empty tmpfs
    and the interpreter bound back at its own path."""
    prefix = sys.base_prefix
    steps = []
    blocking = _blocking_ancestor(prefix)
    if blocking is not None:
        stage = "/run/claw-test-python"
        steps = [
            f"mkdir -p {stage}",
            f"mount --bind {prefix} {stage}",
            f"mount -t tmpfs -o mode=0755 none {blocking}",
            f"mkdir -p {prefix}",
            f"mount --bind {stage} {prefix}",
        ]
    inner = " && ".join([*steps, 'exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@"'])
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", inner, "sh", *command]


@ROOT_ONLY
@pytest.mark.skipif(shutil.which("setpriv") is None or shutil.which("unshare") is None, reason="util-linux")
async def test_non_root_user_kernels_start_confined(open_dir: Path) -> None:
    secret_file = open_dir / "root-only-secret"
    await anyio.Path(secret_file).write_text("root-only")
    await anyio.Path(secret_file).chmod(0o600)
    cell = await anyio.to_thread.run_sync(_cell, open_dir, secret_file)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/tmp"}
    command = [sys.executable, "-m", "claw.cli", "sandbox", "run", "--no-ast-check", str(cell)]
    wrapped = await anyio.to_thread.run_sync(_as_nobody, command)
    done = await anyio.to_thread.run_sync(_run, wrapped, env)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "uid 65534" in out
    assert "host files []" in out
    assert "secret FileNotFoundError" in out
    assert "'tmp'" not in out and "'home'" not in out and "'var'" not in out
