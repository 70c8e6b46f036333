"""Pictures of what a model does: each version's test input and output `.npy` files turned into small PNGs
(a representative 2D slice, contrast-stretched; up to three channels as RGB, more as a row).

Test tensors are untrusted: downloads are capped (`max_preview_bytes`), arrays are read without pickles and
with a cap on their elements. A preview is made once: it is named by the hash of the tensor's bytes and its axes,
and the URL-to-file index is carried over from the previous deploy, so an unchanged version fetches nothing.
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from collection_compiler.adapters.files import read_json, sha256_bytes, write_bytes_atomic, write_json
from collection_compiler.adapters.http import FetchError, HttpClient
from collection_compiler.settings import Settings
from collection_compiler.site.model import Resource
from collection_compiler.site.prune import prune
from collection_compiler.site.thumbnails import reuse_file

log = logging.getLogger(__name__)

FOLDER = "previews"
INDEX = "index.json"
VERSION = "1"  # part of every key: bump when the pictures are drawn differently
SIZE = 256  # longest side of a preview, in pixels
MAX_ELEMENTS = 64_000_000
MAX_DIMS = 8
MAX_CHANNELS_SHOWN = 4
GAP = 4  # pixels between channels shown as a row
PARALLEL_FROM = 200  # pictures to draw; below this, starting processes costs more than it saves


class PreviewError(ValueError):
    pass


@dataclass
class Preview:
    id: str  # the tensor's id
    src: str  # path from the site root
    width: int
    height: int


@dataclass
class VersionPreviews:
    inputs: list[Preview]
    outputs: list[Preview]


def _key(url: str, axes: str) -> str:
    return sha256_bytes(f"{VERSION}\n{url}\n{axes}")[:32]


def read_array(data: bytes) -> np.ndarray:
    """An `.npy` file's array, refused when it holds objects, is not numeric or is too large."""
    try:
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise PreviewError(f"not a readable .npy file ({e})") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
        raise PreviewError("not a numeric array")
    if array.ndim > MAX_DIMS or array.size > MAX_ELEMENTS or array.size == 0:
        raise PreviewError(f"array of shape {array.shape} is empty or too large")
    return array


