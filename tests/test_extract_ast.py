"""The `ast` reading of a file (`extract_ast`) gives exactly the summary libcst's does.

libcst defines every text and position in a summary; `extract_ast` reproduces them from `ast`
and the source, and hands what it cannot reproduce to libcst statement by statement. These
tests compare the two readings on every fixture and on source written to hit each place where
`ast` and libcst see code differently (parentheses, comments in brackets, indentation inside
brackets, f-strings, subscripts, semicolons, argument order).
"""

from __future__ import annotations

import ast
import functools
import operator
import subprocess
import sys
from pathlib import Path
from textwrap import dedent

import libcst as cst
import pytest

from retrylint import frameworks
from retrylint.python import extract, extract_ast, ir
from retrylint.scan.python_parse import parse_python
from tests.test_walk import EVERYTHING

ROOT = Path(__file__).resolve().parent.parent
INTEREST = functools.reduce(
    operator.or_,
    (a.interest for a in frameworks.PYTHON_ADAPTERS),
    ir.Interest(frozenset(), frozenset(), frozenset({"gen_task_name"})),
)

TRICKY = {
    "parentheses": """\
        x = (1)
        y = ((retry))
        z = (a).b
        f(x)
        f((x))
        f( (x) )
        print((settings.MAX), (b), *(c))
        app.conf.update(task=(tasks.send), max_retries=(3))
        f(x for x in y)
        f((x for x in y))
        f(a, (x for x in y))
        v = not (a)
        w = -(1) + (2)
        t = ((1, 2))
        u = (yield_ := 5)
        (a.b().c(x))

        def migrate(apps, schema):
            Task = apps.get_model("app", "Task")
            (
                Task.objects.filter(retries=None).update(retries=3)
            )
        """,
    "bodies": """\
        import celery

        class Task(celery.Task):
            max_retries = (
                3  # a comment with "quotes" and a # sign
            )
            default_retry_delay: int = 10; autoretry_for = (KeyError,)

        @app.task(
            bind=True,  # "bound"
            max_retries=5,
        )
        def send(self, to, *args, retry_backoff=True, **options):
            '''Doc.'''
            try:
                countdown = 2 ** self.request.retries
                message = (
                    "a"
                    "b"
                )
                deliver(
                    to,  # 'who'
                    *args,
                    text=f"{to} got {message!r} at {when:%H}",
                    extra='''x
            y''',
                )
            except (OSError, KeyError) as exc:
                raise self.retry(
                    exc=exc,
                    countdown=countdown,
                )
            options.pop("queue", None)
            options["bind"] = True
            opts = options.copy()
            self.retry_delay *= 2
            return None

        async def predicate(exc):
            return isinstance(exc, OSError)

        def docstring_then(exc):
            "Doc."
            return exc is not None and (exc.code == 1)

        def same_line(exc):
            "Doc."; return exc.code > 1

        def wrapper(fn=None, **options):
            def inner(func):
                return dramatiq.actor(func, **options)
            class Made:
                max_retries = 1
            return inner(fn) if fn else inner
        """,
    "fstrings": """\
        a = f"plain {x}"
        b = f"{x!r} {y:>{w}} {z=}"
        c = f"with \\\\ backslash {x}"
        d = f"a" "b"
        e = "a" f"{b}"
        g = f'{d["k"]} and {(x)} and { y }'
        h = rf"{x}\\d"
        i = f"{{literal}} {x}"
        j = f\"\"\"
            {x}
        \"\"\"

        def task(self, when):
            self.retry(countdown=f"{when}", eta=f\"\"\"
                {when}
            \"\"\")
            log(f"{self.retry(when)}")
        """,
    "subscripts": """\
        a = x[1]
        b = x[1, 2]
        c = x[(1, 2)]
        d = x[1,]
        e = x[()]
        f = x[1:2]
        g = x[(1), 2]
        h = settings["RETRIES"]["max"]
        """,
    "statements": """\
        import os; import sys as system;
        from . import tasks
        from ..app import celery_app as app, other
        from .settings import *
        x = 1 ; y = 2
        if os.environ.get("X"):
            MAX = 3
        elif True:
            MAX = 4
        else:
            MAX = 5
        try:
            import fast
        except ImportError:
            fast = None
        else:
            FAST = True
        finally:
            DONE = 1
        for broker in brokers: broker.max_retries = 3
        with ctx() as c:
            app.conf.update(task_default_retry_delay=10)
        while False:
            pass
        async def   spaced  ( x ) : return x
        class   Named ( Base ) : pass
        class Star(*bases, metaclass=Meta):
            max_retries = 2
        def gen_task_name(app, name, module):
            for part in module.split("."):
                name = part
            with open(name) as handle:
                del handle
            return name
        """,
    "text": """\
        café = "naïve"
        RETRIES = {"é": 1, "x": f"ü{café}"}
        def tabbed(self):
        \tself.retry(countdown=RETRIES["é"], eta=(
        \t\tnow()))
        """,
    "calls": """\
        f(a=1, *b)
        f(*b, a=1, **c)
        task.apply_async((1, 2), countdown=wait(x), retry_policy={"max_retries": 3, **extra})
        g(lambda x: (x), [y for y in z], {k: v for k, v in w}, a if b else c, 1j, ...)
        """,
}


