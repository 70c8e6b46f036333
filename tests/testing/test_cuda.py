"""The model tests on an NVIDIA GPU: every weights format of a 0.4, a 0.5 and a two-tensor 0.5 model on CUDA gives
the CPU's verdict, records the device and the runtime versions, and stays under the memory watchdog.

Tests that need a GPU are skipped, with the reason, on machines without one (CI's runners); on a GPU runner they
run with the rest of the suite. Where no GPU is present, asking for one is a clear failure, not a silent CPU run.
"""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

from collection_compiler.adapters import yamlio
from collection_compiler.stages.test import test_source as run_test
from collection_compiler.testing.sandbox import Limits
from collection_compiler.testing.tester import TestOptions

FORMATS = ("onnx", "pytorch_state_dict", "torchscript")


@functools.cache
def torch_cuda_name() -> str | None:
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None


@functools.cache
def onnxruntime_has_cuda() -> bool:
    import onnxruntime

    return "CUDAExecutionProvider" in onnxruntime.get_available_providers()


needs_gpu = pytest.mark.skipif(torch_cuda_name() is None,
                               reason="no CUDA device here (torch.cuda.is_available() is False): GPU runners only")


def _skip_without_runtime(weight_format: str) -> None:
    if weight_format == "onnx" and not onnxruntime_has_cuda():
        pytest.skip("onnxruntime has no CUDA provider here: install onnxruntime-gpu on GPU runners")


def _detail(summary: dict, weight_format: str) -> dict:
    return next(d for d in summary["details"] if d.get("weights_format") == weight_format)


@needs_gpu
@pytest.mark.parametrize("weight_format", FORMATS)
@pytest.mark.parametrize("name", ["single05", "single04", "multi05"])
def test_each_weights_format_passes_on_cuda_as_on_the_cpu(name, weight_format, models, settings):
    _skip_without_runtime(weight_format)
    cpu = run_test(str(models[name]), settings, TestOptions(device="cpu"), weight_format, perform_io=False)
    gpu = run_test(str(models[name]), settings, TestOptions(device="cuda"), weight_format, perform_io=False)
    assert gpu["status"] == cpu["status"] == "passed", json.dumps(gpu["details"], indent=1)[:3000]
    detail = _detail(gpu, weight_format)
    assert detail["device"] == "cuda" and torch_cuda_name() in detail["device_name"]
    assert detail["runtime"]["cuda"] not in ("", "None", "unknown")
    assert [p["status"] for p in detail.get("sweep", [])] == [p["status"] for p in _detail(cpu, weight_format)
                                                              .get("sweep", [])]


@needs_gpu
@pytest.mark.parametrize("weight_format", FORMATS)
def test_cuda_outputs_equal_the_cpu_outputs(weight_format, models):
    """fp32 on both devices (no TF32): the outputs agree far inside the models' tolerance."""
    _skip_without_runtime(weight_format)
    from collection_compiler.testing import runners

    folder = models["single05"].parent
    rdf = yamlio.load_yaml_file(models["single05"])
    weights = {"path": str(folder / rdf["weights"][weight_format]["source"])}
    if weight_format == "pytorch_state_dict":
        arch = rdf["weights"][weight_format]["architecture"]
        weights["architecture"] = {"path": str(folder / arch["source"]), "sha256": arch["sha256"],
                                   "callable": arch["callable"], "kwargs": arch.get("kwargs", {})}
    x = np.random.default_rng(0).normal(size=(1, 1, 64, 64)).astype(np.float32)
    outputs = {}
    for device in ("cpu", "cuda"):
        predict, info = runners.load(weight_format, weights, device)
        assert info["device"] == device
        outputs[device] = predict([x])[0]
    np.testing.assert_allclose(outputs["cuda"], outputs["cpu"], rtol=1e-5, atol=1e-6)


@needs_gpu
def test_the_memory_watchdog_stops_a_cuda_test(model_copy, settings):
    rdf = model_copy("single05")

    def only_the_hog(d: dict) -> None:
        d["weights"] = {"pytorch_state_dict": d["weights"]["pytorch_state_dict"]}
        d["weights"]["pytorch_state_dict"]["architecture"]["callable"] = "Hog"

    data = yamlio.load_yaml_file(rdf)
    only_the_hog(data)
    rdf.write_text(yamlio.dump_yaml(data))
    options = TestOptions(device="cuda", limits=Limits(memory_bytes=2 * 1024**3))
    detail = _detail(run_test(str(rdf), settings, options, perform_io=False), "pytorch_state_dict")
    assert detail["status"] == "failed" and "memory" in detail["error"].lower()


@pytest.mark.skipif(torch_cuda_name() is not None, reason="this machine has a GPU")
@pytest.mark.parametrize("weight_format", ["torchscript", "onnx"])
def test_asking_for_cuda_without_a_gpu_fails_with_the_reason(weight_format, models, settings):
    summary = run_test(str(models["single05"]), settings, TestOptions(device="cuda"), weight_format, perform_io=False)
    detail = _detail(summary, weight_format)
    assert summary["status"] == "failed" and detail["status"] == "failed"
    assert "device 'cuda' asked for" in detail["error"]
