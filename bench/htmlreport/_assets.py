"""The report's style sheet and script, inlined into every report (no network, no external files).

The script fills an episode's images when it is opened (so a report of hundreds of episodes opens
fast), applies the wrong / errored / benchmark filters (also preset from the URL's query: `?wrong=1`,
`?errored=1`, `?bench=erqa`), and opens the episode the URL names: `#ep-3` (scrolled to) or `?open=3`."""

from __future__ import annotations

__all__ = ["SCRIPT", "STYLE"]

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:1400px;padding:0 1em;color:#1d1d1f}
h1 small{color:#666;font-weight:normal;font-size:60%}
.generated{color:#777;margin-top:-.5em}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ddd;padding:3px 7px;text-align:left;vertical-align:top}
table.scores td,table.detail td{text-align:right}
table.scores th{text-align:center;font-size:12px}
td.mean,th.mean{background:#f4f6fa;font-weight:600}
tr.ours td{background:#eef8ee;font-weight:600}
tr.bench th,tr.bench td{border-top:2px solid #999}
table.facts th{background:#f6f6f6;width:11em}
table.facts.incomplete tr:first-child td{color:#b00;font-weight:700}
table.facts.complete tr:first-child td{color:#070;font-weight:700}
.note{color:#555;font-size:12px}
#filters{margin:.5em 0 1em;padding:.5em;background:#f6f6f6;border-radius:4px}
#filters label{margin-right:1.2em}
details.episode{border:1px solid #ccc;border-radius:4px;margin:.4em 0;padding:.3em .6em}
details.episode[open]{background:#fcfcfc}
summary{cursor:pointer}
.score{display:inline-block;min-width:3.2em;text-align:center;border-radius:3px;font-weight:700;color:#fff}
.score.ok{background:#2a8a2a}.score.wrong{background:#c77800}.score.bad{background:#b00020}
.cat{color:#555;font-size:12px;border:1px solid #ccc;border-radius:3px;padding:0 4px}
.frames,.shown{display:flex;flex-wrap:wrap;gap:6px}
figure{margin:0;font-size:11px;color:#555;max-width:150px;overflow-wrap:anywhere}
.shown figure{max-width:360px}
figure img{max-width:100%;display:block;border:1px solid #ddd}
pre{background:#f7f7f7;padding:6px 8px;overflow-x:auto;white-space:pre-wrap;margin:.2em 0}
pre.code{background:#fbfbf4;border-left:3px solid #7a8}
.label{font-size:11px;color:#777;text-transform:uppercase}
.traceback pre,.stderr pre{background:#fff2f2}
.error,.outcome.error{color:#b00020}
.status.ok{color:#070}.status.error,.status.timeout,.status.died,.status.rejected{color:#b00020}
section.step{border-top:1px dashed #ccc;margin-top:.5em;padding-top:.3em}
section.step h4{margin:.2em 0}
.reasoning{color:#444;font-style:italic;margin:.2em 0}
.kw{color:#7a1fa2;font-weight:600}.bi{color:#1558a6}.st{color:#2a7a2a}.nu{color:#a65d00}
.co{color:#888;font-style:italic}.fn{color:#0b5cad;font-weight:600}
.missing{color:#b00020;font-size:12px}
"""

SCRIPT = """
(function(){
  const images = JSON.parse(document.getElementById('images').textContent);
  function fill(ep){
    ep.querySelectorAll('img[data-img]').forEach(function(img){
      if(!img.src){ img.src = images[img.dataset.img]; }
    });
  }
  const episodes = Array.from(document.querySelectorAll('details.episode'));
  episodes.forEach(function(ep){
    ep.addEventListener('toggle', function(){ if(ep.open){ fill(ep); } });
  });
  const wrong = document.getElementById('only-wrong');
  const errored = document.getElementById('only-errored');
  const bench = document.getElementById('bench');
  const count = document.getElementById('shown-count');
  function apply(){
    let shown = 0;
    episodes.forEach(function(ep){
      const keep = (!wrong.checked || ep.dataset.wrong === '1')
        && (!errored.checked || ep.dataset.errored === '1')
        && (!bench.value || ep.dataset.bench === bench.value);
      ep.style.display = keep ? '' : 'none';
      shown += keep ? 1 : 0;
    });
    count.textContent = 'showing ' + shown + ' of ' + episodes.length;
  }
  [wrong, errored, bench].forEach(function(el){ el.addEventListener('change', apply); });
  const query = new URLSearchParams(location.search);
  wrong.checked = query.get('wrong') === '1';
  errored.checked = query.get('errored') === '1';
  bench.value = query.get('bench') || '';
  apply();
  const opened = query.get('open') && document.getElementById('ep-' + query.get('open'));
  if(opened){ opened.open = true; fill(opened); }
  const wanted = location.hash && document.getElementById(location.hash.slice(1));
  if(wanted && wanted.tagName === 'DETAILS'){ wanted.open = true; fill(wanted); wanted.scrollIntoView(); }
})();
"""