# Found by an independent differential review: each once read differently by `ast`.
REVIEWED = {
    "genexp with a comment": "f(x for x in y  # c\n)\n",
    "genexp after a continuation": "f(\\\nx for x in y)\n",
    "attribute of None": "x = None.__class__\nNone.max_retries = 3\n",
    "f-string in commented parentheses": "x = (\n    f'{a}'  # noqa\n)\n",
    "a # in a string's last line": "retry_policy(\n    '''\n    see #1''',\n    (3),\n)\n",
    "with (call)": "def f(a):\n    with (retry(a)):\n        pass\n",
    "match (call)": "def f(a):\n    match (retry(a)):\n        case _:\n            pass\n",
    "match as a function": "match(x)\nmatch (x)\n",
    "empty format spec": "x = f'{a:}'\n",
    "starred subscript": "x = a[*b]\ny = a[*b,]\n",
    "star and a comment": "f(*  # c\n  a)\n",
    "calls of odd callees": "x = {}(a)\ny = None(a)\nz = ...(a)\nw = x\u0301(a)\n",
    "semicolon after a continuation": "x = 1; \\\ny = 2\nz = 1 \\\n; w = 2\n",
    "one-item option key": "def f(**kw):\n    kw['bind',] = True\n    actor(f, **kw)\n",
    "decorator after a continuation": "@\\\napp.task\ndef gen_task_name(self, name):\n    return name\n",
}


@pytest.mark.parametrize("name", sorted(REVIEWED))
def test_ast_reading_matches_libcst_where_a_review_found_it_did_not(name: str) -> None:
    source = REVIEWED[name]
    module = cst.parse_module(source)
    by_libcst = extract.extract(module, "mod.py", "pkg.mod", INTEREST)
    tree, text = extract_ast.parse(source)
    assert extract_ast.extract(tree, text, "mod.py", "pkg.mod", INTEREST) == by_libcst


@pytest.mark.parametrize(
    "source",
    [
        "\fx = 1\n",  # a form feed before code: libcst counts columns differently
        "def f(a):\n    \uff52\uff45\uff54\uff52\uff59(1)\n",  # `ast` normalizes names (NFKC)
    ],
)
def test_files_whose_positions_or_names_ast_changes_go_to_libcst(source: str) -> None:
    with pytest.raises(extract_ast.WholeFile):
        extract_ast.extract(ast.parse(source), source, "m.py", "m", INTEREST)
    assert parse_python(source.encode(), "m.py", "m", INTEREST) == extract.extract(
        cst.parse_module(source), "m.py", "m", INTEREST
    )


def _readings(source: str, path: str = "mod.py") -> tuple[ir.ModuleSummary, ir.ModuleSummary]:
    module = cst.parse_module(source)
    by_libcst = extract.extract(module, path, "pkg.mod", INTEREST)
    by_ast = extract_ast.extract(ast.parse(source), source, path, "pkg.mod", INTEREST)
    return by_libcst, by_ast


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_ast_reading_matches_libcst_on_tricky_source(name: str) -> None:
    by_libcst, by_ast = _readings(dedent(TRICKY[name]))
    assert by_ast == by_libcst


def test_ast_reading_matches_libcst_on_every_kind_of_syntax() -> None:
    by_libcst, by_ast = _readings(EVERYTHING)
    assert by_ast == by_libcst


def test_ast_reading_matches_libcst_on_every_fixture() -> None:
    files = sorted((ROOT / "fixtures").rglob("*.py"))
    assert len(files) > 50
    compared = 0
    for path in files:
        source = path.read_text(encoding="utf-8", errors="replace")
        try:
            ast.parse(source)
            cst.parse_module(source)
        except (SyntaxError, cst.ParserSyntaxError):
            continue  # fixtures of broken files: read by libcst alone
        by_libcst, by_ast = _readings(source, path.relative_to(ROOT).as_posix())
        assert by_ast == by_libcst, path
        compared += 1
    assert compared > 50


