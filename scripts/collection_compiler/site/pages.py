"""View data for one resource or version page: everything a template shows, already made safe."""

from __future__ import annotations

from typing import Any

from collection_compiler.site.citation import cite_list
from collection_compiler.site.model import Resource, Version, authors, tags
from collection_compiler.site.safety import one_line, safe_url, text
from collection_compiler.site.tensors import tensors

WEIGHT_FORMATS = ("pytorch_state_dict", "torchscript", "onnx", "tensorflow_saved_model_bundle",
                  "keras_hdf5", "tensorflow_js")
# Each format in words, and the field that names the runtime version it needs.
WEIGHT_WORDS = {"pytorch_state_dict": ("PyTorch state dict", "pytorch_version", "PyTorch"),
                "torchscript": ("TorchScript", "pytorch_version", "PyTorch"),
                "onnx": ("ONNX", "opset_version", "opset"),
                "tensorflow_saved_model_bundle": ("TensorFlow SavedModel", "tensorflow_version", "TensorFlow"),
                "keras_hdf5": ("Keras HDF5", "tensorflow_version", "TensorFlow"),
                "tensorflow_js": ("TensorFlow.js", "tensorflow_version", "TensorFlow")}


def weights(rdf: dict[str, Any]) -> list[dict[str, str | None]]:
    """Download links per weights format that the RDF really has (users asked not to see missing ones)."""
    found = rdf.get("weights") if isinstance(rdf.get("weights"), dict) else {}
    result = []
    for fmt in sorted(found, key=lambda f: (WEIGHT_FORMATS.index(f) if f in WEIGHT_FORMATS else 99, str(f))):
        entry = found[fmt] if isinstance(found[fmt], dict) else {}
        url = safe_url(entry.get("source"))
        if url:
            label, key, runtime = WEIGHT_WORDS.get(fmt, (one_line(fmt, 60), "", ""))
            version = one_line(entry.get(key), 40) if key else ""
            result.append({"format": one_line(fmt, 60), "label": label, "url": url,
                           "runtime": f"{runtime} {version}" if version else "",
                           "sha256": one_line(entry.get("sha256"), 64)})
    return result


def maintainers(value: Any) -> list[dict[str, str | None]]:
    """Maintainers: often only a GitHub user (0.4 and 0.5 require that, not a name)."""
    result = []
    for item in value[:50] if isinstance(value, list) else []:
        if isinstance(item, dict) and not one_line(item.get("name"), 200) and one_line(item.get("github_user"), 100):
            item = {**item, "name": "@" + one_line(item.get("github_user"), 100)}
        result.extend(authors([item]))
    return result


def linked(value: Any, known: set[str]) -> list[dict[str, str | None]]:
    """Related resources (`links`, `training_data`): ids in the collection link to their page."""
    items = value if isinstance(value, list) else [value]
    result = []
    for item in items[:50]:
        if isinstance(item, dict):
            item = item.get("id")
        name = one_line(item, 200)
        if name:
            result.append({"id": name, "internal": name in known, "url": safe_url(name)})
    return result


def package_links(resource: Resource, version: Version) -> list[dict[str, str]]:
    links = []
    download = safe_url(resource.entry.get("download_url")) if version is resource.latest else None
    if download:
        links.append({"label": "Whole package (zip)", "url": download})
    if version.doi:
        doi = safe_url(f"https://doi.org/{version.doi}")
        if doi:
            links.append({"label": f"Record (DOI {version.doi})", "url": doi})
    if resource.rid.startswith("10.5281/zenodo.") and version.vid.isdigit():
        links.append({"label": "Zenodo record", "url": f"https://zenodo.org/records/{version.vid}"})
    for key, label in (("git_repo", "Source repository"), ("source", "Source")):
        url = safe_url(version.rdf.get(key))
        if url:
            links.append({"label": label, "url": url})
    return links


