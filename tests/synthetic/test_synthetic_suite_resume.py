"""The synthetic suite pays for each sample once per run: a finished sample named in `SuiteOptions.skip`
is never built, and a sample built before is read back from its directory instead of rendered again."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.suites.synthetic import _suite as suite_module
from claw.suite import SuiteOptions, get_suite
from claw.wire.names import GROUND_TRUTH_FOLDER


def _options(media: Path, **extra: object) -> SuiteOptions:
    return SuiteOptions(n=4, seed=5, media_dir=str(media), **extra)  # type: ignore[arg-type]


def test_skipped_samples_are_never_built(tmp_path: Path) -> None:
    suite = get_suite("synthetic", _options(tmp_path, skip=frozenset({"syn-5-00001", "syn-5-00003"})))
    built = list(suite.samples())
    assert [s.id for s in built] == ["syn-5-00000", "syn-5-00002"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [GROUND_TRUTH_FOLDER, "syn-5-00000", "syn-5-00002"]
    kept = {p.name.split("-frame")[0] for p in (tmp_path / GROUND_TRUTH_FOLDER).iterdir()}
    assert kept == {s.metadata["scene"] for s in built}


def test_a_built_sample_is_read_back_not_rendered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = list(get_suite("synthetic", _options(tmp_path)).samples())

    def no_drawing(seed: int, index: int) -> None:
        raise AssertionError(f"sample {index} was drawn again")

    monkeypatch.setattr(suite_module, "draw_sample", no_drawing)
    assert list(get_suite("synthetic", _options(tmp_path)).samples()) == first


def test_a_sample_missing_a_frame_is_built_again(tmp_path: Path) -> None:
    (first,) = get_suite("synthetic", SuiteOptions(n=1, seed=5, media_dir=str(tmp_path))).samples()
    lost = Path(first.videos[0].frames[-1].path)
    lost.unlink()
    (again,) = get_suite("synthetic", SuiteOptions(n=1, seed=5, media_dir=str(tmp_path))).samples()
    assert again == first and lost.exists()


def test_an_empty_frame_is_written_again_not_reused(tmp_path: Path) -> None:
    (first,) = get_suite("synthetic", SuiteOptions(n=1, seed=5, media_dir=str(tmp_path))).samples()
    emptied = Path(first.videos[0].frames[0].path)
    whole = emptied.read_bytes()
    emptied.write_bytes(b"")  # what a crash on a full disk can leave
    (again,) = get_suite("synthetic", SuiteOptions(n=1, seed=5, media_dir=str(tmp_path))).samples()
    assert again == first and emptied.read_bytes() == whole
