"""The `collection` command as a user meets it: run in a subprocess from an empty folder, checking the exit code,
the words a user needs, and that no traceback is printed (the `collection` fixture checks that)."""

from __future__ import annotations

import re
import shlex
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

Run = Callable[..., subprocess.CompletedProcess[str]]
INSTALL = "pip install 'collection-compiler[models]'"


@pytest.fixture
def dead_url() -> str:
    """A local URL nothing listens on: every connection is refused at once (as when offline)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


def offline(dead_url: str) -> list[str]:
    return ["--zenodo-api", f"{dead_url}/api", "--github-api", dead_url, "--github-raw", dead_url,
            "--http-retries", "0"]


# ---- runs anywhere ---------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_the_demo_runs_from_an_empty_folder_and_says_how_to_look_at_it(collection: Run, tmp_path: Path) -> None:
    result = collection("demo", "--out", "demo-site")
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "empty"
    assert (folder / "demo-site" / "collection.json").is_file() and (folder / "demo-site" / "index.html").is_file()
    for stage in ("update:", "validate:", "test:", "gather:", "plan:", "build:"):
        assert any(line.startswith(stage) for line in result.stdout.splitlines()), (stage, result.stdout)
    last = result.stdout.strip().splitlines()[-1]
    assert "demo-site" in last and " serve " in last
    command = shlex.split(last.split("Look at it with:", 1)[1])
    assert command[-2:] == ["serve", "demo-site"]
    typed = command[0]  # `collection` where it is on the PATH, else its path as seen from here
    assert shutil.which(typed) or shutil.which(str(folder / typed)), f"{typed} cannot be run from {folder}"


@pytest.mark.slow
def test_the_demo_without_model_runtimes_says_how_to_install_them(collection: Run) -> None:
    result = collection("demo", "--out", "demo-site", runtimes=False)
    assert "onnxruntime" in result.stderr and "torch" in result.stderr
    assert INSTALL in result.stderr


@pytest.mark.slow
def test_the_demo_without_bubblewrap_still_tests_its_own_models_and_says_so(collection: Run, tmp_path: Path) -> None:
    tools = tmp_path / "bin"  # a PATH with git but no bwrap
    tools.mkdir()
    (tools / "git").symlink_to(shutil.which("git"))
    result = collection("demo", "--out", "demo-site", env={"PATH": str(tools)})
    assert result.returncode == 0, result.stderr
    assert "bubblewrap is not available here" in result.stderr and "apt-get install bubblewrap" in result.stderr
    tests = next(line for line in result.stdout.splitlines() if line.startswith("test:"))
    assert re.match(r"test: (\d+) tests \(\1 passed\)", tests), tests


def test_run_outside_a_hub_checkout_and_offline_says_why_nothing_was_built(collection: Run, dead_url: str) -> None:
    result = collection("run", *offline(dead_url))
    assert result.returncode == 1
    assert "collection_rdf_template.yaml" in result.stderr and "--repo-root" in result.stderr
    assert "stale source zenodo" in result.stderr and "connection failed" in result.stderr
    assert "nothing to build" in result.stderr
    assert result.stdout.startswith("update: 0 resources")


def test_a_hub_checkout_overrides_single_site_files_and_inherits_the_rest(collection: Run, tmp_path: Path) -> None:
    from collection_compiler.demo.world import DemoWorld

    with DemoWorld(tmp_path / "world").populate() as world:
        s = world.settings()
        own = s.repo_root / "site_templates"
        (own / "static").mkdir(parents=True)
        (own / "404.html").write_text("<p>the hub's own 404 page</p>\n", "utf-8")
        (own / "static" / "hub.css").write_text("body { color: teal }\n", "utf-8")
        flags = ["--zenodo-api", s.zenodo_api, "--github-api", s.github_api, "--github-raw", s.github_raw,
                 "--git-base", s.git_base, "--repo-root", str(s.repo_root), "--work-dir", str(tmp_path / "work")]
        assert collection("update", *flags).returncode == 0
        built = collection("build", *flags, "--out", str(tmp_path / "site"))
    assert built.returncode == 0, built.stderr
    site = tmp_path / "site"
    assert (site / "404.html").read_text("utf-8") == "<p>the hub's own 404 page</p>\n"
    assert (site / "static" / "hub.css").is_file() and (site / "static" / "site.css").is_file()
    assert "search-index.js" in (site / "index.html").read_text("utf-8")  # the package's home page


def test_the_packaged_template_is_the_hub_s() -> None:
    """The default that runs outside a hub checkout is the public hub's own template, not a drifting copy."""
    from collection_compiler.catalogue.templates import PACKAGED_TEMPLATE, TEMPLATE_FILE

    assert PACKAGED_TEMPLATE.read_bytes() == (Path(__file__).parents[2] / TEMPLATE_FILE).read_bytes()


