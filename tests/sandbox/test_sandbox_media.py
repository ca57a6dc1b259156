"""Staging a sample's frames into a kernel's exchange directory: linked when possible, copied (readable by
the kernel's uid) when the file is private, and a missing frame stays missing inside the kernel."""

from __future__ import annotations

import os
from pathlib import Path

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
