"""``junit.xml``: one ``testsuite`` per feature, one ``testcase`` per scenario.

CI tools read this format; a failed scenario's ``failure`` names the step that failed and
its message, an undefined one is a failure too (the run does not pass with missing steps),
and a scenario that never ran (stopped run) is ``skipped``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from runner.results import FAILED, PASSED, SKIPPED, ScenarioResult

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """Text XML 1.0 can carry: colour codes (tools' output in messages) dropped, other
    control characters shown as U+FFFD."""
    return _NOT_XML.sub("\ufffd", _ANSI.sub("", text))


def junit_xml(results: list[ScenarioResult], *, name: str = "proctor") -> bytes:
    suites = ET.Element("testsuites", name=name)
    by_feature: dict[str, list[ScenarioResult]] = {}
    for result in results:
        by_feature.setdefault(result.scenario.feature.path, []).append(result)
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    total_time = 0.0
    for path, scenarios in by_feature.items():
        feature = scenarios[0].scenario.feature
        suite = ET.SubElement(
            suites, "testsuite", name=xml_text(feature.name or path), file=xml_text(path)
        )
        counts = {"tests": 0, "failures": 0, "skipped": 0}
        suite_time = 0.0
        for result in scenarios:
            seconds = result.duration_ns / 1e9
            suite_time += seconds
            counts["tests"] += 1
            case = ET.SubElement(
                suite,
                "testcase",
                classname=xml_text(feature.name or path),
                name=xml_text(result.scenario.name or f"line {result.scenario.line}"),
                file=xml_text(path),
                line=str(result.scenario.line),
                time=f"{seconds:.3f}",
            )
            status = result.status
            if status == SKIPPED:
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message="not run")
            elif status == FAILED:
                counts["failures"] += 1
                what, message = result.failure or ("", "")
                what, message = xml_text(what), xml_text(message)
                failure = ET.SubElement(
                    case,
                    "failure",
                    type="failed",
                    message=f"{what}: {message.splitlines()[0]}" if message else what,
                )
                failure.text = f"{what}\n{message}"
            elif status != PASSED:
                counts["failures"] += 1
                missing = [
                    xml_text(f"{s.step.keyword}{s.step.text}")
                    for s in result.steps
                    if s.status == status
                ]
                failure = ET.SubElement(
                    case,
                    "failure",
                    type=status,
                    message=f"{status} step: {missing[0]}" if missing else status,
                )
                failure.text = xml_text(
                    "\n".join(
                        s.error or f"{s.step.keyword}{s.step.text}"
                        for s in result.steps
                        if s.status == status
                    )
                )
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
        suite.set("errors", "0")
        suite.set("time", f"{suite_time:.3f}")
        total_time += suite_time
    for key, value in totals.items():
        suites.set(key, str(value))
    suites.set("errors", "0")
    suites.set("time", f"{total_time:.3f}")
    ET.indent(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True)
