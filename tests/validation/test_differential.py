"""Differential test against the reference validator (`bioimageio.spec`, a test extra), run in a subprocess.

COLLECTION_REFSPEC_PYTHON (default: this Python) may name another Python with `bioimageio.spec`, e.g. to compare
with another version of it.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from collection_compiler.adapters.yamlio import dump_yaml
from collection_compiler.validation import validate_rdf

REF_PYTHON = Path(os.environ.get("COLLECTION_REFSPEC_PYTHON", sys.executable))
RUNNER = Path(__file__).with_name("reference_runner.py")

VARIANTS = {
    "valid": lambda m: None,
    "bad_axes": lambda m: m["inputs"][0].update(axes="bcyq"),
    "batch": lambda m: m["inputs"][0].update(shape=[2, 1, 8, 8]),
    "halo": lambda m: m["outputs"][0].update(halo=[0, 0, 4, 4]),
    "doi": lambda m: m["cite"][0].update(doi="x"),
    "null_halo": lambda m: m["outputs"][0].update(halo=None),
    "unknown_license": lambda m: m.update(license="Foo"),
    "sigmoid_kwargs": lambda m: m["inputs"][0].update(preprocessing=[{"name": "sigmoid", "kwargs": {}}]),
    "version": lambda m: m.update(version="x"),
    "extra": lambda m: m.update(extra_field=1),
}


def test_verdicts_agree_with_reference(tmp_path: Path, model_v04: dict[str, Any]) -> None:
    files = []
    for name, change in VARIANTS.items():
        model = copy.deepcopy(model_v04)
        change(model)
        path = tmp_path / f"{name}.yaml"
        path.write_text(dump_yaml(model), "utf-8")
        files.append(path)
    run = subprocess.run([str(REF_PYTHON), str(RUNNER), *map(str, files)], capture_output=True, text=True,
                         timeout=300, check=True)
    reference = {Path(r["path"]).stem: r for r in json.loads(run.stdout)}
    for path in files:
        ours = validate_rdf(path.read_bytes(), source=str(path))
        ref = reference[path.stem]
        ref_status = "passed" if ref["status"] in ("passed", "valid-format") else "failed"
        assert ours.status == ref_status, (path.stem, ref["first_error"], ours.first_error)


FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "real-rdfs" / "rdfs"
if not FIXTURES.is_dir():
    FIXTURES = Path("/work/shared/fixtures/real-rdfs/rdfs")
REPLACEMENTS = ["", "x", 0, -1, 2.5, None, [], {}, ["a"], True, "1e-05", "UPPER", "a.tif", "CC BY 4.0", "bcyx",
                [1, 2], "10.1234/x"]


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            if k != "config":
                out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


@pytest.mark.skipif(not FIXTURES.is_dir(), reason="shared fixtures not available")
def test_random_mutations_of_real_descriptions_agree(tmp_path: Path) -> None:
    """One deterministic random change per copy (delete, replace, add an unknown key); verdicts must agree."""
    import random

    from collection_compiler.adapters.yamlio import load_yaml_file

    rng = random.Random(1234)
    files = []
    for n, source in enumerate(sorted(FIXTURES.rglob("rdf.yaml")) * 6):
        data = load_yaml_file(source)
        path = rng.choice([p for p in _paths(data) if p])
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        roll = rng.random()
        if roll < 0.3 and isinstance(parent, dict):
            del parent[path[-1]]
        elif roll < 0.4 and isinstance(parent, dict):
            parent["unexpected_key"] = 1
        else:
            parent[path[-1]] = copy.deepcopy(rng.choice(REPLACEMENTS))
        target = tmp_path / f"m{n:04d}.yaml"
        target.write_text(dump_yaml(data), "utf-8")
        files.append(target)
    run = subprocess.run([str(REF_PYTHON), str(RUNNER), *map(str, files)], capture_output=True, text=True,
                         timeout=600, check=True)
    reference = {Path(r["path"]).stem: r for r in json.loads(run.stdout)}
    disagreements = []
    for path in files:
        ours = validate_rdf(path.read_bytes(), source=str(path)).status
        ref = "passed" if reference[path.stem]["status"] in ("passed", "valid-format") else "failed"
        if ours != ref:
            disagreements.append((path.stem, ref, reference[path.stem]["first_error"]))
    assert len(disagreements) <= len(files) // 100, disagreements
