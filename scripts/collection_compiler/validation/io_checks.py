"""File checks: referenced files exist, sha256 values match, `.npy` test tensors fit their description.

Every download is size-capped (`Settings.max_download_bytes`); URLs go through the shared `HttpClient`.
"""

from __future__ import annotations

import io
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import numpy as np

from collection_compiler.adapters.files import sha256_bytes
from collection_compiler.adapters.http import FetchError, HttpClient
from collection_compiler.settings import Settings
from collection_compiler.validation.common_checks import Collector, as_dict, as_list
from collection_compiler.validation.convert import Dispatched
from collection_compiler.validation.result import UNCHECKED, WARNING, Detail, Loc
from collection_compiler.validation.values import int_or_none, ints, is_zenodo_file_url

DETAIL_NAME = "All URLs and paths available, sha256 values match, test tensors fit"
MAX_PARALLEL_FETCHES = 4  # per description; the shared HttpClient bounds the whole run
VALIDATION_HEADING = re.compile(r"^#+\s*.*[vV]alidation", re.MULTILINE)
NUMPY_DTYPES = {"float32", "float64", "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64",
                "bool"}


class Missing(Exception):
    """A referenced file that does not exist (an error), as opposed to an unreachable host (a warning)."""


class NotChecked(Exception):
    """A file left unread because the description's time budget for file checks was spent."""


class NotAllowed(Exception):
    """A reference that would read a local file the description has no business naming (an absolute path, a
    `file:` URL, a path leaving its package folder): an error that never says whether the file exists."""


class Fetcher:
    """Reads URLs, or files inside a local package folder, resolved against `root`, with a size cap; caches
    within one description, the failures too (each URL is tried once, and reported once). With a URL or no
    root (the pipeline: materialised RDFs name only URLs) no local file is ever read."""

    def __init__(self, root: str | Path | None, settings: Settings, http: HttpClient | None):
        self.root, self.settings, self.http = root, settings, http
        self._cache: dict[str, bytes] = {}
        self._failed: dict[str, Exception] = {}

    def prefetch(self, sources: list[str]) -> None:
        """Fetch the URLs among `sources` in parallel, waiting at most `settings.file_check_budget` seconds: a
        URL not read by then is `NotChecked` (its download goes on in a daemon thread, nobody waits for it)."""
        urls = {t for t in map(self.resolved, sources) if t and re.match(r"^https?://", t)}
        targets = sorted(urls - set(self._cache))
        if not targets:
            return
        if self.http is None:
            self.http = HttpClient(self.settings)
        results = _read_all(self._read, targets, self.settings.file_check_budget)
        budget = f"not checked: the time budget for file checks ({self.settings.file_check_budget:g} s) was spent"
        for target in targets:
            value = results.get(target, NotChecked(budget))
            if isinstance(value, bytes):
                self._cache[target] = value
            else:
                self._failed[target] = value

    def resolve(self, source: str) -> str:
        if re.match(r"^https?://", source):
            return source
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", source):  # file:, data:, ftp: … (a drive letter too)
            raise NotAllowed("only http(s) URLs and paths relative to the description are read")
        if self.root is None:
            raise NotAllowed("a path with nothing to resolve it against (the pipeline reads no local file)")
        root = str(self.root)
        if re.match(r"^https?://", root):
            if is_zenodo_file_url(root):  # the relative part replaces the file name before /content
                return root[: -len("/content")].rsplit("/", 1)[0] + "/" + source + "/content"
            return urljoin(root if root.endswith("/") else root + "/", source)
        folder = Path(root).resolve()
        target = (folder / source).resolve()  # symlinks followed: a link out of the package is refused too
        if not target.is_relative_to(folder):
            raise NotAllowed("a path outside the description's folder")
        return str(target)

    def resolved(self, source: str) -> str | None:
        """`resolve`, or None for a reference that is not allowed (the file pass reports it)."""
        try:
            return self.resolve(source)
        except NotAllowed:
            return None

    def read(self, source: str) -> bytes:
        target = self.resolve(source)
        if target in self._failed:
            raise self._failed[target]
        if target not in self._cache:
            try:
                self._cache[target] = self._read(target)
            except (Missing, FetchError, OSError) as e:
                self._failed[target] = e
                raise
        return self._cache[target]

    def _read(self, target: str) -> bytes:
        limit = self.settings.max_download_bytes
        if re.match(r"^https?://", target):
            if self.http is None:
                self.http = HttpClient(self.settings)
            try:
                return self.http.get(target, max_bytes=limit, untrusted=True).content  # a URL an RDF names
            except FetchError as e:
                if e.status in (404, 410):
                    raise Missing(f"{target} does not exist (HTTP {e.status})") from None
                raise
        path = Path(target)
        if not path.is_file():
            raise Missing(f"{target} does not exist")
        if path.stat().st_size > limit:
            raise FetchError(target, f"file is larger than the limit of {limit} bytes")
        return path.read_bytes()


