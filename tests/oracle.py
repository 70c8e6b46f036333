"""The ecosystem's own validator (`bioimageio.spec`, a test extra) as an oracle: the tests hold the compiler's
published files and our validator's verdicts to it. The compiler itself never imports it."""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from typing import Any

os.environ.setdefault("BIOIMAGEIO_CACHE_PATH", "/tmp/collection-tests-bioimageio-cache")

from bioimageio.spec import ValidationContext, build_description  # noqa: E402

from collection_compiler.adapters import yamlio  # noqa: E402

ZENODO_API = "https://zenodo.org/api"


def verdict(data: dict[str, Any]) -> tuple[str, str | None]:
    """The reference's status (`passed`/`failed`; its `valid-format` counts as passed) and first error, file checks
    off."""
    with ValidationContext(perform_io_checks=False):
        summary = build_description(copy.deepcopy(data), format_version="discover").validation_summary
    errors = [f"{'.'.join(map(str, e.loc))}: {e.msg}" for d in summary.details for e in d.errors]
    return ("failed" if summary.status == "failed" else "passed"), (errors[0] if errors else None)


def as_on_zenodo(data: Any, fake_zenodo_api: str) -> Any:
    """`data` with the fake Zenodo's API address replaced by zenodo.org's. The reference reads the file name of a
    Zenodo file URL (`…/files/<name>/content`) before `/content` only on the host zenodo.org, so without this
    every test tensor, cover and documentation served by the fake Zenodo would fail its suffix check."""
    pattern = re.compile("^" + re.escape(fake_zenodo_api.rstrip("/")) + "/")
    if isinstance(data, dict):
        return {k: as_on_zenodo(v, fake_zenodo_api) for k, v in data.items()}
    if isinstance(data, list):
        return [as_on_zenodo(v, fake_zenodo_api) for v in data]
    return pattern.sub(ZENODO_API + "/", data) if isinstance(data, str) else data


def published_verdict(path: Path, fake_zenodo_api: str) -> tuple[str, str | None]:
    """The reference's verdict on a published `rdf.yaml`, read as consumers read it from zenodo.org."""
    return verdict(as_on_zenodo(yamlio.load_yaml_file(path), fake_zenodo_api))
