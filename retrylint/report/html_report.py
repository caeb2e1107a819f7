"""`retrylint report --html`: one self-contained page that shows every task's retry timeline and
documents its policy.

The page is what a team reviews and archives ("documented policies"): per category, each task
with its owner and note, its timeline against the category's window, its findings, and where
every value came from (`path:line`). So it must open anywhere, forever: no network resource at
all (CSS, script and SVG are inline, and a Content-Security-Policy forbids anything else), and
it reads fully without script; the script only adds the filters.

Everything from scanned code or the policy file is HTML-escaped: a task name is attacker-
controlled text in a review of someone else's pull request. The same report gives the same
bytes (no timestamp, no absolute path), so the file can be committed and diffed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING

from retrylint.durations import format_duration
from retrylint.engine import Report
from retrylint.model import (
    SEVERITY_RANK,
    UNDECIDED,
    Assignment,
    Category,
    EffectivePolicy,
    Finding,
    Provenance,
)
from retrylint.report import SOURCE_FIELDS, message_with_fix
from retrylint.report.svg import esc, summary_chart, timeline_svg
from retrylint.report.timeline import TimeAxis, axis_for, by_category, limits, schedule_of

if TYPE_CHECKING:
    # The simulation (and the Go evaluation it reads) loads only when `--outage` asks for it.
    from retrylint.simulate.tasks import Simulation

_FIELD_WORDS = {
    "max_retries": "max retries",
    "backoff": "backoff",
    "jitter": "jitter",
    "delays": "delays",
    "window": "window",
}

_STYLE = """
:root{--fg:#1d2330;--muted:#5b6475;--line:#d5d9e0;--bg:#fff;--panel:#f6f7f9;
--error:#c62828;--warning:#d97706;--note:#1d64c2;--ok:#2e7d32;--accent:#2b59c3}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);
background:var(--bg);margin:0 auto;max-width:1100px;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:18px;margin:0}h3{font-size:15px;margin:0}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.muted{color:var(--muted)}
header p{margin:2px 0}
#summary{margin-top:16px}#summary h2{margin-bottom:6px}
.counts span{margin-right:14px}
.filters{display:flex;flex-wrap:wrap;gap:12px;align-items:center;background:var(--panel);
border:1px solid var(--line);border-radius:6px;padding:8px 12px;margin:12px 0}
.filters[hidden]{display:none}
.filters label{display:flex;gap:6px;align-items:center}
section.category{border-top:2px solid var(--line);margin-top:22px;padding-top:10px}
section.category>p,section.category>dl{margin:4px 0}
dl.bounds{display:flex;flex-wrap:wrap;gap:4px 18px}
dl.bounds div{display:flex;gap:4px}dl.bounds dt{color:var(--muted)}dl.bounds dd{margin:0}
article.task{border:1px solid var(--line);border-radius:6px;margin:12px 0;padding:10px 12px}
article.task[hidden]{display:none}
.task-head{display:flex;flex-wrap:wrap;gap:4px 12px;align-items:baseline}
.verdict{font-size:11px;font-weight:600;text-transform:uppercase;border-radius:3px;
padding:1px 6px;color:#fff}
.verdict.error{background:var(--error)}.verdict.warning{background:var(--warning)}
.verdict.note{background:var(--note)}.verdict.ok{background:var(--ok)}
svg{display:block;width:100%;height:auto}
svg text{font:11px system-ui,sans-serif;fill:var(--muted)}
svg .axis{stroke:#9aa3b2;stroke-width:1}
svg .tick{stroke:#e3e6eb;stroke-width:1}
svg text.tick{stroke:none;fill:var(--muted)}
svg .span{stroke:var(--accent);stroke-width:2}
svg .band{fill:var(--accent);fill-opacity:.16}
svg .first{fill:var(--fg)}
svg .retry{fill:var(--accent);stroke:#fff;stroke-width:1}
svg .retry.over{fill:var(--error)}
svg .limit line{stroke:var(--error);stroke-width:2;stroke-dasharray:5 3}
svg .limit text{fill:var(--error);font-weight:600}
svg .unbounded{stroke:var(--error);stroke-width:3;fill:var(--error)}
svg .undecided{stroke:var(--warning);stroke-width:3;stroke-dasharray:2 5}
svg .status{font-weight:600;fill:var(--fg)}
svg .status.unbounded{fill:var(--error);stroke:none}
svg .status.undecided{fill:var(--warning);stroke:none}
svg .verdict-error{fill:var(--error)}svg .verdict-warning{fill:var(--warning)}
svg .verdict-note{fill:var(--note)}svg .verdict-ok{fill:var(--ok)}
svg text.count{fill:#fff;font-weight:600}
svg text.category-label,svg text.total{fill:var(--fg)}
details{margin-top:6px}summary{cursor:pointer;color:var(--muted)}
table{border-collapse:collapse;margin-top:6px;width:100%}
th,td{text-align:left;vertical-align:top;border-bottom:1px solid var(--line);padding:3px 8px}
th{font-weight:600;color:var(--muted)}
ul.findings{list-style:none;margin:8px 0 0;padding:0}
ul.findings li{border-left:4px solid var(--line);padding:2px 8px;margin:4px 0}
ul.findings li.error{border-color:var(--error)}ul.findings li.warning{border-color:var(--warning)}
ul.findings li.note{border-color:var(--note)}
.rule{font-weight:600}
"""

# Filters hide articles whose data-* attributes do not match; a category with nothing left
# is hidden too. The form is `hidden` in the markup, so a page without script shows every
# task and no controls that would do nothing.
_SCRIPT = """
(function () {
  var form = document.getElementById("filters");
  if (!form) { return; }
  form.hidden = false;
  var selects = form.querySelectorAll("select");
  function apply() {
    var wanted = {};
    selects.forEach(function (s) { wanted[s.name] = s.value; });
    var shown = 0;
    document.querySelectorAll("section.category").forEach(function (section) {
      var visible = 0;
      section.querySelectorAll("article.task").forEach(function (task) {
        var ok = (!wanted.framework || task.dataset.framework === wanted.framework) &&
          (!wanted.category || task.dataset.category === wanted.category) &&
          (!wanted.rule || (" " + task.dataset.rules + " ").indexOf(" " + wanted.rule + " ") >= 0);
        task.hidden = !ok;
        if (ok) { visible += 1; }
      });
      section.hidden = visible === 0;
      shown += visible;
    });
    document.getElementById("shown").textContent = String(shown);
  }
  // `report.html?rule=RL203` opens with that filter set: a link in a review can point at it.
  var given = new URLSearchParams(window.location.search);
  selects.forEach(function (s) {
    var value = given.get(s.name);
    if (value !== null && s.querySelector("option[value='" + CSS.escape(value) + "']")) {
      s.value = value;
    }
    s.addEventListener("change", apply);
  });
  apply();
})();
"""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"


def render_html(
    report: Report, version: str, config: str | None, simulation: Simulation | None = None
) -> str:
    """The whole page; `config` is the policy file as the reader should see its path (None for
    the built-in policy). A `simulation` (`--outage`) adds its section at the end; without one
    the page is what it always was, byte for byte."""
    section: list[str] = []
    style = _STYLE
    if simulation is not None:
        from retrylint.report import html_simulation

        section = html_simulation.simulation_section(simulation)
        style += html_simulation.STYLE
    attached, project = _attach(report)
    verdicts = [_verdict(found) for found in attached]
    groups = by_category(report)
    axis = axis_for(report)
    index = {id(row): number for number, row in enumerate(report.rows)}
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>retrylint report</title>",
        f"<style>{style}</style></head><body>",
    ]
    out.extend(_header(report, version, config))
    counts: dict[str, Counter[str]] = {}
    for category, members in groups:
        name = _category_name(category)
        counts[name] = Counter(verdicts[index[id(row)]] for row, _ in members)
    out.append('<section id="summary"><h2>Tasks per category and verdict</h2>')
    out.append(summary_chart([(name, dict(counted)) for name, counted in counts.items()]))
    out.append("</section>")
    out.extend(_filters(report, attached, list(counts)))
    if not report.rows:
        # An empty page would read as "all clear"; RL004, when it fires, says why below.
        out.append(f"<p><b>No tasks found</b>: {report.files_scanned} file(s) scanned.</p>")
    for category, members in groups:
        out.extend(_category_section(category, config))
        for row, assignment in members:
            number = index[id(row)]
            out.extend(_task(row, assignment, attached[number], verdicts[number], axis, number))
        out.append("</section>")
    if project:
        out.append('<section id="project-findings"><h2>Findings not about one task</h2>')
        out.extend(_findings(project))
        out.append("</section>")
    out.extend(section)
    out.append(f"<script>{_SCRIPT}</script></body></html>")
    return "\n".join(out) + "\n"


def _attach(report: Report) -> tuple[list[list[Finding]], list[Finding]]:
    """Each row's findings, and the findings that speak for no single row.

    A finding speaks for the rows of its task name (or the names it lists), framework and site;
    an enqueue site's finding only for the enqueue row in the same file and function. A row
    without a decided name is matched by its place.
    """
    attached: list[list[Finding]] = [[] for _ in report.rows]
    project: list[Finding] = []
    for finding in report.findings:
        names = {*finding.tasks, *([finding.task] if finding.task else [])}
        hits = [
            number for number, row in enumerate(report.rows) if _speaks_for(finding, names, row)
        ]
        for number in hits:
            attached[number].append(finding)
        if not hits:
            project.append(finding)
    return attached, project


def _speaks_for(finding: Finding, names: set[str], row: EffectivePolicy) -> bool:
    if finding.framework is not None and row.framework != finding.framework:
        return False
    if finding.site is not None and row.site != finding.site:
        return False
    if row.name is None:
        lines = {row.location.line, *row.suppression_lines}
        return row.location.path == finding.location.path and finding.location.line in lines
    if row.name not in names:
        return False
    return finding.site != "enqueue" or (
        row.location.path == finding.location.path and row.scope == finding.scope
    )


def _verdict(findings: list[Finding]) -> str:
    if not findings:
        return "ok"
    return max((f.severity for f in findings), key=SEVERITY_RANK.__getitem__)


def _category_name(category: Category | None) -> str:
    return "(no category)" if category is None else category.name


def _header(report: Report, version: str, config: str | None) -> Iterator[str]:
    severities = Counter(f.severity for f in report.findings)
    policy = f"policy file <code>{esc(config)}</code>" if config else "the built-in policy"
    yield "<header><h1>Retry policies</h1>"
    yield (
        f'<p class="muted">retrylint {esc(version)}, {policy}, '
        f"{report.files_scanned} file(s) scanned.</p>"
    )
    yield (
        f'<p class="counts"><span><b>{len(report.rows)}</b> task(s)</span>'
        + "".join(
            f'<span class="{level}"><b>{severities[level]}</b> {level}(s)</span>'
            for level in ("error", "warning", "note")
        )
        + "</p>"
    )
    yield (
        '<p class="muted">Each timeline starts at the first failure (0) on a logarithmic time '
        "axis. A dot is the latest time a retry can start (the delays are upper bounds); a "
        "shaded band is a jittered wait, which can end anywhere inside it; a dashed red line "
        "is the category's window limit. A red arrow marks retries that never stop, a dotted "
        "line values retrylint could not decide without running the code.</p></header>"
    )


def _filters(report: Report, attached: list[list[Finding]], categories: list[str]) -> list[str]:
    frameworks = sorted({row.framework for row in report.rows})
    rules = sorted({f.rule for found in attached for f in found})
    out = ['<form id="filters" class="filters" hidden>']
    for name, label, values in (
        ("framework", "Framework", frameworks),
        ("category", "Category", categories),
        ("rule", "Rule", rules),
    ):
        options = "".join(f'<option value="{esc(v)}">{esc(v)}</option>' for v in values)
        out.append(
            f'<label>{label} <select name="{name}"><option value="">all</option>'
            f"{options}</select></label>"
        )
    out.append(f'<span class="muted"><span id="shown">{len(report.rows)}</span> shown</span>')
    out.append("</form>")
    return out


def _category_section(category: Category | None, config: str | None) -> list[str]:
    name = _category_name(category)
    out = [f'<section class="category" data-category="{esc(name)}"><h2>{esc(name)}</h2>']
    if category is None:
        out.append(
            '<p class="muted">No <code>[tasks]</code> key matches these tasks and there is no '
            "<code>default-category</code>.</p>"
        )
        return out
    if category.description:
        out.append(f"<p>{esc(category.description)}</p>")
    bounds = list(_bounds(category))
    if bounds:
        out.append(
            '<dl class="bounds">'
            + "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in bounds)
            + "</dl>"
        )
    else:
        out.append('<p class="muted">States no bound: its tasks are exempt.</p>')
    if category.location is not None and config:
        out.append(
            f'<p class="muted">Defined at <code>{esc(config)}:{category.location.line}</code></p>'
        )
    return out


def _bounds(category: Category) -> Iterator[tuple[str, str]]:
    if category.min_retries is not None or category.max_retries is not None:
        low = "" if category.min_retries is None else f"min {category.min_retries}"
        high = "" if category.max_retries is None else f"max {category.max_retries}"
        yield "max-retries", ", ".join(part for part in (low, high) if part)
    if category.backoff is not None:
        yield "backoff", f"at least {category.backoff}"
    if category.jitter:
        yield "jitter", "required"
    for label, seconds in limits(category):
        yield label, format_duration(seconds)
    if category.dead_letter:
        yield "dead-letter", "required"


def _task(
    row: EffectivePolicy,
    assignment: Assignment | None,
    findings: list[Finding],
    verdict: str,
    axis: TimeAxis,
    number: int,
) -> list[str]:
    category = None if assignment is None else assignment.category
    rules = " ".join(sorted({f.rule for f in findings}))
    name = (
        f"<code>{esc(row.name)}</code>"
        if row.name is not None
        else f"<em>undecided name</em> <code>{esc(row.name_expression or '?')}</code>"
    )
    where = f"{row.location.path}:{row.location.line}:{row.location.column}"
    out = [
        f'<article class="task" id="task-{number}" data-framework="{esc(row.framework)}" '
        f'data-category="{esc(_category_name(category))}" data-rules="{esc(rules)}">',
        f'<div class="task-head"><h3>{name}</h3>'
        f'<span class="verdict {verdict}">{verdict}</span>'
        f'<span class="muted">{esc(row.framework)} {esc(row.site)} at '
        f"<code>{esc(where)}</code></span></div>",
    ]
    out.extend(_people(assignment))
    out.append(timeline_svg(schedule_of(row), limits(category), axis))
    out.extend(_findings(findings))
    out.append("<details><summary>Policy and where each value came from</summary>")
    out.append(_policy_table(row, assignment))
    out.append("</details></article>")
    return out


def _people(assignment: Assignment | None) -> list[str]:
    if assignment is None:
        return []
    items = [("category", assignment.category.name), ("assigned by", _assigned_by(assignment))]
    if assignment.owner:
        items.append(("owner", assignment.owner))
    if assignment.note:
        items.append(("note", assignment.note))
    return [
        '<dl class="bounds">'
        + "".join(f"<div><dt>{esc(k)}</dt><dd>{esc(v)}</dd></div>" for k, v in items)
        + "</dl>"
    ]


def _assigned_by(assignment: Assignment) -> str:
    if assignment.source in ("exact", "glob"):
        return f"{assignment.source} key {assignment.key}"
    if assignment.source == "default-category":
        return "default-category"
    return "built-in policy"


def _findings(findings: list[Finding]) -> list[str]:
    if not findings:
        return []
    out = ['<ul class="findings">']
    for finding in findings:
        at = f"{finding.location.path}:{finding.location.line}"
        out.append(
            f'<li class="{finding.severity}"><span class="rule">{esc(finding.rule)}</span> '
            f'<span class="muted">{esc(finding.name)} [{finding.severity}]</span> '
            f"{esc(message_with_fix(finding))} <code>{esc(at)}</code></li>"
        )
    out.append("</ul>")
    return out


def _policy_table(row: EffectivePolicy, assignment: Assignment | None) -> str:
    rows: list[tuple[str, str, str, str]] = [
        ("retry trigger", _shown(row.retry_trigger), "", ""),
    ]
    values = {
        "max_retries": _shown(row.max_retries),
        "backoff": _shown(row.backoff),
        "jitter": _shown(row.jitter),
        "delays": _delays(row),
        "window": _window(row),
    }
    for key in SOURCE_FIELDS:
        source = row.sources.get(key)
        rows.append((_FIELD_WORDS[key], values[key], *_provenance(source)))
    rows.append(("final failure", row.final_failure, "", ""))
    if row.framework_version:
        rows.append(("framework version", row.framework_version, "", ""))
    rows.extend(
        (f"via {via.wrapper}", "wrapper", "", f"{via.location.path}:{via.location.line}")
        for via in row.via
    )
    rows.extend(
        (f"undecided {item.field}", item.expression, UNDECIDED, str(item.location))
        for item in row.undecided
    )
    body = "".join(
        f"<tr><th>{esc(field)}</th><td>{esc(value)}</td><td>{esc(source)}</td>"
        f'<td class="mono">{esc(where)}</td></tr>'
        for field, value, source, where in rows
    )
    return (
        "<table><thead><tr><th>field</th><th>value</th><th>source</th><th>where</th></tr>"
        f"</thead><tbody>{body}</tbody></table>"
    )


def _provenance(source: Provenance | None) -> tuple[str, str]:
    if source is None:
        return "", ""
    words = source.source + (f" ({source.note})" if source.note else "")
    return words, "" if source.location is None else str(source.location)


def _shown(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _delays(row: EffectivePolicy) -> str:
    if row.delays_seconds is None:
        return _window(row)
    if not row.delays_seconds:
        return "none"
    text = ", ".join(format_duration(d) for d in row.delays_seconds)
    return text + (", …" if row.delays_truncated else "")


def _window(row: EffectivePolicy) -> str:
    window = row.window_seconds
    return window if isinstance(window, str) else format_duration(window)