def snippets(resource: Resource, version: Version, rdf_url: str, partner_names: dict[str, str],
             partner_docs: dict[str, str | None]) -> list[dict[str, Any]]:
    """How-to-use tabs: Python and CLI of bioimage.io for models, plus each partner tool whose test passed."""
    name = resource.entry.get("nickname") or resource.rid
    result = []
    if resource.type == "model":
        result.append({"label": "Python (bioimageio.core)", "code": (
            "# pip install bioimageio.core\n"
            "from bioimageio.core import load_description, predict, test_model\n\n"
            f"model = load_description(\"{rdf_url}\")\n"
            "print(test_model(model).status)  # reproduce the published test\n"
            "prediction = predict(model=model, inputs=my_image)  # a numpy array in the input's axes\n")})
        result.append({"label": "bioimageio CLI", "code": (
            "pip install bioimageio.core\n"
            f"bioimageio test {rdf_url}\n"
            f"bioimageio predict --inputs 'my_images/*.tif' {rdf_url}\n")})
    for row in version.rows:
        if row.status == "passed" and row.tester in partner_names:
            docs = partner_docs.get(row.tester)
            steps = (f"Tested and working in {partner_names[row.tester]}"
                     f"{' ' + row.version if row.version else ''}.\n"
                     f"Open {partner_names[row.tester]} and load the {resource.type} by its id {resource.rid}"
                     f" or nickname {name}.\n" + (f"Documentation: {docs}\n" if docs else ""))
            result.append({"label": partner_names[row.tester], "code": steps})
    return result


# What "How to use" says for the types that are not models: what to do with it, then the links that do it.
GET_IT = {"notebook": "Open the notebook in your browser or download it:",
          "dataset": "Download the data:",
          "application": "Get the application:"}


def get_it(resource: Resource, version: Version) -> dict[str, Any] | None:
    """For notebooks, datasets and applications: a sentence and the links to open, download or install it."""
    if resource.type == "model":
        return None
    rdf = version.rdf
    links = [{"label": one_line(b.get("label"), 80) or "Open", "url": safe_url(b.get("url"))}
             for b in (rdf.get("badges") if isinstance(rdf.get("badges"), list) else [])[:5] if isinstance(b, dict)]
    download = safe_url(rdf.get("download_url")) or safe_url(resource.entry.get("download_url"))
    source = safe_url(rdf.get("source"))
    notebook = resource.type == "notebook" and source and source.split("?")[0].endswith(".ipynb")
    links += [{"label": "Download the notebook (.ipynb)" if notebook else "Source", "url": source},
              {"label": "Download", "url": download},
              {"label": "Source code", "url": safe_url(rdf.get("git_repo"))},
              {"label": "Documentation", "url": safe_url(rdf.get("documentation"))}]
    links = [link for link in links if link["url"]] or package_links(resource, version)  # at least its record
    return {"intro": GET_IT.get(resource.type, "Get it here:") if links else
            "No download or source link is given; the description and documentation say more.",
            "links": links}


def version_view(resource: Resource, version: Version, known: set[str]) -> dict[str, Any]:
    rdf = version.rdf
    return {
        "vid": version.vid, "name": one_line(rdf.get("name"), 300) or resource.name,
        "description": text(rdf.get("description"), 5000) or text(resource.entry.get("description"), 5000),
        "authors": authors(rdf.get("authors")), "maintainers": maintainers(rdf.get("maintainers")),
        "tags": tags(rdf.get("tags")), "license": one_line(rdf.get("license"), 100),
        "license_url": _license_url(one_line(rdf.get("license"), 100)),
        "cite": cite_list(rdf), "weights": weights(rdf),
        "links": linked(rdf.get("links"), known), "training_data": linked(rdf.get("training_data"), known),
        "rows": version.rows, "status": version.status, "created": version.created[:10],
        "version_name": version.version_name, "doi": version.doi,
        "format_version": one_line(rdf.get("format_version"), 40),
        "inputs": tensors(rdf, "inputs") if resource.type == "model" else [],
        "outputs": tensors(rdf, "outputs") if resource.type == "model" else [],
    }


def _license_url(spdx: str) -> str | None:
    if not spdx or not all(c.isalnum() or c in ".-+" for c in spdx):
        return None
    return f"https://spdx.org/licenses/{spdx}.html"
