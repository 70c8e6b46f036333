"""End to end: real tiny models (state dict, TorchScript, ONNX; 0.4 and 0.5) through `collection test`."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from collection_compiler import cli
from collection_compiler.adapters import yamlio
from collection_compiler.stages import test as testing_cli
from collection_compiler.stages.test import test_source as run_test
from collection_compiler.testing import static, tester
from collection_compiler.testing.sandbox import Limits
from collection_compiler.testing.tester import TestOptions, detail_name

FORMATS = ("onnx", "pytorch_state_dict", "torchscript")


def edit_rdf(path, change):
    rdf = yamlio.load_yaml_file(path)
    change(rdf)
    path.write_text(yamlio.dump_yaml(rdf))


def _details(summary):
    return {d["weights_format"]: d for d in summary["details"] if d.get("weights_format")}


@pytest.mark.parametrize("name", ["single05", "single04", "multi05"])
def test_every_weights_format_reproduces_the_test_outputs(name, models, settings):
    summary = run_test(str(models[name]), settings, TestOptions(device="cpu"), perform_io=False)
    details = _details(summary)
    assert summary["status"] == "passed", json.dumps(summary["details"], indent=1)[:3000]
    assert sorted(details) == list(FORMATS)
    for wf, d in details.items():
        assert d["name"] == detail_name(wf) == f"reproduce test outputs from test inputs ({wf})"
        assert d["status"] == "passed" and d["error"] is None and d["device"] == "cpu"
        assert d["device_name"] and d["runtime"] and d["timings"]["process_s"] > 0
        assert all(t["source"].startswith("defaults for model") for t in d["tolerance"].values())
        # 0.5 models with parametrized sizes: batch 1..2 x size parameter 0..2
        expected_points = 6 if name.endswith("05") else 0
        assert len(d.get("sweep", [])) == expected_points and all(p["status"] == "passed" for p in d["sweep"])


def test_model_served_over_http(models, settings, http_folder):
    base = http_folder(models["single05"].parent)
    summary = run_test(f"{base}/rdf.yaml", settings, TestOptions(device="cpu"), "onnx", perform_io=False)
    assert summary["status"] == "passed", summary["details"]
    assert [d["weights_format"] for d in summary["details"] if "weights_format" in d] == ["onnx"]


def test_zip_package_through_the_cli(models, tmp_path, settings, capsys):
    package = tmp_path / "model.zip"
    with zipfile.ZipFile(package, "w", zipfile.ZIP_DEFLATED) as z:
        for path in models["single04"].parent.iterdir():
            z.write(path, path.name)
    summary_path = tmp_path / "summary.json"
    code = cli.main(["test", str(package), "--weight-format", "torchscript", "--device", "cpu", "--no-io",
                     "--summary", str(summary_path), "--work-dir", str(settings.work_dir)])
    summary = json.loads(summary_path.read_text())
    assert code == 0 and summary["status"] == "passed"
    assert _details(summary)["torchscript"]["status"] == "passed"
    assert "passed  reproduce test outputs from test inputs (torchscript)" in capsys.readouterr().out


def test_wrong_expected_output_fails_with_the_share_of_mismatches(model_copy, settings, tmp_path):
    rdf = model_copy("single05")
    expected = np.load(rdf.parent / "test_output.npy")
    expected[0, 1] += 0.05  # one of two channels off
    np.save(rdf.parent / "test_output.npy", expected)
    code = cli.main(["test", str(rdf), "--weight-format", "onnx", "--device", "cpu", "--no-io",
                     "--summary", str(tmp_path / "s.json"), "--work-dir", str(settings.work_dir)])
    detail = _details(json.loads((tmp_path / "s.json").read_text()))["onnx"]
    assert code == 1 and detail["status"] == "failed"
    assert "output 'prob': 384 of 768 elements (50.0000%" in detail["error"]
    assert "worst at [0, 1," in detail["error"]


def test_tiny_noise_within_tolerance_passes(model_copy, settings):
    rdf = model_copy("single05")
    expected = np.load(rdf.parent / "test_output.npy")
    noise = np.random.default_rng(3).uniform(-2e-4, 2e-4, expected.shape).astype(np.float32)
    np.save(rdf.parent / "test_output.npy", expected + noise)
    summary = run_test(str(rdf), settings, TestOptions(device="cpu"), "pytorch_state_dict", perform_io=False)
    assert summary["status"] == "passed", summary["details"]


def test_tensorflow_formats_are_not_applicable_and_not_failures(model_copy, settings):
    rdf = model_copy("single05")
    edit_rdf(rdf, lambda d: d["weights"].update(
        keras_hdf5={"source": "weights.h5", "tensorflow_version": "2.15", "parent": "pytorch_state_dict"}))
    summary = run_test(str(rdf), settings, TestOptions(device="cpu"), "keras_hdf5", perform_io=False)
    detail = _details(summary)["keras_hdf5"]
    assert detail["status"] == "not-applicable" and "TensorFlow" in detail["reason"]
    assert summary["status"] == "valid-format"  # nothing ran, nothing failed


def test_sweep_checks_output_shapes_against_the_description(model_copy, settings):
    rdf = model_copy("single05")
    # the test output is 24 wide, so the plain reproduction passes; other sizes of the sweep do not
    edit_rdf(rdf, lambda d: d["outputs"][0]["axes"][3].update(size=24))
    detail = _details(run_test(str(rdf), settings, TestOptions(device="cpu"), "onnx", perform_io=False))["onnx"]
    assert detail["status"] == "failed"
    assert "sweep batch_size 1, n 0: output 'prob' axis 'x': size 8, expected 24" in detail["error"]


def test_weights_with_a_wrong_sha256_are_not_run(model_copy, settings):
    rdf = model_copy("single05")
    edit_rdf(rdf, lambda d: d["weights"]["onnx"].update(sha256="ab" * 32))
    detail = _details(run_test(str(rdf), settings, TestOptions(device="cpu"), "onnx", perform_io=False))["onnx"]
    assert detail["status"] == "failed" and "weights.onnx.source: sha256 of weights.onnx is" in detail["error"]


def _only_state_dict(rdf, callable_name):
    def change(d):
        d["weights"] = {"pytorch_state_dict": d["weights"]["pytorch_state_dict"]}
        d["weights"]["pytorch_state_dict"]["architecture"]["callable"] = callable_name
    edit_rdf(rdf, change)


def test_model_that_hangs_is_killed_at_the_time_limit(model_copy, settings):
    rdf = model_copy("single05")
    _only_state_dict(rdf, "Sleeper")
    options = TestOptions(device="cpu", limits=Limits(timeout_s=8))
    detail = _details(run_test(str(rdf), settings, options, perform_io=False))["pytorch_state_dict"]
    assert detail["status"] == "failed"
    assert detail["error"] == "test process killed after the wall-time limit of 8 s"


def test_model_that_allocates_too_much_fails_cleanly(model_copy, settings):
    rdf = model_copy("single05")
    _only_state_dict(rdf, "Hog")
    options = TestOptions(device="cpu", limits=Limits(memory_bytes=2 * 1024**3))
    detail = _details(run_test(str(rdf), settings, options, perform_io=False))["pytorch_state_dict"]
    assert detail["status"] == "failed"
    assert "memory" in detail["error"].lower()


def test_model_that_crashes_the_process_fails_cleanly(model_copy, settings):
    rdf = model_copy("single05")
    _only_state_dict(rdf, "Crasher")
    detail = _details(run_test(str(rdf), settings, TestOptions(device="cpu"), perform_io=False))["pytorch_state_dict"]
    assert detail["status"] == "failed" and detail["error"] == "test process died from signal SIGSEGV"


def test_model_code_sees_no_secrets(model_copy, settings, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret")
    monkeypatch.setenv("ZENODO_API_SECRET", "zsecret")
    monkeypatch.setenv("CUDA_SECRET_THING", "x")
    rdf = model_copy("single05")
    _only_state_dict(rdf, "EnvProbe")
    detail = _details(run_test(str(rdf), settings, TestOptions(device="cpu"), perform_io=False))["pytorch_state_dict"]
    assert detail["status"] == "failed" and "HOME" in detail["error"].removeprefix("RuntimeError: environment:").split()
    assert "TOKEN" not in detail["error"] and "SECRET" not in detail["error"]


@pytest.mark.parametrize("case", ["passes", "fails validation", "no such source"])
def test_the_worker_never_outlives_the_command(case, model_copy, settings, monkeypatch):
    """The worker starts once the description is read and loads its runtime while the description is validated;
    when the command returns, its process has ended and its scratch folder is gone, whether it ran the test or
    validation failed. A source that cannot be read starts none."""
    events, workers, validate, start_worker = [], [], static.static_validation, tester.start_worker

    def starting(weight_format, options):
        events.append(f"start {weight_format}")
        workers.append(start_worker(weight_format, options))
        return workers[-1]

    def validation(*args, **kwargs):
        events.append("validate")
        return validate(*args, **kwargs)

    monkeypatch.setattr(testing_cli, "start_worker", starting)
    monkeypatch.setattr(tester, "start_worker", starting)
    monkeypatch.setattr(static, "static_validation", validation)
    rdf = model_copy("single05")
    if case == "fails validation":
        edit_rdf(rdf, lambda d: d.update(name=""))
    source = str(rdf.parent / "missing.yaml") if case == "no such source" else str(rdf)
    code = cli.main(["test", source, "--weight-format", "onnx", "--device", "cpu", "--no-io",
                     "--work-dir", str(settings.work_dir)])
    assert code == (0 if case == "passes" else 1)
    assert events == ([] if case == "no such source" else ["start onnx", "validate"])
    for worker in workers:
        assert worker.process.poll() is not None and not worker.scratch.exists()