def _read_all(read: Callable[[str], bytes], targets: list[str], budget_s: float) -> dict[str, bytes | Exception]:
    """`read` of each target on a few daemon threads; what is done after `budget_s` seconds."""
    results: dict[str, bytes | Exception] = {}
    queue = list(reversed(targets))
    lock = threading.Lock()

    def work() -> None:
        while True:
            with lock:
                if not queue:
                    return
                target = queue.pop()
            try:
                value: bytes | Exception = read(target)
            except (Missing, FetchError, OSError) as e:
                value = e
            with lock:
                results[target] = value

    threads = [threading.Thread(target=work, name="file-check", daemon=True)
               for _ in range(min(MAX_PARALLEL_FETCHES, len(targets)))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + budget_s
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    with lock:
        queue.clear()  # threads still busy take no new target
        return dict(results)


FileRef = tuple[Loc, str, str | None]  # (loc, source, expected sha256)


def file_refs(d: Dispatched) -> Iterator[FileRef]:
    """(loc, source, expected sha256) of every file a description names, in the order of its fields."""
    data = d.data
    yield from _ref(("documentation",), data.get("documentation"))
    for i, c in enumerate(as_list(data.get("covers"))):
        yield from _ref(("covers", i), c)
    attachments = data.get("attachments")
    files = as_dict(attachments).get("files") if isinstance(attachments, dict) else attachments
    for i, a in enumerate(as_list(files)):
        yield from _ref(("attachments", i), a)
    yield from _tensor_refs(data)
    for wf, entry in as_dict(data.get("weights")).items():
        yield from _weights_refs(wf, as_dict(entry))
    if d.schema.startswith(("notebook", "application")):
        yield from _ref(("source",), data.get("source"))


def _ref(loc: Loc, value: Any, sha: Any = None) -> Iterator[FileRef]:
    """A file reference given as a string (with `sha`) or as a file description `{source, sha256}`."""
    if isinstance(value, dict):
        sha, value, loc = value.get("sha256"), value.get("source"), (*loc, "source")
    if isinstance(value, str) and value:
        yield loc, value, sha if isinstance(sha, str) else None


def _tensor_refs(data: dict[str, Any]) -> Iterator[FileRef]:
    """Test and sample tensors: the 0.4 lists at the top level, then the 0.5 fields of each input and output."""
    for key in ("test_inputs", "test_outputs", "sample_inputs", "sample_outputs"):
        for i, src in enumerate(as_list(data.get(key))):
            yield from _ref((key, i), src)
    for kind in ("inputs", "outputs"):
        for i, t in enumerate(as_list(data.get(kind))):
            for key in ("test_tensor", "sample_tensor"):
                yield from _ref((kind, i, key), as_dict(t).get(key))


def _weights_refs(wf: str, entry: dict[str, Any]) -> Iterator[FileRef]:
    """One weights entry: its source, its architecture file (0.4 `file:callable` or 0.5 `{source, …}`) and its
    dependencies and external data (0.4 `conda:environment.yaml` names the manager before the file)."""
    yield from _ref(("weights", wf, "source"), entry.get("source"), entry.get("sha256"))
    arch = entry.get("architecture")
    if isinstance(arch, str) and ":" in arch:
        yield from _ref(("weights", wf, "architecture"), arch.rsplit(":", 1)[0], entry.get("architecture_sha256"))
    elif isinstance(arch, dict):
        yield from _ref(("weights", wf, "architecture"), arch)
    for key in ("dependencies", "external_data"):
        dep = entry.get(key)
        if isinstance(dep, str) and ":" in dep:
            dep = dep.split(":", 1)[1]
        yield from _ref(("weights", wf, key), dep)


def file_detail(d: Dispatched, root: str | Path | None, settings: Settings, http: HttpClient | None) -> Detail:
    out = Collector()
    fetcher = Fetcher(root, settings, http)
    refs = [ref for ref in file_refs(d) if "example.com" not in ref[1]]  # the reference skips placeholder hosts
    fetcher.prefetch([source for _, source, _ in refs])
    unchecked: set[str] = set()
    for loc, source, sha in refs:
        try:
            content = fetcher.read(source)
        except NotAllowed as e:
            out.error(loc, f"file reference {source!r} is not allowed: {e}", "unsafe_reference")
            continue
        except Missing as e:
            out.error(loc, f"file not found: {e}", "file_not_found")
            continue
        except (FetchError, OSError, NotChecked) as e:
            if fetcher.resolve(source) in unchecked:
                continue  # one warning per file, however many fields name it
            unchecked.add(fetcher.resolve(source))
            reason = e.reason if isinstance(e, FetchError) else str(e)
            out.warn(loc, f"could not check {source}: {reason}", WARNING, UNCHECKED)
            continue
        actual = sha256_bytes(content)
        if sha and sha.strip().lower() != actual:
            out.error(loc, f"sha256 mismatch: described {sha.strip()}, file has {actual}", "sha256_mismatch")
        if loc[0] == "documentation" and not VALIDATION_HEADING.search(content.decode("utf-8", "replace")):
            out.warn(loc, "No '# Validation' (sub)section found.", WARNING, "documentation")
    if d.schema.startswith("model_"):
        _check_test_tensors(d, fetcher, out)
    total = len({fetcher.resolved(s) for _, s, _ in refs} - {None})
    return Detail(_detail_name(len(unchecked), total), out.errors, out.warnings)


def _detail_name(unchecked: int, total: int) -> str:
    """The reference's name where every file was seen; never a claim of availability for files that were not."""
    if not unchecked:
        return DETAIL_NAME
    return f"Could not check {unchecked} of {total} files (the others: checked for availability, sha256, tensors)"


# ---------------------------------------------------------------- test tensors

def _tensor_specs(d: Dispatched) -> Iterator[tuple[Loc, str, Any, str | None, list[Any]]]:
    """(loc, source, tensor description, declared dtype, per-axis size rules) per test tensor."""
    data = d.data
    for kind, test_key in (("inputs", "test_inputs"), ("outputs", "test_outputs")):
        for i, t in enumerate(as_list(data.get(kind))):
            t = as_dict(t)
            if d.schema == "model_0.4":
                sources = as_list(data.get(test_key))
                if i >= len(sources) or not isinstance(sources[i], str):
                    continue
                yield (test_key, i), sources[i], t, t.get("data_type"), _sizes_v04(t)
            else:
                src = as_dict(t.get("test_tensor")).get("source")
                if isinstance(src, str):
                    dtype = _dtype_v05(t)
                    yield (kind, i, "test_tensor"), src, t, dtype, [as_dict(a).get("size") if as_dict(a).get(
                        "type") != "channel" else len(as_list(as_dict(a).get("channel_names")))
                        for a in as_list(t.get("axes"))]


def _sizes_v04(t: dict[str, Any]) -> list[Any]:
    shape = t.get("shape")
    if isinstance(shape, list):
        return shape
    if isinstance(shape, dict) and "min" in shape:
        return [{"min": m, "step": s} for m, s in zip(as_list(shape.get("min")), as_list(shape.get("step")),
                                                       strict=False)]
    return [None] * len(str(t.get("axes", "")))


def _dtype_v05(t: dict[str, Any]) -> str:
    data = t.get("data")
    first = as_dict(data[0]) if isinstance(data, list) and data else as_dict(data)
    return first.get("type", "uint8" if "values" in first else "float32")


def _check_test_tensors(d: Dispatched, fetcher: Fetcher, out: Collector) -> None:
    for loc, source, tensor, dtype, sizes in _tensor_specs(d):
        try:
            array = np.load(io.BytesIO(fetcher.read(source)), allow_pickle=False)
        except (Missing, NotAllowed, FetchError, OSError, NotChecked):
            continue  # already reported by the file pass
        except (ValueError, EOFError) as e:
            out.error(loc, f"not a readable .npy array: {e}", "npy_error")
            continue
        name = tensor.get("name", tensor.get("id", "?"))
        if array.ndim != len(sizes):
            out.error(loc, f"test tensor of '{name}' has {array.ndim} dimensions, its axes {len(sizes)}", "ndim")
            continue
        _check_dtype(array, dtype, d.schema, loc, out)
        for axis, (actual, rule) in enumerate(zip(array.shape, sizes, strict=True)):
            problem = _size_problem(actual, rule)
            if problem:
                out.error(loc, f"test tensor of '{name}' axis {axis}: size {actual} {problem}", "shape")
        if array.size and array.dtype != bool:
            lo, hi = float(np.min(array)), float(np.max(array))
            if lo > -1e-4 and hi < 1e-4:
                out.error(loc, f"test tensor of '{name}': values are too small for reliable testing "
                               f"(all within ±1e-4)", "values")


def _check_dtype(array: np.ndarray, dtype: str | None, schema: str, loc: Loc, out: Collector) -> None:
    if dtype not in NUMPY_DTYPES:
        return
    if dtype.startswith("float"):
        ok = array.dtype != bool and np.issubdtype(array.dtype, np.number)
    else:
        ok = str(array.dtype) == dtype
    if not ok:
        severity_error = schema == "model_0.5"  # 0.4 consumers cast inputs; the reference does not check 0.4
        msg = f"test tensor dtype {array.dtype} does not match the described {dtype}"
        if severity_error:
            out.error(loc, msg, "dtype")
        else:
            out.warn(loc, msg, WARNING, "dtype")


def _size_problem(actual: int, rule: Any) -> str | None:
    fixed = int_or_none(rule)
    if fixed is not None:
        return None if actual == fixed else f"!= described {fixed}"
    if isinstance(rule, dict) and "step" in rule:
        mins = ints([rule.get("min"), rule.get("step")])
        if mins is None:
            return None
        low, step = mins
        if actual < low or (step == 0 and actual != low) or (step and (actual - low) % step):
            return f"is not {low} + n·{step}"
    if isinstance(rule, dict) and "max" in rule:
        low, high = int_or_none(rule.get("min", 1)) or 1, int_or_none(rule.get("max"))
        if actual < low or (high is not None and actual > high):
            return f"is outside [{low}, {high}]"
    return None

