"""One self-contained HTML file for a study: summary, plots, a sortable table of trials, and the best
configuration ready to copy. Nothing is loaded from elsewhere (plots are inline SVG, the script and
styles are in the page), so it opens offline and can be mailed or archived.
"""

from __future__ import annotations

import html
import io
import json
import re
import time
from typing import TYPE_CHECKING, Any

from hyperknob.report.pareto_view import ParetoView, compact_params, objective_cells, objective_label, pareto_view
from hyperknob.report.tables import study_summary, trial_rows

if TYPE_CHECKING:
    from hyperknob.study.study import Study

__all__ = ["render_report", "write_report"]

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#222;max-width:1200px}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}
table{border-collapse:collapse;font-size:.85rem;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{cursor:pointer;background:#f4f4f4;position:sticky;top:0;user-select:none}
th.sorted-asc::after{content:" \\25B2"}th.sorted-desc::after{content:" \\25BC"}
tr.FAILED td{color:#a00}tr.STOPPED td{color:#777}
.summary td:first-child{font-weight:600;width:14rem}
pre{background:#f6f8fa;padding:1rem;overflow:auto}
.plots{display:flex;flex-wrap:wrap;gap:1rem}.plots figure{margin:0;flex:1 1 520px}
.plots svg{width:100%;height:auto}
button{padding:.3rem .8rem;cursor:pointer}
"""

_SCRIPT = """
function sortTable(th){
  const table=th.closest('table'),body=table.tBodies[0],index=[...th.parentNode.children].indexOf(th);
  const asc=!th.classList.contains('sorted-asc');
  table.querySelectorAll('th').forEach(h=>h.classList.remove('sorted-asc','sorted-desc'));
  th.classList.add(asc?'sorted-asc':'sorted-desc');
  const key=r=>{const c=r.children[index],v=c.dataset.value;\
return v===undefined||v===''?null:(isNaN(v)?v:parseFloat(v));};
  const rows=[...body.rows].sort((a,b)=>{const x=key(a),y=key(b);
    if(x===null&&y===null)return 0;if(x===null)return 1;if(y===null)return -1;
    return (x<y?-1:x>y?1:0)*(asc?1:-1);});
  rows.forEach(r=>body.appendChild(r));
}
document.querySelectorAll('#trials th, #front th').forEach(th=>th.addEventListener('click',()=>sortTable(th)));
document.getElementById('copy').addEventListener('click',()=>{
  const text=document.getElementById('best').textContent;
  if(navigator.clipboard){navigator.clipboard.writeText(text).catch(()=>{});}
  document.getElementById('copy').textContent='Copied';
});
"""


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    import matplotlib.pyplot as plt

    plt.close(figure)
    text = buffer.getvalue()
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)  # creator and date, not needed
    return text[text.index("<svg"):]  # drop the XML prologue: the SVG is inline


def _plots(study: Study) -> list[tuple[str, str]]:
    try:
        from hyperknob.report import plots
    except ModuleNotFoundError:
        return []
    out = []
    makers = [
        ("Optimisation history", lambda: plots.plot_optimization_history(study)),
        ("Best so far over time", lambda: plots.plot_optimization_history(study, over="time")),
        ("Learning curves", lambda: plots.plot_learning_curves(study)),
        ("Hyperparameter importance", lambda: plots.plot_param_importances(study)),
        ("Parameters against the score", lambda: plots.plot_parallel_coordinates(study)),
        ("Rungs", lambda: plots.plot_rungs(study)),
    ]
    for title, make in makers:
        try:
            out.append((title, _svg(make())))
        except (ValueError, ModuleNotFoundError):
            continue  # not applicable to this study (no schedule, too few trials, no scikit-learn)
    return out


def _front_section(study: Study, view: ParetoView) -> str:
    """The Pareto plot and a sortable table of the front (a file of it: ``hyperknob pareto --export``)."""
    parts = ["<h2>Pareto front</h2>", f"<p>{html.escape(view.counts())}.</p>"]
    try:
        from hyperknob.report import plots

        parts.append(f"<div class='plots'><figure>{_svg(plots.plot_pareto_front(study))}</figure></div>")
    except (ValueError, ModuleNotFoundError):
        pass  # no matplotlib: the table alone
    parts.append("<table id='front'><thead><tr><th>trial</th>")
    parts += [f"<th>{html.escape(objective_label(n, d))}</th>" for n, d in view.objectives]
    parts.append("<th>parameters</th></tr></thead><tbody>")
    for r in view.front:
        cells = [_cell(r.trial.number), *(_cell(v) for v in r.values), _cell(compact_params(r.trial.values))]
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    return "".join(parts)


def _cell(value: Any) -> str:
    if value is None:
        return '<td data-value=""></td>'
    if isinstance(value, float):
        return f'<td data-value="{value!r}">{value:.6g}</td>'
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        text = html.escape(str(value))
        return f'<td data-value="{text}">{text}</td>'
    return f'<td data-value="{value}">{value}</td>'


def render_report(study: Study, refresh_seconds: float | None = None) -> str:
    """The report's HTML text. With ``refresh_seconds`` the page reloads itself (``--watch``)."""
    summary = study_summary(study)
    rows = trial_rows(study)
    columns = [c for c in (rows[0] if rows else {}) if c not in ("worker",)]
    labels, objectives = objective_cells(study)  # a Pareto study: each objective instead of the sum
    if labels and "score" in columns:
        at = columns.index("score")
        columns[at:at + 1] = labels
    best = summary["best"]
    best_json = json.dumps(best["values"], indent=2, default=str) if best else "{}"
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>hyperknob: {html.escape(study.name)}</title>",
        f"<meta http-equiv='refresh' content='{refresh_seconds:g}'>" if refresh_seconds else "",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Study <code>{html.escape(study.name)}</code></h1>",
        f"<p>Written {time.strftime('%Y-%m-%d %H:%M:%S')} from <code>{html.escape(summary['storage'])}</code>.</p>",
        "<h2>Summary</h2><table class='summary'>",
    ]
    for key in ("objective", "algorithm", "max_trials", "trials", "by_status", "trial_time_s", "wall_time_s"):
        value = summary[key]
        if isinstance(value, dict):
            shown = json.dumps(value)
        else:
            shown = f"{value:.1f}" if isinstance(value, float) else value
        parts.append(f"<tr><td>{key.replace('_', ' ')}</td><td>{html.escape(str(shown))}</td></tr>")
    front = pareto_view(study) if study.is_pareto else None
    if front is not None:  # the score is KerasTuner's sum there: the front instead
        parts.append(f"<tr><td>front</td><td>{html.escape(front.counts())}</td></tr>")
    elif best:
        parts.append(f"<tr><td>best</td><td>trial {html.escape(best['trial_id'])}: {best['score']:.6g}</td></tr>")
    parts.append("</table>")
    if front is not None:
        parts.append(_front_section(study, front))
    first = f" by {front.objectives[0][0]}, on the front" if front is not None else ""
    parts.append(f"<h2>Best configuration{html.escape(first)}</h2>")
    parts.append(f"<pre id='best'>{html.escape(best_json)}</pre><button id='copy' type='button'>Copy</button>")
    figures = _plots(study)
    if figures:
        parts.append("<h2>Plots</h2><div class='plots'>")
        parts += [f"<figure><figcaption>{html.escape(t)}</figcaption>{svg}</figure>" for t, svg in figures]
        parts.append("</div>")
    parts.append("<h2>Trials</h2><p>Click a column to sort.</p><table id='trials'><thead><tr>")
    parts += [f"<th>{html.escape(c.removeprefix('param_'))}</th>" for c in columns]
    parts.append("</tr></thead><tbody>")
    for row in rows:
        row.update(objectives.get(row["number"]) or dict.fromkeys(labels))
        parts.append(f"<tr class='{row['status']}'>" + "".join(_cell(row[c]) for c in columns) + "</tr>")
    parts.append(f"</tbody></table><script>{_SCRIPT}</script></body></html>")
    return "".join(parts)


def write_report(study: Study, path: str, refresh_seconds: float | None = None) -> str:
    """Write the report to ``path`` (atomically: a reader never sees half a file); returns ``path``."""
    import os
    import tempfile

    text = render_report(study, refresh_seconds)
    folder = os.path.dirname(os.path.abspath(path))
    with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, suffix=".tmp", encoding="utf-8") as f:
        f.write(text)
    os.chmod(f.name, 0o644)  # a temporary file is private; a report is for reading
    os.replace(f.name, path)
    return path
