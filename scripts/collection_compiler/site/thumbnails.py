"""Cover thumbnails: downloaded with a size cap, checked and resized with Pillow, saved under the extension
of the format written, reused from the previous deploy when the cover URL is unchanged."""

from __future__ import annotations

import io
import logging
import shutil
import warnings
from pathlib import Path

from PIL import Image

from collection_compiler.adapters.files import read_json, sha256_bytes, write_bytes_atomic, write_json
from collection_compiler.adapters.http import FetchError, HttpClient
from collection_compiler.settings import Settings
from collection_compiler.site.prune import prune

log = logging.getLogger(__name__)

FOLDER = "thumbnails"
INDEX = "index.json"
SIZE = (640, 480)
MAX_PIXELS = 40_000_000
ACCEPTED = {"PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF"}


class CoverError(ValueError):
    pass


def make_thumbnail(data: bytes) -> tuple[bytes, str]:
    """(thumbnail bytes, extension). JPEG stays JPEG, anything else becomes PNG; SVG and unknowns are refused."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            real = image.format or ""
            if real not in ACCEPTED:
                raise CoverError(f"unsupported image format {real or 'unknown'}")
            if image.width * image.height > MAX_PIXELS:
                raise CoverError(f"image of {image.width}x{image.height} pixels is too large")
            if real == "JPEG":
                image.draft("RGB", SIZE)  # decode at reduced scale: much faster for big photos
            image.thumbnail(SIZE)
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombError,
                Image.DecompressionBombWarning) as e:
            raise CoverError(f"not a usable image ({e})") from None
    out = io.BytesIO()
    if real == "JPEG":
        image.convert("RGB").save(out, "JPEG", quality=82, optimize=True)
        return out.getvalue(), "jpg"
    if image.mode not in ("RGB", "RGBA", "L", "LA"):
        image = image.convert("RGBA")
    image.save(out, "PNG", optimize=True)
    return out.getvalue(), "png"


def _name(url: str, ext: str) -> str:
    return f"{sha256_bytes(url)[:32]}.{ext}"


def build_thumbnails(urls: list[str], out: Path, previous: Path | None, settings: Settings) -> dict[str, str]:
    """Map each cover URL to `thumbnails/<file>` (relative to the site root); failures are left out."""
    folder = out / FOLDER
    done: dict[str, str] = {}
    known = {**_index(previous / FOLDER if previous else None), **_index(folder)}
    todo = []
    for url in sorted(set(urls)):
        name = known.get(url)
        if name and reuse_file(name, folder, previous / FOLDER if previous else None):
            done[url] = name
        else:
            todo.append(url)
    if todo:
        with HttpClient(settings) as client:
            for url, name in zip(todo, client.map(lambda u: _fetch(client, u, folder, settings), todo), strict=True):
                if name:
                    done[url] = name
    write_json(folder / INDEX, done)
    prune(folder, [folder / INDEX, *(folder / name for name in done.values())])  # covers no longer used
    return {url: f"{FOLDER}/{name}" for url, name in done.items()}


def _index(folder: Path | None) -> dict[str, str]:
    data = read_json(folder / INDEX, {}) if folder else {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str) and "/" not in v
            and not v.startswith(".")} if isinstance(data, dict) else {}


def reuse_file(name: str, folder: Path, previous_folder: Path | None) -> bool:
    """Is `folder/name` there, or could it be copied from the previous deploy's folder?"""
    target = folder / name
    if target.is_file():
        return True
    source = previous_folder / name if previous_folder else None
    if source and source.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        return True
    return False


def _fetch(client: HttpClient, url: str, folder: Path, settings: Settings) -> str | None:
    try:
        data = client.get(url, max_bytes=settings.max_cover_bytes, untrusted=True).content
        thumb, ext = make_thumbnail(data)
    except (FetchError, CoverError) as e:
        log.warning("cover %s: %s; the placeholder is shown instead", url, e)
        return None
    name = _name(url, ext)
    write_bytes_atomic(folder / name, thumb)
    return name
