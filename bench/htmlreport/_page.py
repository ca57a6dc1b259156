"""The report page: run facts, score tables, and one collapsible section per episode, with the style,
the filter script and every image inline (the file needs no server and no network)."""

from __future__ import annotations

import html
import json
import time
from collections.abc import Sequence

from bench.htmlreport._assets import SCRIPT, STYLE
from bench.htmlreport._episodes import EpisodeView, StepView
from bench.htmlreport._highlight import highlight_python
from bench.htmlreport._images import ImageStore
from claw.events import RecordedImage
from claw.runtime.facts import RunFacts

__all__ = ["render_page"]

_e = html.escape


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def _fact_rows(facts: RunFacts) -> list[tuple[str, str]]:
    target = "all samples" if facts.target_n is None else str(facts.target_n)
    prompt = f"{facts.prompt_tokens:,} prompt ({facts.cached_tokens:,} cached)"
    tokens = f"{prompt} + {facts.completion_tokens:,} completion"
    failures = ", ".join(f"{k} × {v}" for k, v in facts.failures.items()) or "none"
    return [
        ("status", facts.status),
        ("episodes", f"{facts.finished} scored of {target} asked; {facts.failed} failed in the runtime"),
        ("endings", f"{facts.forced} forced answers, {facts.budget} out of budget, {facts.errored} errors"),
        ("duration", f"{_duration(facts.duration_s)} over {facts.segments} segment(s)"),
        ("rate", f"{facts.episodes_per_s:.3f} episodes/s"),
        ("model", "; ".join(facts.models)),
        ("interface", facts.interface),
        ("tokens", f"{tokens} in {facts.requests:,} requests"),
        ("kernel deaths", str(facts.kernel_deaths)),
        ("failures by kind", failures),
    ]


def _facts_table(facts: RunFacts) -> str:
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in _fact_rows(facts))
    css = "complete" if facts.complete else "incomplete"
    return f'<table class="facts {css}" id="run-facts">{rows}</table>'


def _images(images: Sequence[RecordedImage], store: ImageStore, css: str) -> str:
    tags = []
    for image in images:
        ident = store.image_id(image)
        label = _e(image.caption or image.path.rsplit("/", 1)[-1])
        if ident is None:
            tags.append(f'<span class="missing">missing image {_e(image.path or image.sha256[:12])}</span>')
        else:
            tags.append(
                f'<figure><img data-img="{ident}" alt="{label}"><figcaption>{label}</figcaption></figure>'
            )
    return f'<div class="{css}">{"".join(tags)}</div>' if tags else ""


def _pre(text: str, css: str, title: str) -> str:
    return f'<div class="{css}"><span class="label">{title}</span><pre>{_e(text)}</pre></div>' if text else ""


def _step_body(step: StepView, store: ImageStore) -> list[str]:
    parts = [f'<p class="reasoning">{_e(step.reasoning)}</p>' if step.reasoning else ""]
    if step.code:
        parts.append(f'<pre class="code">{highlight_python(step.code)}</pre>')
    if step.malformed:
        parts.append(f'<p class="error">malformed reply: {_e(step.malformed)}</p>')
    if step.rejected:
        parts.append(f'<p class="error">rejected by the policy: {_e(step.rejected)}</p>')
    if step.model_error:
        parts.append(f'<p class="error">model call failed: {_e(step.model_error)}</p>')
    if step.status:
        parts.append(f'<p class="status {_e(step.status)}">{_e(step.status)} in {step.duration_s:.2f} s</p>')
    parts += [_pre(step.stdout, "stdout", "output"), _pre(step.stderr, "stderr", "stderr")]
    parts.append(_pre(step.traceback or step.error, "traceback", "error"))
    parts.append(_pre("\n".join(step.variables), "variables", "variables"))
    parts.append(_images(step.images, store, "shown"))
    return parts


def _step(step: StepView, store: ImageStore) -> str:
    title = f"Step {step.step}" + (f" — {_e(step.purpose)}" if step.purpose else "")
    return f'<section class="step"><h4>{title}</h4>{"".join(_step_body(step, store))}</section>'


def _outcome(view: EpisodeView) -> str:
    if view.failure:
        return f'<p class="outcome error">runtime failure: {_e(view.failure)}</p>'
    score = "—" if view.score is None else f"{view.score:.2f}"
    forced = " (forced)" if view.forced else ""
    return (
        f'<p class="outcome">answer <b>{_e(str(view.answer))}</b>{forced}'
        f" · truth <b>{_e(view.ground_truth)}</b> · score <b>{score}</b>"
        f" · ended: {_e(view.reason or 'unfinished')}</p>"
    )


def _summary(view: EpisodeView) -> str:
    score = (
        "ERR" if view.errored and view.score is None else ("—" if view.score is None else f"{view.score:.2f}")
    )
    css = "bad" if view.errored else ("ok" if not view.wrong else "wrong")
    question = view.question if len(view.question) <= 110 else view.question[:109] + "…"
    return (
        f'<summary><span class="score {css}">{score}</span> <code>{_e(view.episode_id)}</code> '
        f'<span class="cat">{_e(view.category)}</span> {_e(question)}</summary>'
    )


def _episode(number: int, view: EpisodeView, store: ImageStore) -> str:
    body = [
        f'<p class="question">{_e(view.question)}</p>',
        f'<p class="format">answer format: {_e(view.answer_format)}</p>',
        _images(view.key_frames, store, "frames"),
        _pre(view.plan, "plan", "plan"),
        *(_step(s, store) for s in view.steps),
        _pre(view.final_reply, "final", "the model's answering turn"),
        _outcome(view),
    ]
    attrs = f'data-bench="{_e(view.suite)}" data-wrong="{int(view.wrong)}" data-errored="{int(view.errored)}"'
    return f'<details class="episode" id="ep-{number}" {attrs}>{_summary(view)}{"".join(body)}</details>'


def _filters(views: Sequence[EpisodeView]) -> str:
    benches = sorted({v.suite for v in views})
    options = "".join(f'<option value="{_e(b)}">{_e(b)}</option>' for b in benches)
    return (
        '<div id="filters"><label><input type="checkbox" id="only-wrong"> wrong only</label> '
        '<label><input type="checkbox" id="only-errored"> errored only</label> '
        f'<label>benchmark <select id="bench"><option value="">all</option>{options}</select></label> '
        '<span id="shown-count"></span></div>'
    )


def render_page(facts: RunFacts, tables: str, views: Sequence[EpisodeView], store: ImageStore) -> str:
    """The whole HTML document."""
    episodes = "\n".join(_episode(i, v, store) for i, v in enumerate(views, start=1))
    images = json.dumps(store.urls).replace("</", "<\\/")
    title = f"claw run {facts.run_id}"
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head>
<body><h1>{_e(title)} <small>{_e(facts.suite)}</small></h1>
<p class="generated">written {stamp} by <code>claw report</code></p>
<h2>Run</h2>{_facts_table(facts)}
<h2>Scores</h2>{tables}
<h2>Episodes ({len(views)})</h2>{_filters(views)}
<div id="episodes">{episodes}</div>
<script type="application/json" id="images">{images}</script>
<script>{SCRIPT}</script></body></html>
"""
