"""The configuration reference is complete: every schema key has a description and appears in
config/README.md with its real default, and the README documents no key the schema lacks."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from neurosieve.config import load_schema

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = load_schema(ROOT / "workflow/schemas/config.schema.yaml")  # registry enums filled in
README = (ROOT / "config/README.md").read_text()
REQUIRED = object()


def schema_keys(props: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(dotted key, schema) of every property, depth first; objects with properties are walked into."""
    for name, sub in props.items():
        if not isinstance(sub, dict):  # `kind: true` in the family branches: declared above
            continue
        key = f"{prefix}{name}"
        yield key, sub
        if "properties" in sub:
            yield from schema_keys(sub["properties"], key + ".")


def all_schema_keys() -> dict[str, dict[str, Any]]:
    keys = dict(schema_keys(SCHEMA["properties"]))
    family = SCHEMA["$defs"]["family"]
    keys.update(schema_keys(family["properties"], "families.<name>."))
    for branch in family["allOf"]:
        # A fine-tuned family's keys share names with the others' but not their defaults: own prefix.
        fine_tuned = branch["if"]["properties"]["kind"].get("const") == "finetuned"
        keys.update(
            schema_keys(branch["then"]["properties"], "families.<finetuned>." if fine_tuned else "families.<name>.")
        )
    return keys


def documented() -> dict[str, list[str]]:
    """Dotted key -> default cells of the README rows that list it (the section heading gives the prefix)."""
    out: dict[str, list[str]] = {}
    prefix = ""
    for line in README.splitlines():
        if line.startswith("## "):
            m = re.search(r"`([^`]+)`", line)
            prefix = m.group(1) + "." if m else ""
        elif line.startswith("| `"):
            cells = [c.strip() for c in line.strip("|").split(" | ")]
            for key in re.findall(r"`([^`]+)`", cells[0]):
                out.setdefault(prefix + key, []).append(cells[2])
    return out


def rendered(default: Any) -> str:
    return f"`{default if isinstance(default, str) else json.dumps(default)}`"


def test_every_schema_key_has_a_description() -> None:
    missing = [key for key, sub in all_schema_keys().items() if not sub.get("description")]
    assert not missing, f"schema keys without a description: {missing}"


def test_every_leaf_key_is_documented_with_its_default() -> None:
    docs = documented()
    problems = []
    for key, sub in all_schema_keys().items():
        if "properties" in sub:  # a section: its keys are documented one by one
            continue
        if key not in docs:
            problems.append(f"{key}: not in config/README.md")
            continue
        want = rendered(sub["default"]) if "default" in sub else "required"
        if not all(want in cell for cell in docs[key]):
            problems.append(f"{key}: README says {docs[key]}, schema default is {want}")
    assert not problems, "\n".join(problems)


def test_readme_documents_no_unknown_key() -> None:
    keys = all_schema_keys()
    unknown = [k for k in documented() if k not in keys]
    assert not unknown, f"config/README.md documents keys the schema does not have: {unknown}"


def test_the_comparison_can_fail() -> None:
    """The parser really reads defaults: a wrong default in a README row is caught."""
    docs = documented()
    assert docs["families.<name>.train.batch_size"] == [rendered(128)]
    assert rendered(32) not in docs["families.<name>.train.batch_size"][0]
    assert docs["data.local_dir"] == ["`null`"] and "families" in docs
