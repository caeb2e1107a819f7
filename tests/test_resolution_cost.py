"""Name resolution costs what the import chain is long, not 2 ** its length.

At each import a name can be looked for two ways: as the import says, and, when that ends
outside the project, as a sibling of a module run as a script (`from helpers import f` beside
it). When both ways lead into the same chain of imports, trying both at every step doubled the
work per step: a real repository spent four minutes on one adapter's questions.
"""

from __future__ import annotations

from retrylint.python import ir
from retrylint.python.project import Project

_SPAN = ir.Span(1, 1, 1, 2)


def _module(name: str, target: str) -> ir.ModuleSummary:
    return ir.ModuleSummary(
        path=name.replace(".", "/") + ".py",
        module=name,
        imports=(ir.Import("x", target, _SPAN),),
        bindings=(),
        calls=(),
        functions=(),
        classes=(),
    )


def test_a_chain_that_forks_at_every_import_is_resolved_in_linear_steps() -> None:
    # `pkg.mN` imports `x` from top-level `m(N+1)` (which forwards to `pkg.m(N+1)`); that ends
    # outside the project, so the script-sibling reading `pkg.m(N+1).x` is tried as well.
    depth = 6
    summaries = [_module("pkg", "library.x")]
    for n in range(depth):
        summaries.append(_module(f"pkg.m{n}", f"m{n + 1}.x"))
        summaries.append(_module(f"m{n + 1}", f"pkg.m{n + 1}.x"))
    summaries.append(_module(f"pkg.m{depth}", "library.x"))
    project = Project(summaries, lambda dotted, near: None)
    lookups = 0
    module = project.module

    def counted(dotted: str, near: str | None = None) -> ir.ModuleSummary | None:
        nonlocal lookups
        lookups += 1
        return module(dotted, near)

    project.module = counted  # type: ignore[method-assign]
    found = project.resolve(summaries[1], "x")
    assert found is not None
    assert (found.kind, found.qualified) == ("external", "library.x")
    assert lookups < 30 * depth  # each module's prefixes looked up a bounded number of times
