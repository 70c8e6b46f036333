"""The formats world's one addition to the demo world: ZeroCostDL4Mic's collection in format 0.3, with a 0.3
notebook and a 0.3 application next to its 0.2 dataset. Shared by tests/foundation/test_formats_pipeline.py and
the golden tree tests/golden/formats (a change here is a change of that tree: re-record it)."""

from __future__ import annotations

import shutil
from pathlib import Path

from collection_compiler.demo.world import DemoWorld, demo_data, git_commit_tree

ZERO_V03 = """\
format_version: 0.3.0
type: collection
id: zero
name: ZeroCostDL4Mic
description: ZeroCostDL4Mic resources.
authors:
  - name: ZeroCostDL4Mic team
cite:
  - text: "von Chamier, L. et al. Democratising deep learning for microscopy with ZeroCostDL4Mic (2021)."
    doi: 10.1038/s41467-021-22518-0
license: MIT
collection:
  - id: Dataset_StarDist_2D_demo
    type: dataset
    format_version: 0.2.4
    name: StarDist 2D demo dataset
    description: Nuclei images for training StarDist (demo).
    source: https://example.org/stardist.zip
    tags: [2d, nuclei, stardist, zerocostdl4mic]
  - id: notebook_stardist_2d  # 0.3 ids: lower case
    type: notebook
    name: StarDist 2D notebook
    description: Train StarDist 2D in a notebook (demo).
    documentation: notebooks/README.md
    source: notebooks/stardist_2d.ipynb
    tags: [2d, nuclei, stardist, zerocostdl4mic]
  - id: stardist_app
    type: application
    name: StarDist application
    description: Run StarDist (demo).
    source: apps/stardist.py
    tags: [stardist, zerocostdl4mic]
"""


def zero_collection_in_format_03(world: DemoWorld, folder: Path) -> None:
    shutil.copytree(demo_data() / "partners" / "HenriquesLab" / "ZeroCostDL4Mic" / "master", folder)
    (folder / "manifest.bioimage.io.yaml").write_text(ZERO_V03, "utf-8")
    (folder / "notebooks").mkdir()
    (folder / "notebooks" / "stardist_2d.ipynb").write_text('{"cells": [], "nbformat": 4}\n', "utf-8")
    (folder / "notebooks" / "README.md").write_text("# StarDist 2D\n\nA notebook.\n", "utf-8")
    (folder / "apps").mkdir()
    (folder / "apps" / "stardist.py").write_text("print('stardist')\n", "utf-8")
    git_commit_tree(world.repos / "HenriquesLab" / "ZeroCostDL4Mic", "master", folder)
