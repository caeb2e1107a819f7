"""The edits a fix is made of, as plain values, so that planning, applying and verifying stay
apart: the planner says *what* to write and *where* (a place the resolver cited), the appliers
(`python_edits`, `go_edits`) find that place in the parsed file, and the verifier can drop any
fix without touching the others.

Places are `Location`s as the resolver reports them (1-based lines and character columns, the
end exclusive), never line numbers computed here, so an edit lands exactly on the value or the
declaration the finding cited.
"""

from __future__ import annotations

from dataclasses import dataclass

from retrylint.model import Location


@dataclass(frozen=True)
class Replace:
    """Replace the expression spanning `at` (a value the resolver cited as the source).

    `by_keyword` chooses the text by what the value is written for: the keyword of the argument,
    the string key of a dict entry or the assigned name (`stop=` wants `stop_after_attempt(3)`,
    `max_retries=` wants `3`); `default` is used for anything else.
    """

    at: Location
    default: str
    by_keyword: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Keyword:
    """Set `keyword=code` on a call: the decorator of the definition named at `at` whose
    dotted name ends in one of `decorators`, else the call that starts at `at`.

    With `inner`, the call edited is the value of that keyword (`retry_policy=RetryPolicy(...)`),
    created as `inner=create(keyword=code)` when the keyword is absent or `None`.
    """

    at: Location
    keyword: str
    code: str
    decorators: tuple[str, ...] = ()
    inner: str | None = None
    create: str | None = None
    # A value for the same option written elsewhere (inside a wrapper) that this keyword is
    # meant to override: refused when it is itself a call's keyword argument, since the wrapper
    # would then pass the option twice (`TypeError: got multiple values`).
    overrides: Location | None = None


@dataclass(frozen=True)
class Attribute:
    """Set `name = code` in the body of the class named at `at` (a class-based Celery task)."""

    at: Location
    name: str
    code: str


@dataclass(frozen=True)
class Import:
    """`from module import name` (or `import module` when `name` is empty), added once."""

    path: str
    module: str
    name: str = ""


PythonEdit = Replace | Keyword | Attribute | Import


@dataclass(frozen=True)
class GoReplace:
    """Replace the Go expression spanning `at`, or with `argument` the only argument of the
    call spanning `at` (asynq's `MaxRetry(n)`, cited as the whole call, however the package is
    named in that file)."""

    at: Location
    code: str
    argument: bool = False


Edit = PythonEdit | GoReplace


def path_of(edit: Edit) -> str:
    """The project-relative file an edit changes."""
    return edit.path if isinstance(edit, Import) else edit.at.path
