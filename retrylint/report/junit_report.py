"""`check --format junit`: JUnit XML, for CI systems that show test reports (GitLab's
`artifacts:reports:junit`, Jenkins, Azure Pipelines, CircleCI).

One `testsuite` per file and one failed `testcase` per finding, as ruff and eslint lay it
out: test report views list suites, so grouping by file says where to look, while the case
name (`RL101 unbounded-retries: app.tasks.sync`) says what and which task. A case name holds no
line number, so CI tools that track a test across runs keep tracking it when code moves.
`classname` is the path without its extension, because Jenkins splits a class name at its last
dot. Every finding is a `failure` whatever its severity (its `type` is the severity): JUnit's
`error` means the test itself crashed.

A run without findings writes one passing case: Jenkins' `junit` step fails on a report
without tests, and "no findings" is the result to show. No timestamps, durations or host names:
the same code gives the same bytes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import PurePosixPath

from retrylint.engine import Report
from retrylint.model import Finding
from retrylint.report import message_with_fix

# Characters XML 1.0 cannot carry at all, not even escaped; a task name or path read from code
# can hold them (lone surrogates stand for undecodable file-name bytes).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render_junit(report: Report) -> str:
    by_file: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by_file.setdefault(finding.location.path, []).append(finding)
    total = len(report.findings)
    root = ET.Element(
        "testsuites", _attributes(name="retrylint", tests=max(total, 1), failures=total, errors=0)
    )
    for path, findings in by_file.items():
        suite = ET.SubElement(
            root,
            "testsuite",
            _attributes(name=path, tests=len(findings), failures=len(findings), errors=0),
        )
        for finding in findings:
            _case(suite, finding)
    if not by_file:
        suite = ET.SubElement(
            root, "testsuite", _attributes(name="retrylint", tests=1, failures=0, errors=0)
        )
        ET.SubElement(suite, "testcase", _attributes(name="no findings", classname="retrylint"))
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _case(suite: ET.Element, finding: Finding) -> None:
    location = finding.location
    subject = finding.task or finding.inventory_key
    name = f"{finding.rule} {finding.name}" + (f": {subject}" if subject else "")
    case = ET.SubElement(
        suite,
        "testcase",
        _attributes(
            name=name,
            classname=str(PurePosixPath(location.path).with_suffix("")),
            file=location.path,
            line=location.line,
        ),
    )
    failure = ET.SubElement(
        case,
        "failure",
        _attributes(
            message=" ".join(message_with_fix(finding).splitlines()), type=finding.severity
        ),
    )
    body = f"{location.path}:{location.line}:{location.column}: {finding.message}"
    if finding.fix is not None:
        body += f"\nfix: {finding.fix}"
    failure.text = _xml_text(body)


def _attributes(**values: str | int) -> dict[str, str]:
    return {key: _xml_text(str(value)) for key, value in values.items()}


def _xml_text(text: str) -> str:
    """`text` with the characters XML cannot hold written as `\\x..`/`\\u....` escapes."""
    return _NOT_XML.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
