"""Test a model description, one weights format at a time, each in its own sandboxed process.

The main process only reads the description, fetches and verifies files and collects results; the
model's runtime and code run in `worker` under `sandbox`. Each weights format yields one detail named
"reproduce test outputs from test inputs (<format>)" with status passed, failed or not-applicable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from collection_compiler import __version__
from collection_compiler.testing.description import (
    KNOWN_FORMATS,
    NOT_APPLICABLE,
    RUNNABLE,
    DescriptionError,
    ModelPlan,
    read_plan,
    tolerance,
    weight_files,
)
from collection_compiler.testing.fetch import FileFetcher, FileFetchError, safe_name, stage_file
from collection_compiler.testing.sandbox import SandboxUnavailable, TestOptions, Worker, discard, start_worker
from collection_compiler.testing.verdict import judge

# Bump the suffix when a change to the tester could change a verdict: results are reused per version.
TESTER_VERSION = f"{__version__}+test.3"  # .3: the sandbox, the verdict outside it, own architectures only


def detail_name(weight_format: str) -> str:
    return f"reproduce test outputs from test inputs ({weight_format})"


def weight_formats(rdf: dict[str, Any]) -> list[str]:
    weights = rdf.get("weights")
    return sorted(str(k) for k in weights) if isinstance(weights, dict) else []


def test_model(rdf: dict[str, Any], fetcher: FileFetcher, options: TestOptions, only: str | None = None,
               started: dict[str, Worker | None] | None = None) -> list[dict[str, Any]]:
    """One detail per weights format (or only `only`). `started` holds workers started early, by format; the
    ones a test takes are removed from it (the caller discards the rest)."""
    formats = [only] if only else weight_formats(rdf)
    if not formats:
        return [make_detail("weights", "failed", error="weights: the description has no weights entry")]
    started = started if started is not None else {}
    return [test_weights(rdf, fetcher, wf, options, started.pop(wf, None)) for wf in formats]


def test_weights(rdf: dict[str, Any], fetcher: FileFetcher, weight_format: str, options: TestOptions,
                 worker: Worker | None = None) -> dict[str, Any]:
    weights = rdf.get("weights")
    problem = None
    if weight_format in NOT_APPLICABLE:
        problem = make_detail(weight_format, "not-applicable", reason=NOT_APPLICABLE[weight_format])
    elif weight_format not in KNOWN_FORMATS:
        problem = make_detail(weight_format, "failed", error=f"weights.{weight_format}: unknown weights format")
    elif not isinstance(weights, dict) or weight_format not in weights:
        problem = make_detail(weight_format, "failed", error=f"weights.{weight_format}: not in the description")
    if problem is not None:
        discard(worker, options)
        return problem
    try:
        worker = worker or start_worker(weight_format, options)
    except SandboxUnavailable as e:
        return make_detail(weight_format, "failed", error=f"model code not run: {e}")
    assert worker is not None
    try:
        plan = read_plan(rdf)
        job, expected = _prepare_job(plan, fetcher, weight_format, worker.scratch, worker.device)
        result = judge(worker.run(job), job, expected, worker.scratch)
    except (DescriptionError, FileFetchError) as e:
        return make_detail(weight_format, "failed", error=str(e))
    finally:
        discard(worker, options)
    return _from_result(weight_format, result, job)


def _prepare_job(plan: ModelPlan, fetcher: FileFetcher, weight_format: str, scratch: Path,
                 device: str) -> tuple[dict[str, Any], dict[str, Path]]:
    """The worker's job (its files staged in `scratch`) and the verified expected outputs, which stay outside."""
    assert weight_format in RUNNABLE
    tensors: dict[str, list[dict[str, Any]]] = {"inputs": [], "outputs": []}
    expected: dict[str, Path] = {}
    for role, specs in (("inputs", plan.inputs), ("outputs", plan.outputs)):
        for i, spec in enumerate(specs):
            cached = fetcher.fetch(spec.test_tensor.source, spec.test_tensor.sha256, spec.test_tensor.field)
            entry = {"id": spec.id, "axes": spec.axes, "steps": spec.steps}
            if role == "outputs":
                entry["tolerance"] = tolerance(plan, weight_format, spec.id)
                expected[spec.id] = cached
            else:
                entry["test_tensor"] = str(stage_file(cached, scratch / "data", f"{role}_{i}.npy").relative_to(scratch))
            tensors[role].append(entry)
    files, settings = weight_files(plan, weight_format)
    weights: dict[str, Any] = {}
    for key, ref in files.items():
        cached = fetcher.fetch(ref.source, ref.sha256, ref.field)
        if key == "architecture":
            path = stage_file(cached, scratch / "code", Path(safe_name(ref.source)).stem + ".py")
            settings["architecture"] = {**settings["architecture"], "path": str(path.relative_to(scratch))}
        else:  # weights and ONNX external data side by side, under their own names
            path = stage_file(cached, scratch / "model", ref.source)
            weights[f"{key}_path" if key != "weights" else "path"] = str(path.relative_to(scratch))
    return {"weight_format": weight_format, "device": device, "weights": {**weights, **settings},
            "inputs": tensors["inputs"], "outputs": tensors["outputs"], "sweep": plan.parametrized}, expected


def _from_result(weight_format: str, result: dict[str, Any], job: dict[str, Any]) -> dict[str, Any]:
    errors = [str(e) for e in result.get("errors") or []]
    warnings = [str(w) for w in result.get("warnings") or []]
    extra = {k: result[k] for k in ("device", "device_name", "runtime", "timings", "sweep") if k in result}
    extra["tolerance"] = {o["id"]: o["tolerance"] for o in job["outputs"]}
    traceback = result.get("traceback") or result.get("log_tail") or None
    return make_detail(weight_format, result["status"], errors=errors, warnings=warnings, traceback=traceback, **extra)


def make_detail(weight_format: str, status: str, *, error: str | None = None, errors: list[str] | None = None,
            warnings: list[str] | None = None, traceback: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    """A sub-summary in the shape the static validator's details have (old keys plus `loc`-bearing lists)."""
    loc = ["weights", weight_format]
    errors = errors if errors is not None else ([error] if error else [])
    return {"name": detail_name(weight_format), "status": status, "loc": loc,
            "error": "; ".join(errors) or None,
            "errors": [{"loc": loc, "msg": e, "type": "reproducibility"} for e in errors],
            "warnings": [{"loc": loc, "msg": w, "type": "reproducibility", "severity": 30} for w in warnings or []],
            "traceback": traceback, "nested_errors": None, "weights_format": weight_format,
            "tester_version": TESTER_VERSION, **extra}


def overall(details: list[dict[str, Any]], static_ok: bool = True) -> str:
    """failed if static validation or any format failed; valid-format if no format ran; passed otherwise."""
    statuses = [d["status"] for d in details]
    if not static_ok or "failed" in statuses:
        return "failed"
    return "passed" if "passed" in statuses else "valid-format"
