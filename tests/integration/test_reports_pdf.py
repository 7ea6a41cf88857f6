"""Real Chromium prints the report: what the HTML tests cannot show is that the PDF exists,
has the text a reader searches for, numbers its pages and carries the screenshot."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from config.settings import Settings
from reports.pdf import render_pdf
from tests.unit.test_reports_html import sample_cucumber, sample_run, sample_steps, tiny_png

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdfimages") is None,
    reason="poppler-utils (pdftotext, pdfimages) not installed",
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path)


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_pdf_from_cucumber_has_the_run_its_scenarios_and_the_failure(
    settings: Settings, tmp_path: Path
) -> None:
    cucumber = sample_cucumber(tiny_png(320, 200, (30, 90, 200)))
    # Enough scenarios to need a second page, so the footer's page count is visible.
    cucumber[0]["elements"].extend(
        {
            "type": "scenario",
            "keyword": "Scenario",
            "name": f"Padding scenario {n}",
            "description": "",
            "line": 20 + n,
            "steps": [
                {
                    "keyword": "Given ",
                    "name": f'I open "/p/{n}"',
                    "line": 21 + n,
                    "result": {"status": "passed", "duration": 1_000_000},
                }
            ],
        }
        for n in range(30)
    )
    run = sample_run(flaky=True, error="1 scenario failed")

    pdf = render_pdf(run, [], cucumber, settings=settings, test_set_name="Checkout flow")

    assert pdf.startswith(b"%PDF")
    text = _pdf_text(pdf, tmp_path)
    assert "Checkout flow" in text
    assert "Valid credentials" in text and "Checkout total" in text
    assert 'Expected page to contain "Total: 42.00"' in text
    assert "Flaky" in text.replace("FLAKY", "Flaky")
    assert "Run run-7f3a" in text  # the header on every page
    pages = re.findall(r"Page (\d+) of (\d+)", text)
    total = int(pages[0][1])
    assert total >= 2
    assert pages == [(str(n), str(total)) for n in range(1, total + 1)]
    images = subprocess.run(
        ["pdfimages", "-list", str(tmp_path / "report.pdf")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert any(line.split()[3:5] == ["320", "200"] for line in images.splitlines()[2:])


def test_pdf_from_reported_steps_when_there_is_no_cucumber_json(
    settings: Settings, tmp_path: Path
) -> None:
    pdf = render_pdf(sample_run(), sample_steps(), None, settings=settings)

    text = _pdf_text(pdf, tmp_path)
    assert "checkout" in text
    assert "Valid credentials" in text and "Checkout total" in text
    assert "no 42 here" in text
    assert "old attempt" not in text
