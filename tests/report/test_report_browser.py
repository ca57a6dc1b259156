"""`claw report` on a real run, opened in headless Chromium: the run facts and score tables render, one
episode's transcript renders with highlighted code and its images filled in by the page's script, the
filters work, and a screenshot is kept under `test-artifacts/`.

Chromium comes from `make browser` (Debian's package, installed when missing and root); without it the
test skips and says so.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from claw.runtime.sinks import read_results
from tests._claw_cli import run_claw

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("report") / "run"
    made = run_claw("eval", "--n", "3", "--seed", "3", "--run-dir", str(run_dir), "--quiet")
    assert made.returncode == 0, made.stderr
    written = run_claw("report", str(run_dir))
    assert written.returncode == 0, written.stderr
    assert f"HTML report: {run_dir / 'report.html'}" in written.stdout
    return run_dir / "report.html"


def _browse(page: str, *args: str, profile: Path) -> str:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (run `make browser` as root on Debian to install it)")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", f"--user-data-dir={profile}"]
    done = subprocess.run(
        [CHROMIUM, *flags, *args, page], capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _between(text: str, start: str, end: str) -> str:
    begin = text.index(start)
    return text[begin : text.index(end, begin)]


def test_the_tables_and_one_transcript_render(report: Path, tmp_path: Path) -> None:
    dom = _browse(report.as_uri() + "#ep-1", "--dump-dom", profile=tmp_path)
    facts = _between(dom, 'id="run-facts"', "</table>")
    assert "complete" in facts and "mock LLM server (scripted policy)" in facts
    categories = _between(dom, 'id="category-table"', "</table>")
    assert "synthetic" in categories and "overall" in categories
    episode = _between(dom, 'id="ep-1"', "</details>")
    assert 'open="">' in episode[: episode.index("<summary>")], "the fragment did not open the episode"
    assert '<pre class="code"><span class="co"># stage: perceive</span>' in episode
    assert '<span class="kw">for</span>' in episode and "ReturnAnswer" in episode
    assert episode.count('src="data:image/jpeg;base64,') >= 2, "key frames or shown images not filled"
    assert "answer <b>" in episode and "score <b>" in episode
    closed = _between(dom, 'id="ep-2"', "</details>")
    assert 'src="data:' not in closed, "a closed episode's images are loaded only when it opens"


def test_the_filters_hide_what_they_should(report: Path, tmp_path: Path) -> None:
    results = read_results(report.parent / "results.jsonl")
    wrong = sum(r.score < 1.0 for r in results)
    dom = _browse(report.as_uri() + "?wrong=1", "--dump-dom", profile=tmp_path)
    assert f"showing {wrong} of {len(results)}" in dom
    errored = sum(r.reason == "error" for r in results)
    dom = _browse(report.as_uri() + "?errored=1", "--dump-dom", profile=tmp_path)
    assert f"showing {errored} of {len(results)}" in dom
    dom = _browse(report.as_uri() + "?bench=synthetic", "--dump-dom", profile=tmp_path)
    assert f"showing {len(results)} of {len(results)}" in dom


def test_a_screenshot_is_kept(report: Path, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    _browse(report.as_uri() + "?open=1", f"--screenshot={shot}", "--window-size=1400,1700", profile=tmp_path)
    with Image.open(shot) as image:
        assert image.size == (1400, 1700)
        spread = ImageStat.Stat(image.convert("L")).stddev[0]
    assert spread > 10, "the screenshot is blank"
