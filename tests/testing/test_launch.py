"""The early worker start of `collection test`: which command lines start one, and that a worker the parsed
arguments do not want is never used and never left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from collection_compiler import cli
from collection_compiler.stages import test as testing_cli
from collection_compiler.testing import launch, tester


@pytest.mark.parametrize(("argv", "expected"), [
    (["test", "m/rdf.yaml", "--weight-format", "onnx", "--device", "cpu"], ("onnx", "cpu")),
    (["test", "m/rdf.yaml", "--weight-format=torchscript", "--device=cpu"], ("torchscript", "cpu")),
    (["test", "m/rdf.yaml", "--device", "cpu"], None),  # every format: the description decides which first
    (["test", "m/rdf.yaml", "--weight-format", "keras_hdf5"], None),  # not run by this tester
    (["test", "m/rdf.yaml", "--weight-format", "onnx", "--device", "tpu"], None),
    (["test", "--matrix-entry", "{}", "--weight-format", "onnx"], None),
    (["test", "--all", "--weight-format=onnx"], None),
    (["test", "m/rdf.yaml", "--weight-format", "onnx", "--help"], None),
])
def test_which_command_lines_start_a_worker_early(argv, expected, monkeypatch):
    started = []
    monkeypatch.setattr(launch, "Launched", lambda wf, device: started.append((wf, device)) or "worker")
    result = launch.start_early(argv)
    assert started == ([] if expected is None else [expected])
    assert result == (None if expected is None else "worker")


def test_a_worker_the_parsed_arguments_disagree_with_is_closed_and_another_runs(model_copy, settings, monkeypatch):
    """argparse keeps the last of a repeated flag, the scan the first: the early onnx worker must not run the
    torchscript test; it is closed (process ended, scratch removed) and the right worker runs it."""
    early_workers, started_later, start_early = [], [], launch.start_early

    def early(argv):
        early_workers.append(start_early(argv))
        return early_workers[-1]

    def start_worker(weight_format, options):
        started_later.append(weight_format)
        return tester.start_worker(weight_format, options)

    monkeypatch.setattr(launch, "start_early", early)
    monkeypatch.setattr(testing_cli, "start_worker", start_worker)
    rdf = model_copy("single05")
    code = cli.main(["test", str(rdf), "--weight-format", "onnx", "--weight-format", "torchscript", "--device", "cpu",
                     "--no-io", "--work-dir", str(settings.work_dir)])
    assert code == 0
    assert early_workers[0].weight_format == "onnx" and started_later == ["torchscript"]
    assert early_workers[0].process.poll() is not None and not Path(early_workers[0].scratch).exists()


def test_a_bad_command_line_leaves_no_worker_behind(monkeypatch, capsys):
    early_workers, start_early = [], launch.start_early

    def early(argv):
        early_workers.append(start_early(argv))
        return early_workers[-1]

    monkeypatch.setattr(launch, "start_early", early)
    with pytest.raises(SystemExit):
        cli.main(["test", "m/rdf.yaml", "--weight-format", "onnx", "--device", "cpu", "--no-such-flag"])
    assert "--no-such-flag" in capsys.readouterr().err
    assert early_workers[0].process.poll() is not None and not Path(early_workers[0].scratch).exists()


def test_the_scratch_folder_is_private_and_new(tmp_path: Path):
    first, second = launch._make_scratch("test-x-", tmp_path), launch._make_scratch("test-x-", tmp_path)
    assert first != second and Path(first).parent == tmp_path
    assert Path(first).stat().st_mode & 0o777 == 0o700