def test_what_ast_cannot_reproduce_is_read_by_libcst_statement_by_statement(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A function whose every rebinding is kept goes to libcst; the statements around it
    stay with `ast`, and the summary is the same as libcst's alone."""
    fragments: list[str] = []
    real = cst.parse_module

    def recording(code: str) -> cst.Module:
        fragments.append(code)
        return real(code)

    source = dedent(TRICKY["statements"])
    by_libcst = extract.extract(cst.parse_module(source), "m.py", "pkg.mod", INTEREST)
    monkeypatch.setattr(cst, "parse_module", recording)
    by_ast = extract_ast.extract(ast.parse(source), source, "m.py", "pkg.mod", INTEREST)
    assert by_ast == by_libcst
    assert len(fragments) == 1 and fragments[0].startswith("def gen_task_name(")


def test_a_plain_file_is_read_without_libcst() -> None:
    code = (
        "import sys\n"
        "from retrylint.python import ir\n"
        "from retrylint.scan.python_parse import parse_python\n"
        "src = b'import celery\\n@app.task(max_retries=(3))\\ndef send(x):\\n    x.retry()\\n'\n"
        "summary = parse_python(src, 'm.py', 'm', ir.Interest(frozenset({'retry'}), frozenset()))\n"
        "assert summary.functions[0].decorators[0].text == 'app.task(max_retries=(3))'\n"
        "print('libcst' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize(
    "source",
    [
        # an encoding declared: libcst decodes it
        "# -*- coding: latin-1 -*-\nNAME = 'caf\xe9'\n".encode("latin-1"),
        # a byte-order mark
        b"\xef\xbb\xbfRETRIES = 3\n",
        # lone carriage returns as line ends
        b"A = 1\rB = f(\r  2)\r",
    ],
)
def test_files_ast_is_not_given_are_read_by_libcst(source: bytes) -> None:
    summary = parse_python(source, "m.py", "m", INTEREST)
    module = cst.parse_module(source)
    assert summary == extract.extract(module, "m.py", "m", INTEREST)


NEWER = """\
    from celery import shared_task

    type Handler = Callable[[Event], None]


    class Box[T: (int, str)](Base):
        max_retries = 3

        def put[U](self, item: U) -> None:
            type Local = list[U]
            try:
                self.retry(countdown=5)
            except KeyError, IndexError:
                raise


    @shared_task(autoretry_for=(KeyError,), max_retries=4)
    async def send[T](to: T) -> None:
        pass
    """


def test_newer_syntax_a_summary_never_holds_is_passed_by() -> None:
    """Type parameters, `type` aliases and `except A, B:` (Python 3.12-3.14) are blanked out
    for an older `ast`, with every position kept, and the summary is libcst's."""
    source = dedent(NEWER)
    tree, text = extract_ast.parse(source)
    assert len(text) == len(source) and text.count("\n") == source.count("\n")
    by_ast = extract_ast.extract(tree, text, "m.py", "pkg.mod", INTEREST)
    assert by_ast == extract.extract(cst.parse_module(source), "m.py", "pkg.mod", INTEREST)


@pytest.mark.parametrize(
    "source",
    [
        "type Handler = make_handler()\n",  # a call libcst's walk would see
        "try:\n    pass\nexcept first(), second:\n    pass\n",
        "def f():\n    print('python 2')\n    print 'x'\n",  # not newer: an error
        # newer syntax, but wrong: blanking it would hide the error
        "try:\n    pass\nexcept A, B as e:\n    pass\n",
        "type X = 1 2\nx = 1\n",
        "x = 1\ntype X = [1,\ny = 2\n",
        "class A[]:\n    pass\n",
        "def f[T U](a):\n    pass\n",
    ],
)
def test_other_syntax_errors_are_left_to_libcst(source: str) -> None:
    if sys.version_info >= (3, 12) and source.startswith("type"):
        pytest.skip("`ast` reads `type` aliases from 3.12")
    if sys.version_info >= (3, 14) and source.startswith("try") and " as " not in source:
        pytest.skip("`ast` reads `except A, B:` from 3.14")
    if sys.version_info >= (3, 12) and source.startswith("x = 1\ntype"):
        pytest.skip("a syntax error all the same, but not one of `type` on 3.12")
    with pytest.raises(SyntaxError):
        extract_ast.parse(source)