def test_build_without_an_update_says_what_to_run_first(collection: Run) -> None:
    result = collection("build")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "collection: error: work: holds no resources.json: nothing to build "
        "(run `collection update` first, or give the work folder with --work-dir)"]


def test_a_malformed_hub_file_is_named_with_its_line_and_column(collection: Run, tmp_path: Path,
                                                                dead_url: str) -> None:
    hub = tmp_path / "hub"
    hub.mkdir()
    (hub / "collection_rdf_template.yaml").write_text("name: hub\ntags: [a, b\nconfig: {}\n", "utf-8")
    result = collection("update", "--repo-root", str(hub), *offline(dead_url))
    assert result.returncode == 1
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(f"collection: error: {hub / 'collection_rdf_template.yaml'}:3:7: invalid YAML: "), line
    assert "fix the file" in line


def test_validate_names_a_yaml_error_by_file_line_and_column(collection: Run, tmp_path: Path) -> None:
    rdf = tmp_path / "rdf.yaml"
    rdf.write_text("format_version: 0.5.4\ntype: model\nname: x\ntags: [a, b\ncite: []\n", "utf-8")
    result = collection("validate", str(rdf))
    assert result.returncode == 1
    assert (f"{rdf}:5:5: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 4, "
            "column 7)") in result.stdout
    assert "<unicode string>" not in result.stdout


def test_a_bad_template_field_is_named_with_its_file_and_field(collection: Run, tmp_path: Path) -> None:
    hub = tmp_path / "hub"
    hub.mkdir()
    (hub / "collection_rdf_template.yaml").write_text("name: hub\nconfig:\n  publication: {route: sometimes}\n")
    result = collection("deploy", "--remote", str(tmp_path / "remote.git"), "--repo-root", str(hub))
    assert result.returncode == 1
    assert result.stderr.strip() == ("collection: error: collection_rdf_template.yaml: field config.publication.route: "
                                     "'sometimes' is not automatic or review (fix the template)")


# ---- errors a person can act on --------------------------------------------------------------------------------

def test_serve_on_a_busy_port_suggests_another(collection: Run, tmp_path: Path, busy_port: int) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "collection.json").write_text("{}", "utf-8")
    result = collection("serve", str(site), "--port", str(busy_port))
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{busy_port}" in result.stderr and "try --port" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_serve_of_an_unbuilt_folder_says_how_to_build_it(collection: Run) -> None:
    result = collection("serve", "nowhere")
    assert result.returncode == 1
    assert "nowhere: holds no collection.json" in result.stderr and "collection demo --out" in result.stderr


def test_usage_errors_exit_2_with_one_line(collection: Run) -> None:
    no_remote = collection("deploy", env={"GITHUB_REPOSITORY": ""})
    assert no_remote.returncode == 2 and "give --remote URL" in no_remote.stderr
    missing = collection("validate")
    assert missing.returncode == 2 and "give a SOURCE or --work" in missing.stderr
    unknown = collection("frobnicate")
    assert unknown.returncode == 2 and "invalid choice" in unknown.stderr
    bad_setting = collection("plan", env={"COLLECTION_CONCURRENCY": "many"})
    assert bad_setting.returncode == 2
    assert "COLLECTION_CONCURRENCY: 'many' is not a valid int" in bad_setting.stderr
    no_repository = collection("review-prs", env={"GITHUB_REPOSITORY": ""})
    assert no_repository.returncode == 2 and "GITHUB_REPOSITORY is not set" in no_repository.stderr
    assert len(no_repository.stderr.strip().splitlines()) == 1


