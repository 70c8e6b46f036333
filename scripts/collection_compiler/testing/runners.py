"""Runners for onnx, torchscript and pytorch_state_dict weights. Imported only inside the sandbox.

Each runner loads the weights once and maps a list of input arrays (in `inputs` order) to a list of
output arrays (in `outputs` order); inputs are passed positionally, as the reference tester does.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

Predict = Callable[[list[np.ndarray]], list[np.ndarray]]


class RunnerError(RuntimeError):
    pass


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            lines = f.read().splitlines()
        for line in lines:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_name() -> str:
    import subprocess  # here, not at the top: a CPU test then starts without it

    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                             text=True, timeout=10, check=False)
        return out.stdout.strip().splitlines()[0] if out.stdout.strip() else "CUDA device"
    except (OSError, subprocess.TimeoutExpired):
        return "CUDA device"


def load(weight_format: str, weights: dict[str, Any], device: str) -> tuple[Predict, dict[str, Any]]:
    """(predict function, info with device and runtime versions) for the requested format and device."""
    if weight_format == "onnx":
        return _onnx(weights, device)
    if weight_format == "torchscript":
        return _torch(weights, device, _load_torchscript)
    if weight_format == "pytorch_state_dict":
        return _torch(weights, device, _load_state_dict)
    raise RunnerError(f"no runner for weights format {weight_format!r}")


def _onnx(weights: dict[str, Any], device: str) -> tuple[Predict, dict[str, Any]]:
    import onnxruntime as ort

    available = ort.get_available_providers()
    use_cuda = device in ("cuda", "auto") and "CUDAExecutionProvider" in available
    if device == "cuda" and not use_cuda:
        raise RunnerError(f"device 'cuda' asked for, but onnxruntime has no CUDA provider (has {available}); "
                          "install onnxruntime-gpu instead of onnxruntime")
    if use_cuda and hasattr(ort, "preload_dlls"):
        ort.preload_dlls()  # CUDA and cuDNN from the nvidia-* wheels that torch brings, if no system copy is found
    # TF32 would round the test inputs to 10 mantissa bits on Ampere and newer: outputs then miss the tolerance
    # that the model's fp32 test outputs were written with.
    cuda = ("CUDAExecutionProvider", {"use_tf32": "0"})
    providers = [cuda, "CPUExecutionProvider"] if use_cuda else ["CPUExecutionProvider"]
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(weights["path"]), sess_options=options, providers=providers)
    names = [i.name for i in session.get_inputs()]

    def predict(arrays: list[np.ndarray]) -> list[np.ndarray]:
        if len(arrays) != len(names):
            raise RunnerError(f"the ONNX model takes {len(names)} inputs, the description has {len(arrays)}")
        return [np.asarray(o) for o in session.run(None, dict(zip(names, arrays, strict=True)))]

    on_gpu = session.get_providers()[0] == "CUDAExecutionProvider"
    if device == "cuda" and not on_gpu:
        raise RunnerError("device 'cuda' asked for, but onnxruntime could not start its CUDA provider "
                          "(missing CUDA or cuDNN libraries?)")
    runtime = {"onnxruntime": ort.__version__}
    if on_gpu:
        runtime["cuda"] = _onnxruntime_cuda_version()
    info = {"device": "cuda" if on_gpu else "cpu", "device_name": gpu_name() if on_gpu else cpu_name(),
            "runtime": runtime, "providers": session.get_providers()}
    return predict, info


def _onnxruntime_cuda_version() -> str:
    """The CUDA version that this onnxruntime-gpu build was made for (its package info says so)."""
    try:
        from onnxruntime.capi import build_and_package_info
    except ImportError:
        return "unknown"
    return str(getattr(build_and_package_info, "cuda_version", "unknown"))


def _torch(weights: dict[str, Any], device: str, loader: Callable[[dict[str, Any], Any], Any]
           ) -> tuple[Predict, dict[str, Any]]:
    import torch

    torch.manual_seed(0)
    if device == "cuda" and not torch.cuda.is_available():
        raise RunnerError("device 'cuda' asked for, but torch sees no CUDA device")
    target = torch.device("cuda" if device in ("cuda", "auto") and torch.cuda.is_available() else "cpu")
    if target.type == "cuda":
        # fp32 as on the CPU: TF32 convolutions and matmuls miss the tolerance of fp32 test outputs.
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    model = loader(weights, target)
    model.eval()

    def predict(arrays: list[np.ndarray]) -> list[np.ndarray]:
        with torch.no_grad():
            result = model(*[torch.from_numpy(np.ascontiguousarray(a)).to(target) for a in arrays])
        if isinstance(result, torch.Tensor):
            result = [result]
        if not isinstance(result, list | tuple):
            raise RunnerError(f"the model returned {type(result).__name__}, not a tensor, tuple or list")
        return [r.detach().cpu().numpy() if isinstance(r, torch.Tensor) else r for r in result]

    runtime = {"torch": torch.__version__}
    if target.type == "cuda":
        runtime.update(cuda=str(torch.version.cuda), cudnn=str(torch.backends.cudnn.version()))
    info = {"device": target.type,
            "device_name": torch.cuda.get_device_name(target) if target.type == "cuda" else cpu_name(),
            "runtime": runtime}
    return predict, info


def _load_torchscript(weights: dict[str, Any], target: Any) -> Any:
    import torch

    return torch.jit.load(str(weights["path"]), map_location=target)


def _load_state_dict(weights: dict[str, Any], target: Any) -> Any:
    import torch

    arch = weights["architecture"]
    factory = _architecture_callable(arch)
    model = factory(**arch.get("kwargs", {}))
    if not isinstance(model, torch.nn.Module):
        raise RunnerError(f"architecture {arch['callable']!r} built a {type(model).__name__}, not a torch.nn.Module")
    state = torch.load(str(weights["path"]), map_location=target, weights_only=True)
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    model.load_state_dict(state)
    return model.to(target)


def _architecture_callable(arch: dict[str, Any]) -> Callable[..., Any]:
    import hashlib
    import importlib.util
    from pathlib import Path

    if not arch.get("path"):
        raise RunnerError("architecture: only a callable of the model's own architecture file is run")
    path = Path(arch["path"])
    expected = arch.get("sha256")
    if expected and hashlib.sha256(path.read_bytes()).hexdigest() != expected:
        raise RunnerError(f"architecture file {path.name}: sha256 does not match the description")
    module_name = f"_bioimageio_architecture_{hashlib.sha256(str(path).encode()).hexdigest()[:12]}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise RunnerError(f"architecture file {path.name} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    factory = getattr(module, arch["callable"], None)
    if not callable(factory) or getattr(factory, "__module__", None) != module_name:  # e.g. `from os import system`
        raise RunnerError(f"architecture: {arch['callable']!r} is not a callable defined in {path.name}")
    return factory
