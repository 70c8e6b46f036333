"""Differential test against the reference validator, when it is installed in its own venv (never in ours).

Set COLLECTION_REFSPEC_PYTHON (default /tmp/refspec/bin/python) to a python with `bioimageio.spec` installed.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from collection_compiler.validation import validate_rdf
from collection_compiler.yamlio import dump_yaml

REF_PYTHON = Path(os.environ.get("COLLECTION_REFSPEC_PYTHON", "/tmp/refspec/bin/python"))
RUNNER = Path(__file__).with_name("reference_runner.py")

pytestmark = pytest.mark.skipif(not REF_PYTHON.is_file(), reason="reference validator venv not installed")

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
