"""The rule registry: an explicit list, because a rule module nobody imports never runs.

Codes are never reused; the registry refuses duplicates at import time and a test checks that
every module in this package is registered and every rule has its document in `rules/`.
"""

from __future__ import annotations

from retrylint.rules.base import Rule
from retrylint.rules.rl000_unparsable_file import UnparsableFile
from retrylint.rules.rl001_unused_suppression import UnusedSuppression
from retrylint.rules.rl002_undecided_retry_option import UndecidedRetryOption
from retrylint.rules.rl003_suppression_without_reason import SuppressionWithoutReason
from retrylint.rules.rl004_no_tasks_found import NoTasksFound
from retrylint.rules.rl101_unbounded_retries import UnboundedRetries
from retrylint.rules.rl102_retry_limit_out_of_policy import RetryLimitOutOfPolicy
from retrylint.rules.rl103_implicit_retry_default import ImplicitRetryDefault
from retrylint.rules.rl104_retry_config_never_triggered import RetryConfigNeverTriggered
from retrylint.rules.rl105_retries_not_counted import RetriesNotCounted
from retrylint.rules.rl106_requeue_loop import RequeueLoop
from retrylint.rules.rl107_unbounded_publish_retry import UnboundedPublishRetry
from retrylint.rules.rl201_missing_backoff import MissingBackoff
from retrylint.rules.rl202_missing_jitter import MissingJitter
from retrylint.rules.rl203_retry_window_exceeds_policy import RetryWindowExceedsPolicy
from retrylint.rules.rl204_delay_unit_slip import DelayUnitSlip
from retrylint.rules.rl205_delay_exceeds_visibility_timeout import DelayExceedsVisibilityTimeout
from retrylint.rules.rl206_retry_window_below_policy import RetryWindowBelowPolicy
from retrylint.rules.rl301_retries_on_broad_exception import RetriesOnBroadException
from retrylint.rules.rl302_retries_non_idempotent_task import RetriesNonIdempotentTask
from retrylint.rules.rl401_uncategorized_task import UncategorizedTask
from retrylint.rules.rl402_unmatched_inventory_entry import UnmatchedInventoryEntry
from retrylint.rules.rl403_missing_dead_letter import MissingDeadLetter
from retrylint.rules.rl404_enqueued_type_without_handler import EnqueuedTypeWithoutHandler
from retrylint.rules.rl405_handler_without_producer import HandlerWithoutProducer
from retrylint.rules.rl406_review_overdue import ReviewOverdue
from retrylint.rules.rl501_nested_retry_loop import NestedRetryLoop
from retrylint.rules.rl502_duplicate_retry_middleware import DuplicateRetryMiddleware
from retrylint.rules.rl503_ignored_retry_option import IgnoredRetryOption


def _registry(*rules: Rule) -> dict[str, Rule]:
    out: dict[str, Rule] = {}
    names: set[str] = set()
    for rule in rules:
        code, name = rule.meta.code, rule.meta.name
        if code in out or name in names:
            raise RuntimeError(f"duplicate rule {code} {name}")
        out[code] = rule
        names.add(name)
    return out


RULES: dict[str, Rule] = _registry(
    UnparsableFile(),
    UnusedSuppression(),
    UndecidedRetryOption(),
    SuppressionWithoutReason(),
    NoTasksFound(),
    UnboundedRetries(),
    RetryLimitOutOfPolicy(),
    ImplicitRetryDefault(),
    RetryConfigNeverTriggered(),
    RetriesNotCounted(),
    RequeueLoop(),
    UnboundedPublishRetry(),
    MissingBackoff(),
    MissingJitter(),
    RetryWindowExceedsPolicy(),
    DelayUnitSlip(),
    DelayExceedsVisibilityTimeout(),
    RetryWindowBelowPolicy(),
    RetriesOnBroadException(),
    RetriesNonIdempotentTask(),
    UncategorizedTask(),
    UnmatchedInventoryEntry(),
    MissingDeadLetter(),
    EnqueuedTypeWithoutHandler(),
    HandlerWithoutProducer(),
    ReviewOverdue(),
    NestedRetryLoop(),
    DuplicateRetryMiddleware(),
    IgnoredRetryOption(),
)
