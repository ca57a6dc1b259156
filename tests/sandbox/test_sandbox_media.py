"""Staging a sample's frames into a kernel's exchange directory: linked when possible, copied (readable by
the kernel's uid) when the file is private, and a missing frame stays missing inside the kernel. Frames
that cannot be linked (another filesystem) are copied once per run and linked from that copy by every
episode that needs them; copies no kernel holds are pruned past a budget."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

import pytest

from claw.sandbox import _media
from claw.sandbox._media import stage_media
from claw.suite import Frame, Video
from claw.wire.kernel import KernelSetup


def _setup(paths: list[Path]) -> KernelSetup:
    frames = tuple(Frame(path=str(path), index=i) for i, path in enumerate(paths))
    return KernelSetup(episode_id="e", videos=(Video(name="v", frames=frames),), answer_format="letter")


def test_frames_are_staged_under_the_inner_exchange(tmp_path: Path) -> None:
    shared, private = tmp_path / "a.PNG", tmp_path / "b.jpg"
    shared.write_bytes(b"png")
    shared.chmod(0o644)
    private.write_bytes(b"jpg")
    private.chmod(0o600)
    exchange = tmp_path / "k1"
    exchange.mkdir()
    staged = stage_media(_setup([shared, private, tmp_path / "gone.png"]), exchange, "/claw/exchange")
    paths = [frame.path for frame in staged.videos[0].frames]
    assert paths == [
        "/claw/exchange/media/v0-f0.png",
        "/claw/exchange/media/v0-f1.jpg",
        "/claw/exchange/media/v0-f2.missing",
    ]
    linked, copied = exchange / "media" / "v0-f0.png", exchange / "media" / "v0-f1.jpg"
    assert os.stat(linked).st_ino == os.stat(shared).st_ino  # same filesystem: a link, not a copy
    assert copied.read_bytes() == b"jpg" and os.stat(copied).st_ino != os.stat(private).st_ino
    assert copied.stat().st_mode & 0o777 == 0o644
    assert not (exchange / "media" / "v0-f2.missing").exists()
    assert [f.index for f in staged.videos[0].frames] == [0, 1, 2]


def test_restaging_never_writes_through_an_earlier_link(tmp_path: Path) -> None:
    first, second = tmp_path / "first.png", tmp_path / "second.png"
    first.write_bytes(b"first sample")
    first.chmod(0o644)
    second.write_bytes(b"second sample")
    second.chmod(0o600)  # copied, not linked: the copy must not land in the first sample's file
    exchange = tmp_path / "k1"
    exchange.mkdir()
    stage_media(_setup([first]), exchange, "/claw/exchange")
    stage_media(_setup([second]), exchange, "/claw/exchange")
    assert first.read_bytes() == b"first sample"
    assert (exchange / "media" / "v0-f0.png").read_bytes() == b"second sample"


@pytest.fixture
def another_filesystem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, list[Path]]:
    """A data folder whose files cannot be hard-linked elsewhere (as from another filesystem); returns it
    and the list of files copied out of it."""
    data, copied = tmp_path / "data", []
    data.mkdir()
    link, copyfile = os.link, shutil.copyfile

    def link_across(source: str | Path, target: str | Path) -> None:
        if Path(source).parent == data:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        link(source, target)

    def counted_copyfile(source: str | Path, target: str | Path) -> object:
        copied.append(Path(source))
        return copyfile(source, target)

    monkeypatch.setattr(os, "link", link_across)
    monkeypatch.setattr(shutil, "copyfile", counted_copyfile)
    return data, copied


def _frames(data: Path, names: list[str]) -> list[Path]:
    for name in names:
        (data / name).write_bytes(name.encode())
        (data / name).chmod(0o644)
    return [data / name for name in names]


def _kernel_dirs(tmp_path: Path, count: int) -> list[Path]:
    dirs = [tmp_path / "kernels" / f"k{i}" for i in range(1, count + 1)]
    for directory in dirs:
        directory.mkdir(parents=True)
    return dirs


def test_frames_from_another_filesystem_are_copied_once_per_run_then_linked(
    another_filesystem: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    data, copied = another_filesystem
    frames = _frames(data, ["a.png", "b.png"])
    kernels = _kernel_dirs(tmp_path, 3)
    for kernel in kernels:  # three episodes of questions on the same video
        stage_media(_setup(frames), kernel, "/claw/exchange")
    assert sorted(copied) == frames  # each frame once, not once per episode
    staged = [[os.stat(k / "media" / f"v0-f{i}.png") for i in range(2)] for k in kernels]
    assert len({s[0].st_ino for s in staged}) == len({s[1].st_ino for s in staged}) == 1
    assert staged[0][0].st_ino != os.stat(frames[0]).st_ino
    assert (kernels[2] / "media" / "v0-f1.png").read_bytes() == b"b.png"
    assert staged[0][0].st_mode & 0o777 == 0o644  # readable by the kernel's uid


def test_shared_copies_no_kernel_holds_are_pruned_past_the_budget(
    another_filesystem: tuple[Path, list[Path]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, _copied = another_filesystem
    monkeypatch.setattr(_media, "KEEP_UNUSED_BYTES", 0)
    first, second = _kernel_dirs(tmp_path, 2)
    stage_media(_setup(_frames(data, ["old.png"])), first, "/claw/exchange")
    shutil.rmtree(first / "media")  # the episode ended: its kernel no longer holds the frame
    stage_media(_setup(_frames(data, ["new.png"])), second, "/claw/exchange")
    left = [p.read_bytes() for p in (tmp_path / "kernels" / _media.SHARED_COPIES).iterdir()]
    assert left == [b"new.png"]  # the frame in use stays; the unused one is gone
    assert (second / "media" / "v0-f0.png").read_bytes() == b"new.png"
