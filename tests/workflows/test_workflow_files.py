"""Static checks of .github/workflows: linters, CLI invocations, job graph, security rules, matrix limits."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from collection_compiler.cli import COMMANDS, build_parser
from collection_compiler.stages.plan import MAX_MATRIX_ENTRIES, _output_lines

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yaml"))
BIN = Path(sys.executable).parent
SHA_PIN = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True, data.get("on"))  # PyYAML reads the key `on` as a boolean
    return data


def steps(workflow: dict[str, Any]):
    for name, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield name, job, step


def tool(name: str) -> str:
    found = BIN / name if (BIN / name).exists() else shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed")
    return str(found)


def test_there_are_workflows():
    assert {p.name for p in WORKFLOWS} >= {"update.yaml", "test-models.yaml", "pr-checks.yaml", "pr-comment.yaml"}


def test_actionlint_passes():
    done = subprocess.run([tool("actionlint"), *map(str, WORKFLOWS)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_finds_nothing_of_medium_severity_or_more():
    done = subprocess.run([tool("zizmor"), "--offline", "--min-severity", "medium", "--no-progress", ".github/"],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def _collection_calls(script: str) -> list[list[str]]:
    """Each `collection …` command line of a run script, split as the shell would (variables as placeholders)."""
    calls = []
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        commands: list[list[str]] = [[]]
        for token in lexer:
            if token and set(token) <= set("|&;<>()"):
                commands.append([])
            else:
                commands[-1].append(token)
        for words in commands:
            if "collection" in words:
                words = words[words.index("collection") + 1:]
                # an optional flag `${X:+--flag}` expands to the flag or to nothing: check the flag
                words = [re.sub(r"^\$\{\w+:\+(.*)\}$", r"\1", w) for w in words]
                calls.append([re.sub(r"\$\{?(\w+)\}?", r"\1-value", w) for w in words])
    return calls


def test_every_collection_invocation_is_accepted_by_the_cli():
    seen = set()
    for path in WORKFLOWS:
        for _, _, step in steps(load(path)):
            for argv in _collection_calls(step.get("run", "")):
                assert argv and argv[0] in COMMANDS, f"{path.name}: unknown command in {step['run']!r}"
                build_parser([argv[0]]).parse_args(argv)  # raises SystemExit on a bad flag
                seen.add(argv[0])
    assert seen >= {"update", "plan", "validate", "test", "gather", "build", "deploy", "dispatch",
                    "review-prs", "check-partners", "run"}


def test_needs_exist_and_reusable_calls_match_their_inputs():
    for path in WORKFLOWS:
        jobs = load(path)["jobs"]
        for name, job in jobs.items():
            needs = job.get("needs", [])
            for need in [needs] if isinstance(needs, str) else needs:
                assert need in jobs, f"{path.name}: {name} needs unknown job {need}"
            if str(job.get("uses", "")).startswith("./"):
                called = load(ROOT / job["uses"])
                inputs = called["on"]["workflow_call"]["inputs"]
                assert set(job.get("with", {})) <= set(inputs), f"{path.name}: {name}"
                assert {k for k, v in inputs.items() if v.get("required")} <= set(job.get("with", {}))
                assert "secrets" not in job, f"{path.name}: {name} passes secrets to {job['uses']}"


def test_security_rules():
    for path in WORKFLOWS:
        workflow = load(path)
        assert workflow.get("permissions") == {}, f"{path.name}: top-level permissions must be {{}}"
        assert "concurrency" in workflow or list(workflow["on"]) == ["workflow_call"], path.name
        assert "pull_request_target" not in workflow["on"], path.name
        for name, job in workflow["jobs"].items():
            assert "permissions" in job, f"{path.name}: job {name} has no explicit permissions"
        for name, _, step in steps(workflow):
            uses = step.get("uses", "")
            assert not uses or uses.startswith("./") or SHA_PIN.match(uses), f"{path.name}: unpinned {uses}"
            assert "${{" not in step.get("run", ""), f"{path.name}: {name}: expression inlined in run:"
            if uses.startswith("actions/checkout"):
                assert step["with"]["persist-credentials"] is False, f"{path.name}: {name}"
    text = {p.name: p.read_text() for p in WORKFLOWS}
    assert "secrets." not in text["pr-checks.yaml"] and "secrets." not in text["test-models.yaml"]
    assert [n for n in text if "PARTNER_DISPATCH_TOKEN" in text[n]] == ["update.yaml"]
    update = load(ROOT / ".github/workflows/update.yaml")
    holders = [n for n, j in update["jobs"].items() if "PARTNER_DISPATCH_TOKEN" in yaml.safe_dump(j)]
    assert holders == ["dispatch"] and update["jobs"]["dispatch"]["permissions"] == {}
    # the comment workflow never checks out or runs pull request code
    comment = load(ROOT / ".github/workflows/pr-comment.yaml")
    for _, _, step in steps(comment):
        assert "head" not in str(step.get("with", {}).get("ref", "")) and "pull_request" not in str(step)


def test_the_test_matrix_job():
    test = load(ROOT / ".github/workflows/test-models.yaml")
    assert list(test["on"]) == ["workflow_call"]  # never on pull requests
    job = test["jobs"]["test"]
    assert job["strategy"]["fail-fast"] is False and job["timeout-minutes"] <= 120
    assert "self-hosted" in job["runs-on"] and "gpu" in job["runs-on"] and "ubuntu-latest" in job["runs-on"]
    assert "pull_request" in job["if"]
    assert any("nvidia-smi" in s.get("run", "") for s in job["steps"])  # records its device
    names = [s["with"]["name"] for s in job["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    assert names == ["results-test-${{ inputs.chunk }}-${{ strategy.job-index }}"]  # unique per leg and chunk


def test_plan_outputs_are_wired_and_fit_githubs_limits():
    update = load(ROOT / ".github/workflows/update.yaml")
    outputs = update["jobs"]["plan"]["outputs"]
    chunk_jobs = [n for n, j in update["jobs"].items() if j.get("uses") == "./.github/workflows/test-models.yaml"]
    # worst realistic case: every chunk full, long partner-style ids, the longest weights format name
    entry = {"resource_id": "p" * 20 + "/" + "e" * 60, "version_id": "v" * 20,
             "weight_format": "tensorflow_saved_model_bundle"}
    lines = dict(_output_lines([entry] * (MAX_MATRIX_ENTRIES * len(chunk_jobs)), {"ilastik": [entry]}))
    for index, job_name in enumerate(chunk_jobs):
        key = f"bioimageio_matrix_{index}"
        assert key in lines and f"steps.plan.outputs.{key}" in outputs[f"matrix_{index}"]
        assert f"needs.plan.outputs.matrix_{index}" in update["jobs"][job_name]["with"]["matrix"]
        assert len(yaml.safe_load(lines[key])["include"]) <= 256
    assert "has_pending_partners" in lines
    assert sum(len(k) + len(v) for k, v in lines.items()) * 2 < 1_000_000  # 1 MB per job, counted as UTF-16
    assert any(s.get("if", "").endswith(f"> {len(chunk_jobs)}") for s in update["jobs"]["plan"]["steps"])
