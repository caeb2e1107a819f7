"""Python source bytes → `ModuleSummary`, or a located reason why not (RL000).

libcst can crash the interpreter on very deep brackets and is quadratic on very long operator
chains, so a deterministic token pre-check refuses such files before libcst sees them
(CONTRACTS §9). The pre-check is exact (it uses `tokenize`) but is only run when cheap counts
show that the limits could be reached at all.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field, replace

from retrylint.python import ir

MAX_BRACKET_DEPTH = 500
MAX_OPERATORS_PER_LINE = 2000
_OPERATOR_CHARS = re.compile(rb"[-+*/%@&|^<>=!~]")
_SUPPRESSION = re.compile(
    r"#\s*retrylint:\s*ignore\[(?P<codes>[^\]]*)\](?P<reason>.*)$", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class ParseProblem:
    path: str
    line: int
    column: int
    message: str
    cacheable: bool = field(default=False, compare=False)
    """Decided by the file's bytes alone (a syntax error, not a timeout), so a cache may keep it."""


def _precheck(source: bytes, path: str) -> ParseProblem | None:
    opening = source.count(b"(") + source.count(b"[") + source.count(b"{")
    operators = len(_OPERATOR_CHARS.findall(source))
    if opening <= MAX_BRACKET_DEPTH and operators <= MAX_OPERATORS_PER_LINE:
        return None
    depth = 0
    count = 0
    try:
        for tok in tokenize.tokenize(io.BytesIO(source).readline):
            if tok.type == tokenize.OP:
                if tok.string in "([{":
                    depth += 1
                    if depth > MAX_BRACKET_DEPTH:
                        return ParseProblem(
                            path,
                            tok.start[0],
                            tok.start[1] + 1,
                            f"brackets nested deeper than {MAX_BRACKET_DEPTH} levels; "
                            "retrylint does not parse such files",
                        )
                elif tok.string in ")]}":
                    depth -= 1
                elif tok.string not in ",:;.=":
                    count += 1
                    if count > MAX_OPERATORS_PER_LINE:
                        return ParseProblem(
                            path,
                            tok.start[0],
                            tok.start[1] + 1,
                            f"more than {MAX_OPERATORS_PER_LINE} operators on one logical line; "
                            "retrylint does not parse such files",
                        )
            elif tok.type == tokenize.NEWLINE:
                count = 0
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError):
        return None  # libcst reports the real syntax error with its position
    return None


def find_suppressions(text: str) -> tuple[ir.Suppression, ...]:
    """`# retrylint: ignore[...]` comments, read as comment tokens so strings never count."""
    if "retrylint" not in text:
        return ()
    found: list[ir.Suppression] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type != tokenize.COMMENT:
                continue
            match = _SUPPRESSION.search(tok.string)
            if match:
                codes = tuple(c.strip().upper() for c in match["codes"].split(",") if c.strip())
                found.append(
                    ir.Suppression(
                        tok.start[0], tok.start[1] + 1, codes, match["reason"].strip(" -—:")
                    )
                )
    except (tokenize.TokenError, SyntaxError):
        pass
    return tuple(found)


def _syntax_message(raw: str) -> str:
    """libcst's message without its repeated position and with long token lists shortened."""
    message = re.sub(r"^(parser error: )?error at \d+:\d+: ", "", raw.strip()).rstrip(".")
    head, sep, tokens = message.partition("expected one of ")
    listed = tokens.split(", ")
    if sep and len(listed) > 6:
        message = f"{head}{sep}{', '.join(listed[:6])}, ... ({len(listed) - 6} more)"
    return f"syntax error: {message}"


def parse_python(
    source: bytes, path: str, dotted: str, interest: ir.Interest
) -> ir.ModuleSummary | ParseProblem:
    """Parse and summarize one file; every failure becomes a `ParseProblem`, never an exception.

    Every outcome here depends on the bytes alone, so problems come back `cacheable`.
    """
    result = _parse_python(source, path, dotted, interest)
    return replace(result, cacheable=True) if isinstance(result, ParseProblem) else result


def load_parser() -> None:
    """Import the `ast` extractor now, when a worker starts. libcst (0.15 s) is imported only
    by a worker that meets a file or statement `ast` cannot read the way libcst does."""
    import retrylint.python.extract_ast  # noqa: F401


def _with_ast(
    source: bytes, path: str, dotted: str, interest: ir.Interest
) -> ir.ModuleSummary | ParseProblem | None:
    """The summary read through `ast`, ten times faster than libcst; None when libcst must
    read the file: not plain UTF-8, or not Python that `ast` parses (syntax newer than the
    running Python's beyond what `extract_ast.parse` passes by, or a syntax error, which libcst
    words with its position). Nesting past the interpreter's parser (which reports it as a
    `MemoryError`) is not handed on: libcst would spend gigabytes on it before failing too."""
    from retrylint.python import extract_ast

    try:
        # A byte-order mark or another encoding declared (PEP 263): left to libcst.
        if tokenize.detect_encoding(io.BytesIO(source).readline)[0] != "utf-8":
            return None
        text = source.decode("utf-8")
        tree, parsed = extract_ast.parse(text)
    except (UnicodeDecodeError, SyntaxError, ValueError):
        return None
    except RecursionError:  # as libcst's reading gives for it below
        return ParseProblem(path, 1, 1, "nesting too deep for the parser")
    try:
        return extract_ast.extract(tree, parsed, path, dotted, interest, find_suppressions(text))
    except (extract_ast.WholeFile, RecursionError):
        return None


def _parse_python(
    source: bytes, path: str, dotted: str, interest: ir.Interest
) -> ir.ModuleSummary | ParseProblem:
    if b"\x00" in source:
        return ParseProblem(path, 1, 1, "file contains NUL bytes; it is not Python source")
    problem = _precheck(source, path)
    if problem is not None:
        return problem
    read = _with_ast(source, path, dotted, interest)
    if read is not None:
        return read
    # Imported here: a run served from the cache or by `ast` alone never loads libcst.
    import libcst as cst

    from retrylint.python.extract import extract

    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as err:
        return ParseProblem(path, err.raw_line, err.raw_column + 1, _syntax_message(err.message))
    except (UnicodeDecodeError, LookupError, SyntaxError) as err:
        return ParseProblem(path, 1, 1, f"cannot decode file: {err}")
    except RecursionError:
        return ParseProblem(path, 1, 1, "nesting too deep for the parser")
    text = source.decode(module.encoding, errors="replace")
    return extract(module, path, dotted, interest, find_suppressions(text))
