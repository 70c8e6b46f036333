"""A synthetic published tree (what `collection build` writes before the site): N resources with realistic
fields; every `xss_every`-th resource carries a script payload in every text field. Used by tests and the
benchmark. RDFs are written as JSON, which is valid YAML 1.2, to keep generating 10,000 of them quick."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=1">"\'&'
XSS_URL = "javascript:window.__xss=1"
WORDS = ("cell nucleus membrane segmentation denoising fluorescence confocal electron tissue organoid "  # noqa: SIM905
         "zebrafish mitochondria plant unet network restoration deconvolution instance semantic boundary "
         "prediction microscopy image stack volume time lapse training model dataset robust accurate fast").split()
TAGS = ["2d", "3d", "unet", "segmentation", "instance-segmentation", "denoising", "pytorch", "onnx", "torchscript",
        "fluorescence-light-microscopy", "electron-microscopy", "nuclei", "cells", "ilastik", "deepimagej",
        "tissue", "plant", "mitochondria", "stardist", "restoration"] + [f"topic-{i}" for i in range(60)]
TESTERS = ["bioimageio.core", "ilastik", "deepimagej"]
TYPES = ["model"] * 6 + ["dataset", "application", "notebook"]
LICENSES = ["MIT", "CC-BY-4.0", "BSD-3-Clause", "Apache-2.0"]
PARTNERS = [{"id": "ilastik", "name": "ilastik", "description": "Interactive learning toolkit.",
             "docs": "https://www.ilastik.org/documentation/", "logo": "https://example.org/ilastik.png"},
            {"id": "deepimagej", "name": "deepImageJ", "description": "A plugin for ImageJ.",
             "docs": "https://deepimagej.github.io/"}]


def _write(path: Path, value: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, ensure_ascii=False, sort_keys=True), "utf-8")


def model_tensors(v05: bool, test: tuple[str, str] | None, xss: str | None) -> dict[str, object]:
    """Inputs and outputs of a 2D model, in format 0.5 (`v05`) or 0.4, with test tensors at the URLs `test`."""
    if not v05:
        rdf: dict[str, object] = {
            "format_version": "0.4.10",
            "inputs": [{"name": xss or "raw", "axes": "bcyx", "data_type": "float32", "data_range": [None, None],
                        "shape": {"min": [1, 1, 64, 64], "step": [0, 0, 16, 16]},
                        "preprocessing": [{"name": "zero_mean_unit_variance",
                                           "kwargs": {"mode": "per_sample", "axes": "yx"}}]}],
            "outputs": [{"name": "probability", "axes": "bcyx", "data_type": "float32", "data_range": [0, 1],
                         "halo": [0, 0, 8, 8],
                         "shape": {"reference_tensor": "raw", "scale": [1, 1, 1, 1], "offset": [0, 0, 0, 0]},
                         "postprocessing": [{"name": "sigmoid"}]}]}
        if test:
            rdf.update(test_inputs=[test[0]], test_outputs=[test[1]])
        return rdf
    return {"format_version": "0.5.4",
            "inputs": [{"id": "raw", "description": xss or "Fluorescence image",
                        "axes": [{"type": "batch"}, {"type": "channel", "channel_names": ["dapi"]},
                                 {"type": "space", "id": "y", "size": {"min": 64, "step": 16}, "unit": "micrometer"},
                                 {"type": "space", "id": "x", "size": {"min": 64, "step": 16}}],
                        "data": {"type": "uint16"},
                        "preprocessing": [{"id": "scale_range", "kwargs": {"min_percentile": 1,
                                           "max_percentile": 99.8, "axes": ["x", "y"]}}],
                        **({"test_tensor": {"source": test[0]}} if test else {})}],
            "outputs": [{"id": "mask", "axes": [{"type": "batch"},
                                                {"type": "channel", "channel_names": ["foreground", "boundary"]},
                                                {"type": "space", "id": "y", "halo": 8,
                                                 "size": {"tensor_id": "raw", "axis_id": "y"}},
                                                {"type": "space", "id": "x", "halo": 8,
                                                 "size": {"tensor_id": "raw", "axis_id": "x"}}],
                         "data": {"type": "float32", "range": [0, 1]},
                         "postprocessing": [{"id": "sigmoid"}],
                         **({"test_tensor": {"source": test[1]}} if test else {})}]}


def tensor_arrays() -> dict:
    """Test tensors: a 2D input with bright blobs on a gradient, a 2-channel output (foreground, boundary)."""
    import numpy as np

    y, x = np.mgrid[0:64, 0:80]
    blobs = sum(np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / 40.0) for cy, cx in ((16, 20), (40, 56), (50, 15)))
    image = (blobs * 3000 + x * 5).astype(np.uint16)[None, None]
    fg = (blobs > 0.5).astype(np.float32)
    boundary = ((blobs > 0.3) & (blobs < 0.6)).astype(np.float32)
    return {"input": image, "output": np.stack([fg, boundary])[None]}


def make_tree(out: Path, n: int, *, seed: int = 1, xss_every: int = 0, versions: int = 1,
              cover: Callable[[int], str | None] = lambda i: None,
              doc: Callable[[int], str | None] = lambda i: None,
              tensors: Callable[[int], tuple[str, str] | None] = lambda i: None, logo: str | None = None) -> list[str]:
    """Write the tree into `out`; returns the resource ids."""
    rng = random.Random(seed)
    entries, rids = [], []
    for i in range(n):
        xss = bool(xss_every) and i % xss_every == 0
        partner = i % 10 == 9
        rid = f"ilastik/res-{i}" if partner else f"10.5281/zenodo.{1000000 + i}"
        vids = ["latest"] if partner else [str(2000000 + i * 10 + k) for k in range(versions, 0, -1)]
        kind = TYPES[i % len(TYPES)]
        words = rng.sample(WORDS, 12)
        title = " ".join(words[:3])
        name = XSS if xss else f"{title.title() if i % 3 else title} {i}"  # some lower-case names, as in the hub
        text = XSS if xss else " ".join(words) + "."
        tags = [XSS] if xss else rng.sample(TAGS, 5)
        authors = [{"name": XSS if xss else f"Author {rng.randint(1, 500)}", "affiliation": XSS if xss else "EMBL",
                    "orcid": "0000-0002-1825-0097"}]
        created = f"20{18 + i % 7}-{1 + i % 12:02d}-{1 + i % 28:02d} 10:00:00"
        for k, vid in enumerate(vids):
            rdf = {"format_version": "0.4.10", "type": kind, "name": name, "description": text, "tags": tags,
                   "authors": authors, "license": XSS if xss else LICENSES[i % 4], "id": f"{rid}/{vid}",
                   "covers": [c for c in [XSS_URL if xss else cover(i)] if c],
                   "documentation": XSS_URL if xss else doc(i),
                   "cite": [{"text": text, "doi": XSS if xss else "10.1000/xyz", "url": XSS_URL if xss else
                             "https://example.org/paper"}],
                   "links": [XSS if xss else "deepimagej/deepimagej"],
                   "config": {"bioimageio": {"created": created, "version_id": vid, "version_name": f"v{len(vids) - k}",
                                             "doi": "" if partner else f"10.5281/zenodo.{vid}",
                                             "nickname": XSS if xss else f"nick-{i}", "nickname_icon": "🦗"}}}
            if kind == "notebook" and not xss:
                rdf["source"] = f"https://example.org/{i}/analysis.ipynb"
                rdf["badges"] = [{"label": "Open in Colab", "url": f"https://colab.research.google.com/{i}"}]
            if kind == "model":
                rdf["weights"] = {"onnx": {"source": XSS_URL if xss else f"https://example.org/{i}/w.onnx",
                                           "sha256": "0" * 64, "opset_version": 15},
                                  "torchscript": {"source": f"https://example.org/{i}/w.pt", "pytorch_version": "2.1"}}
                rdf.update(model_tensors(i % 2 == 1, tensors(i), XSS if xss else None))
                rdf["maintainers"] = [{"github_user": XSS if xss else f"keeper{i}"}]
            rdf = {k2: v for k2, v in rdf.items() if v is not None}
            base = out / "rdfs" / rid / vid
            _write(base / "rdf.yaml", rdf)
            rows = [{"tester": t, "tool": t, "version": "1.0",
                     "status": "failed" if (i + j) % 5 == 0 else ("passed" if kind == "model" else "not-applicable"),
                     "error": XSS if xss else ("shape mismatch in output" if (i + j) % 5 == 0 else None),
                     "link": XSS_URL if xss else None}
                    for j, t in enumerate(TESTERS)]
            _write(base / "summary.json", {"rdf_sha256": "x", "status": rows[0]["status"], "rows": rows})
        entry = {"id": rid, "type": kind, "name": name, "description": text, "tags": tags, "versions": vids,
                 "rdf_source": f"https://example.org/rdfs/{rid}/{vids[0]}/rdf.yaml", "authors": authors,
                 "download_count": rng.randint(0, 5000), "license": rdf["license"], "created": created,
                 "nickname": rdf["config"]["bioimageio"]["nickname"], "nickname_icon": "🦗",
                 "download_url": XSS_URL if xss else f"https://example.org/{i}.zip"}
        entries.append(entry)
        rids.append(rid)
    collection = {"type": "collection", "name": "Test Zoo", "description": "A synthetic collection.",
                  "collection": entries,
                  "config": {"partners": [{**p, "logo": logo} if logo and "logo" in p else p for p in PARTNERS]}}
    _write(out / "collection.json", collection)
    _write(out / "health.json", {"sources": {"zenodo": {"status": "ok", "since": "2024-01-01", "error": None},
                                             "partner:ilastik": {"status": "stale", "since": "2024-01-02",
                                                                 "error": XSS}},
                                 "counts": {"resources": n}, "dispatches": []})
    return rids


BROKEN_TENSORS = ("/pickled.npy", "/missing.npy")  # resource 5's test tensors: a pickle and a 404


def tree_with_assets(out: Path, url: str) -> None:
    """12 resources, 2 versions each, every 4th full of XSS payloads, with covers, docs and test tensors served
    at `url` (see the `assets` fixture)."""
    make_tree(out, 12, xss_every=4, versions=2, cover=lambda i: f"{url}/cover-{i}.png",
              doc=lambda i: f"{url}/doc-{i}.md",
              tensors=lambda i: (url + BROKEN_TENSORS[0], url + BROKEN_TENSORS[1]) if i == 5 else
              (f"{url}/input.npy", f"{url}/output.npy"), logo=f"{url}/cover-0.png")
