"""The README's findings, regenerated from a run's summary: every number in them is read from ``summary.csv`` by id.

A template (``docs/findings.template.md``) holds the findings' prose and table with placeholders
``{{family:id}}`` (the row's value) or ``{{family:id|field}}`` for another of its columns:

* ``value``, ``low``, ``high``, ``sd``, ``min``, ``max``, ``n``, ``p``, ``p_adj``, ``verdict``, ``test``,
  ``sentence``: the column as the summary wrote it;
* ``interval``: ``low to high`` (the 95 % interval of the mean over instances, or of the tested difference);
* ``range``: ``min–max`` over instances.

:func:`render` fills them in; an id that the summary lacks, or an empty field, is an error, so a README can never
print a number its summary does not hold. ``python -m neurosieve.report.findings`` writes the rendered block
between the README's markers; ``--check`` only compares (the test suite runs it against the committed
summary of the default run).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

PLACEHOLDER = re.compile(r"\{\{\s*(?P<family>[A-Za-z0-9_-]+):(?P<id>[a-z0-9_.]+)(?:\|(?P<field>[a-z_]+))?\s*\}\}")
START, END = "<!-- findings:start -->", "<!-- findings:end -->"
COLUMNS = ("value", "low", "high", "sd", "min", "max", "n", "p", "p_adj", "verdict", "test", "sentence")
DERIVED = {"interval": ("low", "high", "{} to {}"), "range": ("min", "max", "{}–{}")}


def read_summary(path: str | Path) -> pd.DataFrame:
    """The summary CSV with every cell as the text it was written as (so that numbers print as the summary has them)."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def render(template: str, summary: pd.DataFrame) -> str:
    """``template`` with each placeholder replaced by the summary cell it names (see the module's docstring)."""
    rows = summary.set_index(["family", "id"])
    if not rows.index.is_unique:
        raise ValueError("the summary repeats a (family, id) pair")

    def cell(row: pd.Series, field: str, where: str) -> str:
        text = str(row[field])
        if text == "":
            raise ValueError(f"{where}: the summary's {field!r} is empty")
        return text

    def fill(m: re.Match[str]) -> str:
        family, key, field = m["family"], m["id"], m["field"] or "value"
        where = m.group(0)
        if (family, key) not in rows.index:
            raise KeyError(f"{where}: the summary has no row {key!r} in family {family!r}")
        row = rows.loc[(family, key)]
        if field in DERIVED:
            a, b, fmt = DERIVED[field]
            return fmt.format(cell(row, a, where), cell(row, b, where))
        if field not in COLUMNS:
            raise ValueError(f"{where}: unknown field {field!r}; one of {COLUMNS + tuple(DERIVED)}")
        return cell(row, field, where)

    return PLACEHOLDER.sub(fill, template)


def splice(document: str, block: str) -> str:
    """``document`` with the text between its findings markers replaced by ``block``."""
    if document.count(START) != 1 or document.count(END) != 1:
        raise ValueError(f"the document needs exactly one {START} and one {END} marker")
    head, rest = document.split(START)
    _, tail = rest.split(END)
    return f"{head}{START}\n{block.strip()}\n{END}{tail}"


def main(argv: Sequence[str] | None = None) -> int:
    """Regenerate (or, with ``--check``, compare) the README's findings block from a summary."""
    parser = argparse.ArgumentParser(prog="python -m neurosieve.report.findings", description=main.__doc__)
    parser.add_argument("--summary", default="results/summary/summary.csv", help="the run's summary.csv")
    parser.add_argument("--template", default="docs/findings.template.md")
    parser.add_argument("--readme", default="README.md")
    parser.add_argument("--check", action="store_true", help="exit 1 if the README's block differs")
    args = parser.parse_args(argv)
    block = render(Path(args.template).read_text(), read_summary(args.summary))
    readme = Path(args.readme)
    current = readme.read_text()
    wanted = splice(current, block)
    if args.check:
        if wanted != current:
            print(f"{readme}: its findings differ from {args.summary}; rerun without --check", file=sys.stderr)
            return 1
        return 0
    readme.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())
