"""The README's findings are rendered from a summary by id: every number in them is the summary's."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from neurosieve.report.findings import END, START, main, read_summary, render, splice


def _summary(tmp_path: Path) -> Path:
    rows = [
        {
            "family": "bilstm",
            "id": "task.chunk_f1",
            "value": "90.0",
            "low": "89.8",
            "high": "90.2",
            "min": "89.9",
            "max": "90.2",
            "n": "5",
            "p": "",
            "p_adj": "",
            "verdict": "",
        },
        {
            "family": "bilstm",
            "id": "probe.pos.layer2.gap",
            "value": "-6.6",
            "low": "-7.1",
            "high": "-6.0",
            "min": "-7.0",
            "max": "-6.1",
            "n": "5",
            "p": "0.0625",
            "p_adj": "0.5",
            "verdict": "inconclusive",
        },
        {
            "family": "minilm",
            "id": "task.chunk_f1",
            "value": "88.0",
            "low": "",
            "high": "",
            "min": "",
            "max": "",
            "n": "1",
            "p": "",
            "p_adj": "",
            "verdict": "",
        },
    ]
    path = tmp_path / "summary.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_render_reads_each_number_by_family_and_id(tmp_path: Path) -> None:
    s = read_summary(_summary(tmp_path))
    text = render(
        "F1 {{bilstm:task.chunk_f1}} ({{bilstm:task.chunk_f1|range}}), MiniLM {{minilm:task.chunk_f1}}; "
        "gap {{bilstm:probe.pos.layer2.gap}} [{{bilstm:probe.pos.layer2.gap|interval}}], "
        "p {{bilstm:probe.pos.layer2.gap|p}} (Holm {{ bilstm:probe.pos.layer2.gap|p_adj }})",
        s,
    )
    assert text == "F1 90.0 (89.9–90.2), MiniLM 88.0; gap -6.6 [-7.1 to -6.0], p 0.0625 (Holm 0.5)"


def test_render_refuses_a_missing_row_or_empty_field(tmp_path: Path) -> None:
    s = read_summary(_summary(tmp_path))
    with pytest.raises(KeyError, match="no row 'task.missing'"):
        render("{{bilstm:task.missing}}", s)
    with pytest.raises(ValueError, match="'p' is empty"):
        render("{{bilstm:task.chunk_f1|p}}", s)
    with pytest.raises(ValueError, match="unknown field"):
        render("{{bilstm:task.chunk_f1|colour}}", s)


def test_main_writes_and_checks_the_readme_block(tmp_path: Path) -> None:
    summary = _summary(tmp_path)
    template = tmp_path / "t.md"
    template.write_text("F1 {{bilstm:task.chunk_f1}}\n")
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n{START}\nold\n{END}\nrest\n")
    args = ["--summary", str(summary), "--template", str(template), "--readme", str(readme)]
    assert main([*args, "--check"]) == 1
    assert main(args) == 0 and readme.read_text() == f"# x\n{START}\nF1 90.0\n{END}\nrest\n"
    assert main([*args, "--check"]) == 0
    with pytest.raises(ValueError, match="exactly one"):
        splice("no markers", "x")


def test_the_readme_findings_equal_the_committed_default_run_summary() -> None:
    """Every number of the README's findings is the committed default run's summary cell it names."""
    root = Path(__file__).resolve().parents[1]
    args = [
        "--summary",
        str(root / "docs/default-run/summary.csv"),
        "--template",
        str(root / "docs/findings.template.md"),
    ]
    assert main([*args, "--readme", str(root / "README.md"), "--check"]) == 0
