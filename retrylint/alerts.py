"""`retrylint alerts --format prometheus`: Prometheus alerting rules per category, from the
inventory, for the frameworks whose metrics have a well-known exporter.

Metric and label names, as their exporters define them (README "Alert rules" cites the files):

- Celery through danihodovic/celery-exporter (`src/exporter.py`): counters `celery_task_sent`,
  `celery_task_failed` (labels `name`, `hostname`, `exception`, `queue_name`),
  `celery_task_retried`, `celery_task_rejected` (`name`, `hostname`, `queue_name`), exposed with
  prometheus_client's `_total` suffix; gauge `celery_queue_length` (`queue_name`). A task that
  runs out of retries sends `task-failed`; a retry sends `task-retried` instead.
- Dramatiq's `dramatiq.middleware.prometheus.Prometheus`: counters `dramatiq_messages_total`,
  `dramatiq_message_errors_total`, `dramatiq_message_retries_total`,
  `dramatiq_message_rejects_total` ("dead-lettered": `after_nack`, where a message whose
  retries ran out goes), labels `queue_name`, `actor_name`. It has no queue-length metric.
- asynq's `x/metrics.QueueMetricsCollector`: gauge `asynq_tasks_enqueued_total` (labels `queue`,
  `state`: `archived` is where exhausted tasks go), gauge `asynq_queue_size`, counters
  `asynq_tasks_processed_total`, `asynq_tasks_failed_total`, all per `queue` only: there is no
  task-type label, so asynq rules are per queue.

Thresholds are derived from the policy, never guessed per task (README gives the table): a
category that demands retries (`max-retries.min`, `min-window` or `dead-letter = true`) is
critical and alerts on any exhausted message; any other is best-effort and alerts when messages
exhaust faster than 5 % of the category's known `rate`, else 0.1 per second. A category can
state its own numbers instead (`alert-exhausted-rate`, `alert-queue-length`). The YAML is written
by hand (double-quoted JSON strings are valid YAML scalars) so that the output is byte-stable
without a YAML library at run time.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from retrylint.engine import Report
from retrylint.model import Assignment, Category, EffectivePolicy

FRAMEWORKS = ("asynq", "celery", "dramatiq")
BEST_EFFORT_SHARE = Fraction(5, 100)
BEST_EFFORT_DEFAULT = Fraction(1, 10)  # exhausted messages per second, without a known rate
QUEUE_MINUTES = 5  # queue-length threshold: this many minutes of the known enqueue rate
QUEUE_DEFAULT = 1000
_ASYNQ_QUEUE = re.compile(r"archived in queue `([^`]+)`")


@dataclass(frozen=True, slots=True)
class Rule:
    alert: str
    expr: str
    duration: str
    severity: str
    summary: str
    description: str
    category: str
    framework: str
    task: str | None = None
    queue: str | None = None


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    rules: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class _Task:
    name: str
    framework: str
    retries: int | None  # None: unbounded or undecided
    rate: Fraction | None
    queue: str | None


def build(report: Report) -> tuple[tuple[Group, ...], tuple[str, ...]]:
    """Rule groups per category, and the categories skipped with `alert = false`."""
    by_category: dict[str, tuple[Category, list[_Task]]] = {}
    skipped: set[str] = set()
    for row, assignment in zip(report.rows, report.assignments, strict=True):
        task = _task(row, assignment)
        if task is None or assignment is None:
            continue
        category = assignment.category
        if not category.alert:
            skipped.add(category.name)
            continue
        by_category.setdefault(category.name, (category, []))[1].append(task)
    groups = []
    for name in sorted(by_category):
        category, tasks = by_category[name]
        rules = [rule for fw in FRAMEWORKS for rule in _rules(category, tasks, fw)]
        if rules:
            groups.append(Group(f"retrylint-{name}", tuple(rules)))
    return tuple(groups), tuple(sorted(skipped))


def _task(row: EffectivePolicy, assignment: Assignment | None) -> _Task | None:
    if row.framework not in FRAMEWORKS or row.name is None or row.retry_trigger is None:
        return None
    queue = None
    if row.framework == "asynq":
        match = _ASYNQ_QUEUE.search(row.final_failure)
        queue = match.group(1) if match else None
    retries = row.max_retries if isinstance(row.max_retries, int) else None
    rate = assignment.rate if assignment is not None else None
    return _Task(row.name, row.framework, retries, rate, queue)


def critical(category: Category) -> bool:
    """A category that asks for retries to happen wants to hear of every message that ran out."""
    return bool(category.min_retries) or category.min_window is not None or category.dead_letter


def _rules(category: Category, all_tasks: Sequence[_Task], framework: str) -> list[Rule]:
    tasks = _unique(t for t in all_tasks if t.framework == framework)
    if not tasks:
        return []
    if framework == "asynq":
        return _asynq_rules(category, tasks)
    return _task_rules(category, tasks, framework)


def _unique(tasks: Iterable[_Task]) -> list[_Task]:
    """One entry per task name: the largest budget among its sites, the first known rate."""
    merged: dict[str, _Task] = {}
    for task in tasks:
        seen = merged.get(task.name)
        if seen is None:
            merged[task.name] = task
            continue
        retries = None
        if seen.retries is not None and task.retries is not None:
            retries = max(seen.retries, task.retries)
        merged[task.name] = _Task(
            task.name, task.framework, retries, seen.rate or task.rate, seen.queue or task.queue
        )
    return [merged[name] for name in sorted(merged)]


_METRICS = {
    "celery": {
        "label": "name",
        "exhausted": "celery_task_failed_total",
        "retried": "celery_task_retried_total",
        "dead": "celery_task_rejected_total",
        "display": "Celery",
    },
    "dramatiq": {
        "label": "actor_name",
        "exhausted": "dramatiq_message_rejects_total",
        "retried": "dramatiq_message_retries_total",
        "dead": "",
        "display": "Dramatiq",
    },
}


def _task_rules(category: Category, tasks: Sequence[_Task], framework: str) -> list[Rule]:
    metrics = _METRICS[framework]
    label, display = metrics["label"], metrics["display"]
    names = [t.name for t in tasks]
    selector = f"{{{label}=~{_promql_string(_alternation(names))}}}"
    stem = _camel(category.name) + _camel(framework)
    rules = [_exhausted(category, tasks, framework, f"{metrics['exhausted']}{selector}", label)]
    for task in tasks:
        if task.rate is None or not task.retries:
            continue
        limit = task.rate * task.retries
        expr = (
            f"sum(rate({metrics['retried']}{{{label}={_promql_string(task.name)}}}[5m])) "
            f"> {_decimal(limit)}"
        )
        rules.append(
            Rule(
                alert=f"RetrylintRetryRate{stem}",
                expr=expr,
                duration="10m",
                severity="warning",
                summary=f"{task.name} retries more than its policy allows",
                description=(
                    f"{display} task {task.name} retries more than {_decimal(limit)}/s: its "
                    f"policy allows {task.retries} retries per message at {_decimal(task.rate)} "
                    "messages/s, so messages are retried outside the budget or the enqueue "
                    "rate grew."
                ),
                category=category.name,
                framework=framework,
                task=task.name,
            )
        )
    if metrics["dead"]:
        rules.append(
            Rule(
                alert=f"RetrylintDeadLetter{stem}",
                expr=f"sum by ({label}) (increase({metrics['dead']}{selector}[15m])) > 0",
                duration="0s",
                severity="warning",
                summary="Tasks rejected by workers (re-queued or dead-lettered)",
                description=(
                    f"{display} workers rejected {{{{ $labels.{label} }}}} messages in the "
                    "last 15 minutes: they are re-queued or moved to a dead-letter queue."
                ),
                category=category.name,
                framework=framework,
            )
        )
    return rules


def _exhausted(
    category: Category, tasks: Sequence[_Task], framework: str, series: str, by: str
) -> Rule:
    stem = _camel(category.name) + _camel(framework)
    where = "archived" if framework == "asynq" else "failed for good"
    if category.alert_exhausted_rate is not None:
        return _exhausted_over(category, framework, series, by, category.alert_exhausted_rate)
    if critical(category):
        increase = "delta" if framework == "asynq" else "increase"
        return Rule(
            alert=f"RetrylintRetriesExhausted{stem}",
            expr=f"sum by ({by}) ({increase}({series}[5m])) > 0",
            duration="0s",
            severity="critical",
            summary=f"{category.name} tasks ran out of retries",
            description=(
                f"{{{{ $labels.{by} }}}}: {{{{ $value }}}} messages of category {category.name} "
                f"exhausted their retries and {where} in the last 5 minutes; the category "
                "requires retries, so each one is lost work."
            ),
            category=category.name,
            framework=framework,
        )
    threshold = _best_effort_threshold(tasks)
    rate = f"delta({series}[15m]) / 900" if framework == "asynq" else f"rate({series}[15m])"
    return Rule(
        alert=f"RetrylintRetriesExhausted{stem}",
        expr=f"sum by ({by}) ({rate}) > {_decimal(threshold)}",
        duration="15m",
        severity="warning",
        summary=f"{category.name} tasks run out of retries often",
        description=(
            f"{{{{ $labels.{by} }}}}: messages of category {category.name} exhaust their "
            f"retries at {{{{ $value }}}}/s, above {_decimal(threshold)}/s, for 15 minutes."
        ),
        category=category.name,
        framework=framework,
    )


def _exhausted_over(
    category: Category, framework: str, series: str, by: str, threshold: Fraction
) -> Rule:
    """The category's own `alert-exhausted-rate`: it replaces only the number. A critical
    category keeps its short window and pages at once; any other keeps the 15-minute watch."""
    stem = _camel(category.name) + _camel(framework)
    urgent = critical(category)
    minutes = 5 if urgent else 15
    rate = (
        f"delta({series}[{minutes}m]) / {minutes * 60}"
        if framework == "asynq"
        else f"rate({series}[{minutes}m])"
    )
    return Rule(
        alert=f"RetrylintRetriesExhausted{stem}",
        expr=f"sum by ({by}) ({rate}) > {_decimal(threshold)}",
        duration="0s" if urgent else "15m",
        severity="critical" if urgent else "warning",
        summary=f"{category.name} tasks run out of retries faster than the category allows",
        description=(
            f"{{{{ $labels.{by} }}}}: messages of category {category.name} exhaust their "
            f"retries at {{{{ $value }}}}/s over {minutes} minutes, above the category's "
            f"alert-exhausted-rate of {_decimal(threshold)}/s."
        ),
        category=category.name,
        framework=framework,
    )


def _best_effort_threshold(tasks: Sequence[_Task]) -> Fraction:
    rates = [t.rate for t in tasks if t.rate is not None]
    return sum(rates, Fraction(0)) * BEST_EFFORT_SHARE if rates else BEST_EFFORT_DEFAULT


def _asynq_rules(category: Category, tasks: Sequence[_Task]) -> list[Rule]:
    rules: list[Rule] = []
    stem = _camel(category.name) + "Asynq"
    queues = sorted({t.queue for t in tasks if t.queue is not None})
    if not queues:
        return rules
    matcher = f"queue=~{_promql_string(_alternation(queues))}"
    rules.append(
        _exhausted(
            category,
            tasks,
            "asynq",
            f'asynq_tasks_enqueued_total{{state="archived",{matcher}}}',
            "queue",
        )
    )
    for queue in queues:
        threshold, why = _queue_threshold(category, [t for t in tasks if t.queue == queue])
        rules.append(
            Rule(
                alert=f"RetrylintQueueLength{stem}",
                expr=f"max(asynq_queue_size{{queue={_promql_string(queue)}}}) > {threshold}",
                duration="10m",
                severity="warning",
                summary=f"asynq queue {queue} is backing up",
                description=(
                    f"asynq queue {queue} (category {category.name}) holds {{{{ $value }}}} "
                    f"tasks, more than {threshold} ({why}), for 10 minutes."
                ),
                category=category.name,
                framework="asynq",
                queue=queue,
            )
        )
    return rules


def _queue_threshold(category: Category, tasks: Sequence[_Task]) -> tuple[int, str]:
    """The category's `alert-queue-length`, else minutes of the queue's known rates (all of
    its tasks must have one), else the default; with the reason the description gives."""
    if category.alert_queue_length is not None:
        return category.alert_queue_length, "the category's alert-queue-length"
    rates = [t.rate for t in tasks if t.rate is not None]
    if rates and len(rates) == len(tasks):
        minutes = math.ceil(sum(rates, Fraction(0)) * 60 * QUEUE_MINUTES)
        return minutes, f"{QUEUE_MINUTES} minutes of its tasks' enqueue rate"
    return QUEUE_DEFAULT, "no rate known for its tasks"


def _alternation(values: Sequence[str]) -> str:
    """An RE2 alternation matching exactly these strings (Prometheus anchors `=~`); a special
    character goes in a class (`[.]`), which reads better in YAML than a doubled backslash.
    Task names never hold `[`, `]`, `\\` or `^`."""
    return "|".join(re.sub(r"[.+*?()|{}$]", r"[\g<0>]", v) for v in values)


def _promql_string(value: str) -> str:
    """A PromQL double-quoted string (Go escapes): backslashes and quotes escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _camel(word: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", word))


def _decimal(value: Fraction) -> str:
    """A threshold PromQL reads; six decimals at most (thresholds need no more)."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.6f}".rstrip("0").rstrip(".")


def render_prometheus(groups: Sequence[Group], skipped: Sequence[str]) -> str:
    """A Prometheus rule file: `groups[].rules[]` with alert, expr, for, labels, annotations."""
    lines = ["# Generated by `retrylint alerts --format prometheus`; regenerate, do not edit."]
    for name in skipped:
        lines.append(f"# Category {name}: alert = false, no rules.")
    if not groups:
        lines.append("groups: []")
        return "\n".join(lines) + "\n"
    lines.append("groups:")
    for group in groups:
        lines.append(f"  - name: {_q(group.name)}")
        lines.append("    rules:")
        for rule in group.rules:
            lines += [
                f"      - alert: {_q(rule.alert)}",
                f"        expr: {_q(rule.expr)}",
                f"        for: {_q(rule.duration)}",
                "        labels:",
                f"          severity: {_q(rule.severity)}",
                f"          category: {_q(rule.category)}",
                f"          framework: {_q(rule.framework)}",
                *([f"          task: {_q(rule.task)}"] if rule.task is not None else []),
                *([f"          queue: {_q(rule.queue)}"] if rule.queue is not None else []),
                "        annotations:",
                f"          summary: {_q(rule.summary)}",
                f"          description: {_q(rule.description)}",
            ]
    return "\n".join(lines) + "\n"


def _q(value: str) -> str:
    """A YAML double-quoted scalar; JSON's escapes are YAML's."""
    return json.dumps(value, ensure_ascii=False)