def plane(array: np.ndarray, axes: str) -> np.ndarray:
    """(channels, y, x): the middle of z and time, the first of batch and index; without usable axes, the last
    two dimensions are y and x and a short leading one (≤ 4) is channels."""
    if len(axes) != array.ndim or "y" not in axes or "x" not in axes:
        axes = _guess_axes(array.shape)
    index = []
    for letter, length in zip(axes, array.shape, strict=True):
        if letter in "cyx":
            index.append(slice(None))
        else:
            index.append(length // 2 if letter in "zt" else 0)
    kept = [letter for letter in axes if letter in "cyx"]
    picked = array[tuple(index)]
    if "c" not in kept:
        picked, kept = picked[np.newaxis], ["c", *kept]
    return np.transpose(picked, [kept.index(a) for a in "cyx"])


def _guess_axes(shape: tuple[int, ...]) -> str:
    if len(shape) == 1:
        raise PreviewError("a 1D array has no picture")
    rest = ["b"] * (len(shape) - 2)
    for n in range(len(rest) - 1, -1, -1):
        if shape[n] <= MAX_CHANNELS_SHOWN and shape[n] > 1:
            rest[n] = "c"
            break
    return "".join(rest) + "yx"


def _stretch(channel: np.ndarray) -> np.ndarray:
    """0..255 from the 0.5th to the 99.5th percentile (robust to a few bright pixels); NaNs become 0."""
    values = channel.astype(np.float64)
    finite = values if channel.dtype.kind in "biu" else values[np.isfinite(values)]
    if finite.size == 0:
        return np.zeros(channel.shape, np.uint8)
    ranks = [int(0.005 * (finite.size - 1)), int(0.995 * (finite.size - 1))]  # nearest rank: no interpolation
    low, high = (float(v) for v in np.partition(finite.ravel(), ranks)[ranks])
    if high <= low:
        high = low + 1
    scaled = (np.nan_to_num(values, nan=low, posinf=high, neginf=low) - low) / (high - low)
    return (np.clip(scaled, 0, 1) * 255).astype(np.uint8)


def render_png(array: np.ndarray, axes: str) -> tuple[bytes, int, int]:
    """(PNG bytes, width, height) of a tensor's representative slice."""
    image = plane(array, axes)
    step = max(1, max(image.shape[1:]) // (SIZE * 2))  # decimate huge slices before the percentiles
    image = image[:, ::step, ::step]
    channels = [_stretch(c) for c in image[:MAX_CHANNELS_SHOWN]]
    if len(channels) == 3:
        picture = Image.fromarray(np.stack(channels, axis=-1), "RGB")
    else:
        tiles = [Image.fromarray(c, "L") for c in channels]
        for tile in tiles:
            tile.thumbnail((SIZE, SIZE))
        width = sum(t.width for t in tiles) + GAP * (len(tiles) - 1)
        picture = Image.new("L", (width, max(t.height for t in tiles)), 255)
        x = 0
        for tile in tiles:
            picture.paste(tile, (x, 0))
            x += tile.width + GAP
    picture.thumbnail((SIZE * len(channels), SIZE))
    out = io.BytesIO()
    picture.save(out, "PNG", compress_level=1)  # 4x faster than the default level, files about 30 % larger
    return out.getvalue(), picture.width, picture.height


def build_previews(resources: list[Resource], out: Path, previous: Path | None,
                   settings: Settings) -> dict[tuple[str, str], VersionPreviews]:
    """{(rid, vid): previews} for every model version with at least one readable test tensor."""
    folder = out / FOLDER
    known = {**_index(previous / FOLDER if previous else None), **_index(folder)}
    wanted = {(t["url"], t.get("axes", "")) for r in resources for v in r.versions
              for t in v.facts.get("test_tensors", []) if isinstance(t, dict) and isinstance(t.get("url"), str)}
    done: dict[str, dict[str, object]] = {}
    todo = []
    for url, axes in sorted(wanted):
        entry = known.get(_key(url, axes))
        if entry and reuse_file(str(entry["file"]), folder, previous / FOLDER if previous else None):
            done[_key(url, axes)] = entry
        else:
            todo.append((url, axes))
    for (url, axes), entry in _draw_all(todo, folder, settings):
        if entry:
            done[_key(url, axes)] = entry
    write_json(folder / INDEX, done)
    prune(folder, [folder / INDEX, *(folder / str(e["file"]) for e in done.values())])
    return _per_version(resources, done)


def _draw_all(todo: list[tuple[str, str]], folder: Path, settings: Settings
              ) -> list[tuple[tuple[str, str], dict[str, object] | None]]:
    """Fetch and draw: split over the cores with forked workers (drawing is CPU-bound), each fetching its share
    with the HTTP client's threads; in-process for a few."""
    workers = min(os.cpu_count() or 1, 8)
    if workers < 2 or len(todo) < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        return _draw_share(todo, folder, settings)
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        shares = pool.starmap(_draw_share, [(todo[k::workers], folder, settings) for k in range(workers)])
    return [pair for share in shares for pair in share]


def _draw_share(todo: list[tuple[str, str]], folder: Path, settings: Settings
                ) -> list[tuple[tuple[str, str], dict[str, object] | None]]:
    if not todo:
        return []
    with HttpClient(settings) as client:
        return list(zip(todo, client.map(lambda job: _fetch(client, job[0], job[1], folder, settings), todo),
                        strict=True))


def _per_version(resources: list[Resource], done: dict[str, dict[str, object]]
                 ) -> dict[tuple[str, str], VersionPreviews]:
    result = {}
    for resource in resources:
        for version in resource.versions:
            sides: dict[str, list[Preview]] = {"inputs": [], "outputs": []}
            for t in version.facts.get("test_tensors", []):
                entry = done.get(_key(t.get("url", ""), t.get("axes", ""))) if isinstance(t, dict) else None
                if entry and t.get("side") in sides:
                    sides[t["side"]].append(Preview(t.get("id", ""), f"{FOLDER}/{entry['file']}",
                                                    int(entry["width"]), int(entry["height"])))
            if sides["inputs"] or sides["outputs"]:
                result[(resource.rid, version.vid)] = VersionPreviews(sides["inputs"], sides["outputs"])
    return result


def _index(folder: Path | None) -> dict[str, dict[str, object]]:
    data = read_json(folder / INDEX, {}) if folder else {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict) and _safe_name(v.get("file"))
            and isinstance(v.get("width"), int) and isinstance(v.get("height"), int)}


def _safe_name(name: object) -> bool:
    return isinstance(name, str) and len(name) == 36 and name.endswith(".png") and name[:32].isalnum()


def _fetch(client: HttpClient, url: str, axes: str, folder: Path, settings: Settings) -> dict[str, object] | None:
    try:
        data = client.get(url, max_bytes=settings.max_preview_bytes, untrusted=True).content  # a URL an RDF names
        name = sha256_bytes(VERSION.encode() + axes.encode() + b"\n" + data)[:32] + ".png"
        if not (folder / name).is_file():  # the same tensor published twice is drawn once
            png, width, height = render_png(read_array(data), axes)
            write_bytes_atomic(folder / name, png)
        else:
            with Image.open(folder / name) as image:
                width, height = image.size
    except (FetchError, PreviewError, ValueError) as e:
        log.warning("test tensor %s: %s; no picture of it is shown", url, e)
        return None
    return {"file": name, "width": width, "height": height}
