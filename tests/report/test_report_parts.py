"""The HTML report's parts on their own: the highlighter, the run facts folded from events, and the
score tables in the paper's layout."""

from __future__ import annotations

import re

import pytest

from bench.htmlreport import highlight_python, run_facts
from bench.htmlreport._tables import score_tables
from bench.report import aggregate
from claw.events import (
    EpisodeFailed,
    EpisodeFinished,
    EpisodeResult,
    Event,
    KernelFailed,
    LLMFailed,
    LLMResponded,
    RunFinished,
    RunStarted,
)


def test_highlight_marks_keywords_builtins_strings_numbers_and_comments() -> None:
    out = highlight_python('def area(m):\n    return len(m) * 2.5  # px\nname = "a<b"\n')
    assert '<span class="kw">def</span> <span class="fn">area</span>' in out
    assert '<span class="bi">len</span>' in out and '<span class="nu">2.5</span>' in out
    assert '<span class="co"># px</span>' in out
    assert '<span class="st">&quot;a&lt;b&quot;</span>' in out


@pytest.mark.parametrize("code", ['print("open', "x = (1,\n", "if x:\n  y = '''\n", "a <b> & c"])
def test_highlight_keeps_every_character_of_code_it_cannot_tokenize(code: str) -> None:
    out = highlight_python(code)
    text = re.sub(r"<[^>]+>", "", out).replace("&lt;", "<").replace("&gt;", ">")
    assert text.replace("&quot;", '"').replace("&#x27;", "'").replace("&amp;", "&") == code


def _run(*, finished: bool, status: str = "success") -> list[Event]:
    config: dict[str, object] = {"n": 5, "models": {"agent": [], "policy": "scripted"}, "agent": {}}
    events: list[Event] = [
        RunStarted(run_id="r", suite="synthetic", claw_version="0", config=config, t_wall=100.0),
        LLMResponded(
            run_id="r",
            episode_id="e1",
            role="agent",
            endpoint="u",
            prompt_tokens=50,
            completion_tokens=7,
            cached_tokens=20,
            latency_s=0.1,
            t_wall=101.0,
        ),
        LLMFailed(run_id="r", episode_id="e2", role="agent", error_type="LLMTimeout", message="slow"),
        KernelFailed(run_id="r", episode_id="e2", kernel_id="k", message="died"),
        EpisodeFailed(run_id="r", episode_id="e3", sample_id="3", error_type="OSError", message="x"),
        EpisodeFinished(
            run_id="r",
            episode_id="e1",
            sample_id="1",
            category="c",
            answer="1",
            ground_truth="1",
            score=1.0,
            metric="exact",
            reason="forced",
            steps=3,
            duration_s=1.0,
            t_wall=130.0,
        ),
    ]
    if finished:
        events.append(RunFinished(run_id="r", status=status, episodes=1, failed=1, accuracy=1.0,
                                  duration_s=40.0, t_wall=140.0))  # fmt: skip
    return events


def test_facts_of_a_finished_run() -> None:
    facts = run_facts(_run(finished=True), finished=1)
    assert facts.complete and facts.status == "complete"
    assert (facts.target_n, facts.duration_s, facts.episodes_per_s) == (5, 40.0, 1 / 40)
    assert (facts.prompt_tokens, facts.cached_tokens, facts.completion_tokens) == (50, 20, 7)
    assert (facts.forced, facts.failed, facts.kernel_deaths) == (1, 1, 1)
    assert facts.failures == {"model call: LLMTimeout": 1, "runtime: OSError": 1}
    assert facts.models == ["mock LLM server (scripted policy)"]


def test_a_run_without_run_finished_is_incomplete_and_timed_to_its_last_event() -> None:
    facts = run_facts(_run(finished=False), finished=1)
    assert not facts.complete and "no RunFinished" in facts.status
    assert facts.duration_s == 30.0


def test_a_cancelled_run_is_incomplete() -> None:
    facts = run_facts(_run(finished=True, status="cancelled"), finished=1)
    assert not facts.complete and facts.status == "incomplete: cancelled"


def _result(suite: str, sample: str, category: str, score: float) -> EpisodeResult:
    return EpisodeResult(run_id="r", episode_id=f"{suite}/{sample}/s0", sample_id=sample, suite=suite,
                         category=category, answer="A", ground_truth="A", score=score, metric="exact",
                         reason="answered", steps=2, duration_s=1.0)  # fmt: skip


def test_score_tables_follow_the_paper_layout() -> None:
    results = [
        _result("erqa", "1", "x", 1.0),
        _result("erqa", "2", "x", 0.0),
        _result("cvbench", "1", "y", 1.0),
    ]
    page = score_tables(aggregate(results))
    header = page[: page.index("</tr><tr>")]
    groups = re.findall(r'<th colspan="(\d+)">([^<]+)</th>', header)
    assert [g for _, g in groups] == ["Single-image", "Multi-view", "Video &amp; 4D", "General spatial",
                                      "General video"]  # fmt: skip
    ours = re.search(r'<tr class="ours">(.*?)</tr>', page)
    assert ours is not None and "— partial" in ours.group(1)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", ours.group(1))
    assert cells[0] == "50.0" and "100.0" in cells
    assert "SpatialClaw (paper, Gemma 4-31B)" in page and 'id="category-table"' in page


def test_a_synthetic_run_gets_only_its_own_table() -> None:
    page = score_tables(aggregate([_result("synthetic", "1", "object_size", 1.0)]))
    assert 'id="main-table"' not in page and "object_size" in page


def test_episode_views_keep_steps_and_the_answering_turn() -> None:
    from bench.htmlreport import episode_views
    from claw.events import AnswerSubmitted, CellExecuted, CellProposed, EpisodeStarted

    e = "s/x/s0"
    events: list[Event] = [
        EpisodeStarted(run_id="r", episode_id=e, sample_id="x", suite="s", category="c", question="q?",
                       answer_format="number"),
        CellProposed(run_id="r", episode_id=e, step=0, purpose="look", reasoning="r", next_goal="g",
                     code="x=1"),
        CellExecuted(run_id="r", episode_id=e, step=0, status="error", duration_s=0.1, error_type="NameError",
                     error_message="y", traceback="Traceback: y", variable_notes=["x: int = 1"]),
        LLMResponded(run_id="r", episode_id=e, step=1, role="agent", endpoint="u", prompt_tokens=1,
                     completion_tokens=1, latency_s=0.1, content="FINAL ANSWER: 3"),
        AnswerSubmitted(run_id="r", episode_id=e, step=1, answer="3", valid=True, forced=True),
        EpisodeFinished(run_id="r", episode_id=e, sample_id="x", category="c", answer="3", ground_truth="4",
                        score=0.0, metric="mra", reason="forced", steps=1, duration_s=1.0),
    ]  # fmt: skip
    (view,) = episode_views(events)
    (step,) = view.steps
    assert (step.code, step.error, step.traceback, step.variables) == ("x=1", "NameError: y", "Traceback: y",
                                                                       ["x: int = 1"])  # fmt: skip
    assert view.forced and view.final_reply == "FINAL ANSWER: 3" and view.wrong and not view.errored
