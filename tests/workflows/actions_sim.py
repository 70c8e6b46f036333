"""A small local player of GitHub Actions workflows, for the job-chain test.

It runs jobs in `needs` order, each in a fresh folder, with `${{ }}` expressions evaluated, `GITHUB_OUTPUT`,
`GITHUB_STEP_SUMMARY` and job outputs handled, `actions/checkout` as a real `git clone` of local repositories,
`actions/upload-artifact` / `download-artifact` as folders (unique names enforced, `pattern` + `merge-multiple`),
reusable workflows with their matrix, and `run:` steps executed by bash with `-eo pipefail` as on GitHub.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_TOKEN = re.compile(r"\s*(?:('(?:[^']|'')*')|(\d+(?:\.\d+)?)|(&&|\|\||==|!=|>=|<=|[!<>(),])|([A-Za-z_][\w.\-*]*))")
_FUNCS = {"toJSON": "_toJSON", "fromJSON": "_fromJSON", "always": "_always", "cancelled": "_cancelled",
          "success": "_success", "failure": "_failure"}


def load_workflow(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True, data.get("on"))
    return data


def as_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


@dataclass
class Context:
    values: dict[str, Any]
    failed: bool = False

    def lookup(self, path: str) -> Any:
        value: Any = self.values
        for part in path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if isinstance(value, str) and value.isdigit():
            return int(value)  # GitHub compares numeric strings as numbers
        return value

    def evaluate(self, expression: str) -> Any:
        python, pos = [], 0
        expression = expression.strip()
        while pos < len(expression):
            m = _TOKEN.match(expression, pos)
            if not m:
                raise ValueError(f"cannot parse {expression!r} at {pos}")
            pos = m.end()
            string, number, op, ident = m.groups()
            if string is not None:
                python.append(repr(string[1:-1].replace("''", "'")))
            elif number is not None:
                python.append(number)
            elif op is not None:
                python.append({"&&": " and ", "||": " or ", "!": " not "}.get(op, f" {op} "))
            elif ident in ("true", "false", "null"):
                python.append({"true": "True", "false": "False", "null": "None"}[ident])
            elif ident in _FUNCS:
                python.append(_FUNCS[ident])
            else:
                python.append(f"_ctx({ident!r})")
        code = "".join(python)
        return eval(code, {"__builtins__": {}}, {  # noqa: S307 - our own workflow files, test only
            "_ctx": self.lookup, "_toJSON": lambda v: json.dumps(v, indent=2), "_fromJSON": json.loads,
            "_always": lambda: True, "_cancelled": lambda: False, "_success": lambda: not self.failed,
            "_failure": lambda: self.failed})

    def render(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        whole = re.fullmatch(r"\$\{\{(.*?)\}\}", value.strip(), re.S)
        if whole:
            return self.evaluate(whole[1])
        return re.sub(r"\$\{\{(.*?)\}\}", lambda m: as_string(self.evaluate(m[1])), value)

    def condition(self, value: Any, default: str) -> bool:
        text = value if value is not None else default
        text = text.strip()
        if isinstance(text, str) and text.startswith("${{"):
            text = text[3:-2]
        return bool(self.evaluate(str(text)))


@dataclass
class JobResult:
    result: str
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""


@dataclass
class Player:
    root: Path
    repos: dict[str, Path]  # clone source per repository name
    repository: str
    event_name: str
    ref: str
    inputs: dict[str, Any]
    vars: dict[str, str]
    secrets: dict[str, str]
    base_env: dict[str, str]
    workflows_dir: Path
    artifacts: dict[str, Path] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    _jobs: int = 0

    def github(self) -> dict[str, Any]:
        return {"event_name": self.event_name, "ref": self.ref, "repository": self.repository, "token": "fake-token",
                "run_id": "4242", "server_url": "https://github.example"}

    def run(self, workflow_file: str) -> dict[str, JobResult]:
        workflow = load_workflow(self.workflows_dir / workflow_file)
        results: dict[str, JobResult] = {}
        pending = dict(workflow["jobs"])
        while pending:
            ready = [n for n, j in pending.items() if all(d in results for d in _needs(j))]
            assert ready, f"cycle in {list(pending)}"
            name = ready[0]
            results[name] = self.job(workflow, name, pending.pop(name), results, self.inputs)
        return results

    def job(self, workflow: dict[str, Any], name: str, job: dict[str, Any], results: dict[str, JobResult],
            inputs: dict[str, Any]) -> JobResult:
        needs = {n: {"result": results[n].result, "outputs": results[n].outputs} for n in _needs(job)}
        ctx = Context({"github": self.github(), "inputs": inputs, "vars": self.vars, "needs": needs,
                       "secrets": self.secrets, "runner": {"temp": str(self.root / "runner-temp")}})
        ctx.failed = any(n["result"] not in ("success",) for n in needs.values())
        if not ctx.condition(job.get("if"), "success()"):
            self.log.append(f"{name}: skipped")
            return JobResult("skipped")
        if "uses" in job:
            return self.reusable(name, job, ctx)
        matrix = ctx.render(job.get("strategy", {}).get("matrix"))
        legs = (matrix or {}).get("include") or [None]
        results_ = [self.leg(workflow, name, job, ctx, entry, index) for index, entry in enumerate(legs)]
        result = "success" if all(r.result == "success" for r in results_) else "failure"
        return JobResult(result, results_[-1].outputs, "".join(r.summary for r in results_))

    def reusable(self, name: str, job: dict[str, Any], ctx: Context) -> JobResult:
        called = load_workflow(self.workflows_dir / Path(job["uses"]).name)
        declared = called["on"]["workflow_call"]["inputs"]
        given = {k: ctx.render(v) for k, v in (job.get("with") or {}).items()}
        inputs = {k: given.get(k, spec.get("default")) for k, spec in declared.items()}
        inner = {n: self.job(called, f"{name}/{n}", j, {}, inputs) for n, j in called["jobs"].items()}
        ok = all(r.result in ("success", "skipped") for r in inner.values())
        return JobResult("success" if ok else "failure", {}, "".join(r.summary for r in inner.values()))

    def leg(self, workflow: dict[str, Any], name: str, job: dict[str, Any], parent: Context,
            entry: dict[str, Any] | None, index: int) -> JobResult:
        self._jobs += 1
        folder = self.root / "jobs" / f"{self._jobs:02d}-{name.replace('/', '-')}"
        folder.mkdir(parents=True)
        (self.root / "runner-temp").mkdir(exist_ok=True)
        summary_file = folder.parent / f"{folder.name}.summary.md"
        summary_file.touch()
        ctx = Context({**parent.values, "matrix": entry or {}, "strategy": {"job-index": index}, "steps": {},
                       "job": {}})
        env = {**self.base_env, **_render_env(ctx, workflow.get("env")), **_render_env(ctx, job.get("env"))}
        for step in job.get("steps", []):
            if not ctx.condition(step.get("if"), "success()"):
                continue
            ok = self.step(step, ctx, env, folder, summary_file)
            if not ok:
                ctx.failed = True
        outputs = {k: as_string(ctx.render(v)) for k, v in (job.get("outputs") or {}).items()}
        self.log.append(f"{name}[{index}]: {'failure' if ctx.failed else 'success'}")
        return JobResult("failure" if ctx.failed else "success", outputs, summary_file.read_text())

    # steps -------------------------------------------------------------------------------------------------
    def step(self, step: dict[str, Any], ctx: Context, env: dict[str, str], folder: Path, summary: Path) -> bool:
        uses = step.get("uses", "")
        with_ = {k: ctx.render(v) for k, v in (step.get("with") or {}).items()}
        if uses.startswith("actions/checkout@"):
            return self.checkout(with_, folder)
        if uses == "./.github/actions/setup-collection":
            return True  # the package is installed in the test's environment
        if uses.startswith("actions/upload-artifact@"):
            return self.upload(with_, folder)
        if uses.startswith("actions/download-artifact@"):
            return self.download(with_, folder)
        assert not uses, f"no simulation for {uses}"
        output = folder.parent / f"{folder.name}.output"
        output.write_text("")
        step_env = {**env, **_render_env(ctx, step.get("env")), "GITHUB_OUTPUT": str(output),
                    "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_REPOSITORY": self.repository,
                    "GITHUB_REF": self.ref, "GITHUB_RUN_ID": "4242", "GITHUB_SERVER_URL": "https://github.example"}
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                              cwd=folder, env=step_env, capture_output=True, text=True)
        self.log.append(f"  $ {step['run'].strip()} -> {done.returncode}\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
        if "id" in step:
            ctx.values["steps"][step["id"]] = {"outputs": _parse_output(output.read_text())}
        return done.returncode == 0

    def checkout(self, with_: dict[str, Any], folder: Path) -> bool:
        target = folder / with_.get("path", ".")
        source = self.repos[with_.get("repository", self.repository)]
        subprocess.run(["git", "clone", "-q", str(source), str(target)], check=True, capture_output=True)
        if with_.get("ref"):
            subprocess.run(["git", "-C", str(target), "checkout", "-q", str(with_["ref"])], check=True,
                           capture_output=True)
        return True

    def upload(self, with_: dict[str, Any], folder: Path) -> bool:
        name = str(with_["name"])
        assert "/" not in name and name not in self.artifacts, f"artifact name {name!r} is not unique or valid"
        paths = [folder / p.strip() for p in str(with_["path"]).splitlines() if p.strip()]
        existing = [p for p in paths if p.exists()]
        if not existing:
            return with_.get("if-no-files-found", "warn") != "error"
        root = Path(os.path.commonpath([p if p.is_dir() else p.parent for p in existing])) if len(existing) > 1 \
            else (existing[0] if existing[0].is_dir() else existing[0].parent)
        store = self.root / "artifacts" / name
        for path in existing:
            files = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]
            for f in files:
                (store / f.relative_to(root)).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, store / f.relative_to(root))
        store.mkdir(parents=True, exist_ok=True)
        self.artifacts[name] = store
        return True

    def download(self, with_: dict[str, Any], folder: Path) -> bool:
        target = Path(with_.get("path", "."))
        target = target if target.is_absolute() else folder / target
        if "name" in with_:
            if with_["name"] not in self.artifacts:
                return False
            shutil.copytree(self.artifacts[with_["name"]], target, dirs_exist_ok=True)
            return True
        for name in sorted(n for n in self.artifacts if fnmatch.fnmatchcase(n, with_["pattern"])):
            dest = target if with_.get("merge-multiple") else target / name
            shutil.copytree(self.artifacts[name], dest, dirs_exist_ok=True)
        return True


def _needs(job: dict[str, Any]) -> list[str]:
    needs = job.get("needs", [])
    return [needs] if isinstance(needs, str) else list(needs)


def _render_env(ctx: Context, env: dict[str, Any] | None) -> dict[str, str]:
    return {k: as_string(ctx.render(v)) for k, v in (env or {}).items()}


def _parse_output(text: str) -> dict[str, str]:
    outputs, lines = {}, iter(text.splitlines())
    for line in lines:
        if "<<" in line and "=" not in line.split("<<")[0]:
            key, marker = line.split("<<", 1)
            outputs[key] = "\n".join(iter(lambda: next(lines), marker))
        elif "=" in line:
            key, value = line.split("=", 1)
            outputs[key] = value
    return outputs