def test_an_unreachable_service_is_one_line_not_a_bug(collection: Run, dead_url: str, tmp_path: Path) -> None:
    report = tmp_path / "checks.md"
    report.write_text("all passed\n", "utf-8")
    result = collection("review-prs", "--pr-comment", str(report), "--head-sha", "a" * 40, "--github-api", dead_url,
                        "--http-retries", "0", env={"GITHUB_REPOSITORY": "owner/hub"})
    assert result.returncode == 1 and "This is a bug" not in result.stderr
    assert result.stderr.startswith("collection: error: ") and "check the network" in result.stderr


def test_verbose_adds_the_traceback_of_a_known_error(collection: Run) -> None:
    result = collection("-v", "serve", "nowhere", traceback=True)
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "holds no collection.json" in result.stderr.splitlines()[-1]


def test_a_bug_prints_its_traceback_and_asks_for_a_report(collection: Run, tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "collection.json").write_text("{}", "utf-8")
    # an unexpected exception inside a command: a bug, unlike the errors above
    bug = "import collection_compiler.stages.serve as s; s.make_server = lambda *a, **k: {}['a key the code forgot']"
    result = collection("serve", str(site), prelude=bug, traceback=True)
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "KeyError" in result.stderr
    assert "This is a bug: please report it" in result.stderr and "github.com" in result.stderr


# ---- help that helps -------------------------------------------------------------------------------------------

COMMANDS = ("update", "validate", "test", "plan", "gather", "dispatch", "check-partners", "review-prs", "build",
            "deploy", "run", "demo", "serve")


def test_each_command_help_lists_only_its_own_settings_with_defaults_and_examples(collection: Run) -> None:
    for command in COMMANDS:
        result = collection(command, "--help")
        assert result.returncode == 0, command
        assert "examples:" in result.stdout and f"collection {command}" in result.stdout, command
        assert "collection help settings" in result.stdout, command
    serve = collection("serve", "--help").stdout
    assert "--zenodo-api" not in serve and "--work-dir" not in serve and "(default: 8000)" in serve
    demo = collection("demo", "--help").stdout
    assert "--out OUT" in demo and "(default: site;" in demo and "--zenodo-api" not in demo
    validate = collection("validate", "--help").stdout
    assert "--file-check-budget" in validate and "--repo-root" not in validate


def test_every_example_in_the_help_is_a_valid_command_line() -> None:
    from collection_compiler.cli import EXAMPLES, build_parser

    for examples in EXAMPLES.values():
        for example in examples:
            words = shlex.split(example)
            assert words[0] == "collection", example
            args = build_parser([words[1]]).parse_args(words[1:])  # exits (status 2) on a wrong example
            assert args.command == words[1]


def test_help_settings_lists_every_setting_once_with_its_default_and_variable(collection: Run) -> None:
    from dataclasses import fields

    from collection_compiler.settings import Settings

    result = collection("help", "settings")
    assert result.returncode == 0
    for f in fields(Settings):
        if f.name != "github_token":
            flag = "--" + f.name.replace("_", "-")
            assert result.stdout.count(f"  {flag} ") == 1, flag
            assert f"COLLECTION_{f.name.upper()}" in result.stdout
    assert "GITHUB_TOKEN (environment only)" in result.stdout
    assert "(default: https://zenodo.org/api;" in result.stdout
    assert collection("help", "nothing").returncode == 2


def test_an_error_keeps_its_place_and_advice_across_processes() -> None:
    """Errors raised on worker processes reach the CLI pickled: they must still say where and what to do."""
    import pickle

    from collection_compiler.errors import ContentError, MissingRuntime

    content = pickle.loads(pickle.dumps(ContentError("'x' is wrong", where="t.yaml: field a", hint="fix it")))
    assert isinstance(content, ValueError) and content.line() == "t.yaml: field a: 'x' is wrong (fix it)"
    runtime = pickle.loads(pickle.dumps(MissingRuntime("torch")))
    assert runtime.module == "torch" and INSTALL in runtime.line()
