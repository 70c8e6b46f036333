"""When `collection test` starts its sandboxed worker: after the command line is parsed, in a private scratch
folder, and never left behind."""

from __future__ import annotations

import pytest

from collection_compiler import cli
from collection_compiler.stages import test as testing_cli
from collection_compiler.testing import tester
from collection_compiler.testing.sandbox import TestOptions, discard, start_worker


def test_a_bad_command_line_starts_no_worker(monkeypatch, capsys):
    started = []
    monkeypatch.setattr(testing_cli, "start_worker", lambda *a: started.append(a))
    monkeypatch.setattr(tester, "start_worker", lambda *a: started.append(a))
    with pytest.raises(SystemExit):
        cli.main(["test", "m/rdf.yaml", "--weight-format", "onnx", "--device", "cpu", "--no-such-flag"])
    assert "--no-such-flag" in capsys.readouterr().err
    assert started == []


def test_the_last_of_a_repeated_flag_decides_which_worker_runs(model_copy, settings, monkeypatch):
    """argparse keeps the last of a repeated flag: only the torchscript worker starts, and it runs the test."""
    started, start = [], tester.start_worker

    def starting(weight_format, options):
        started.append(weight_format)
        return start(weight_format, options)

    monkeypatch.setattr(testing_cli, "start_worker", starting)
    monkeypatch.setattr(tester, "start_worker", starting)
    rdf = model_copy("single05")
    code = cli.main(["test", str(rdf), "--weight-format", "onnx", "--weight-format", "torchscript", "--device", "cpu",
                     "--no-io", "--work-dir", str(settings.work_dir)])
    assert code == 0 and started == ["torchscript"]


def test_the_scratch_folder_is_private_new_and_removed(tmp_path):
    options = TestOptions(device="cpu", scratch_root=tmp_path, allow_unsandboxed=True)
    first, second = start_worker("onnx", options), start_worker("onnx", options)
    assert first is not None and second is not None
    try:
        assert first.scratch != second.scratch and first.scratch.parent == tmp_path
        assert first.scratch.stat().st_mode & 0o777 == 0o700
    finally:
        discard(first, options)
        discard(second, options)
    assert first.process.poll() is not None and not first.scratch.exists() and not second.scratch.exists()
