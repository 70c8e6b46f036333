"""Settings, ids, nicknames, fingerprints and safe YAML."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from collection_compiler import settings
from collection_compiler.adapters import yamlio
from collection_compiler.adapters.files import id_path, json_bytes, sha256_bytes, sha256_file
from collection_compiler.catalogue import ids, nicknames
from collection_compiler.sources import zenodo
from collection_compiler.sources.candidates import fingerprint


def test_environment_and_flags_override_defaults():
    env = {"COLLECTION_ZENODO_API": "http://127.0.0.1:9/api/", "GITHUB_TOKEN": "t0k", "COLLECTION_CONCURRENCY": "3"}
    s = settings.from_environment(env)
    assert s.zenodo_api == "http://127.0.0.1:9/api" and s.github_token == "t0k" and s.concurrency == 3
    assert s.github_api == "https://api.github.com" and "t0k" not in repr(s)
    parser = __import__("argparse").ArgumentParser()
    settings.add_arguments(parser)
    args = parser.parse_args(["--zenodo-api", "http://x/api", "--work-dir", "w"])
    s = settings.from_args(args, env)
    assert s.zenodo_api == "http://x/api" and s.work_dir == Path("w") and s.concurrency == 3


def test_clone_urls_for_remote_and_local_git_bases(tmp_path: Path):
    assert settings.Settings().clone_url("ilastik/r") == "https://github.com/ilastik/r.git"
    (tmp_path / "ilastik" / "r.git").mkdir(parents=True)
    for base in (str(tmp_path), f"file://{tmp_path}"):
        assert settings.Settings(git_base=base).clone_url("ilastik/r") == str(tmp_path / "ilastik" / "r.git")


@pytest.mark.parametrize("bad", ["", "..", "a/../b", "/abs", "a\\b", "a//b", "a/", ".hidden", "a b", 7, None,
                                 "x" * 300])
def test_unsafe_ids_are_refused(bad):
    with pytest.raises(ids.UnsafeIdError):
        ids.check_path_id(bad)


def test_safe_ids_become_paths_below_the_root(tmp_path: Path):
    assert id_path(tmp_path, "10.5281/zenodo.123", "456") == tmp_path / "10.5281/zenodo.123/456"
    assert ids.is_safe_id("fiji/N2VSEMDemo")
    with pytest.raises(ids.UnsafeIdError):
        id_path(tmp_path, "a/../../etc")


def test_the_work_folder_keeps_a_materialised_rdf_as_one_file_per_version_from_checked_ids(tmp_path: Path):
    from collection_compiler.layout import WorkDir

    work = WorkDir(tmp_path)
    assert work.rdf("10.5281/zenodo.123", "456") == tmp_path / "rdfs/10.5281/zenodo.123/456.yaml"
    assert work.rdf("fiji/model", "1.0") == tmp_path / "rdfs/fiji/model/1.0.yaml"  # the version's dot is kept
    for rid, vid in (("a/../../etc", "1"), ("a", ".."), ("a", "b/c/../../..")):
        with pytest.raises(ids.UnsafeIdError):
            work.rdf(rid, vid)


@pytest.mark.parametrize("data, message", [
    (b"\xff\xfe bad", "not UTF-8"),
    (b"a: 1\na: 2\n", "duplicate key"),
    (b"a: &x [1]\n" + b"".join(b"b%d: [*x, *x]\n" % i for i in range(60)), "aliases"),
    (b"a: " + b"[" * 200 + b"]" * 200 + b"\n", "nested"),
    (b"a: [unclosed\n", "invalid YAML"),
    (b"created: 2020-13-45\n", "month must be in 1..12"),
    (b"x" * 3_000_000, "more than the limit"),
])
def test_hostile_yaml_is_refused_with_a_clear_message(data: bytes, message: str):
    with pytest.raises(yamlio.YamlLoadError, match=message):
        yamlio.load_yaml_bytes(data, "rdf.yaml")


def test_yaml_is_read_as_yaml_1_2_and_written_back_unchanged():
    data = yamlio.load_yaml_bytes(b"a: 1e-05\nb: yes\nc: on\nd: 017\ne: .inf\n")
    assert data == {"a": 1e-05, "b": "yes", "c": "on", "d": 17, "e": float("inf")}
    tricky = {"s": ["1e-05", "yes", "0o17", "2020-01-01", ".inf", "null"], "n": [1.5, 10, None, True]}
    assert yamlio.load_yaml_bytes(yamlio.dump_yaml(tricky).encode()) == tricky


def test_nicknames_are_unique_and_stable():
    given = nicknames.assign([f"r{i}" for i in range(3000)], {})
    names = [n for n, _ in given.values()]
    assert len(set(names)) == 3000
    assert all(nicknames.is_known(n, icon) for n, icon in given.values())
    again = nicknames.assign([f"r{i}" for i in reversed(range(3000))], {})
    assert again == given  # the order the ids come in does not matter
    kept = nicknames.assign(["r5", "new"], {"r5": ("wise-owl", "🦉")})
    assert "r5" not in kept and kept["new"][0] != "wise-owl"


def test_file_references_are_made_absolute_in_every_form():
    from collection_compiler.catalogue.rdf import absolutise

    root = "https://zenodo.org/api/records/1/files/rdf.yaml/content"
    rdf = {"type": "model", "documentation": {"source": "README.md", "sha256": "s"}, "covers": ["c.png"],
           "icon": "🦈", "attachments": [{"source": "a.txt"}], "test_inputs": ["in.npy"],
           "weights": {"pytorch_state_dict": {"source": "w.pt", "architecture": {"source": "net.py", "callable": "N"}},
                       "torchscript": {"source": "https://elsewhere.org/ts.pt"}},
           "inputs": [{"test_tensor": {"source": "in.npy"}}]}
    out = absolutise(rdf, root)
    url = "https://zenodo.org/api/records/1/files/{}/content".format
    assert out["documentation"] == {"source": url("README.md"), "sha256": "s"}
    assert out["covers"] == [url("c.png")] and out["icon"] == "🦈"
    assert out["attachments"] == [{"source": url("a.txt")}] and out["test_inputs"] == [url("in.npy")]
    assert out["weights"]["pytorch_state_dict"]["architecture"]["source"] == url("net.py")
    assert out["weights"]["torchscript"]["source"] == "https://elsewhere.org/ts.pt"
    assert out["inputs"][0]["test_tensor"]["source"] == url("in.npy")
    assert rdf["covers"] == ["c.png"]  # the input is not changed


@pytest.mark.parametrize("broken", [{"metadata": ["not", "a", "mapping"]}, {"metadata": {"keywords": "bioimage.io"}},
                                    {"stats": [1, 2]}, {"files": {"rdf.yaml": "x"}}])
def test_a_malformed_zenodo_hit_is_a_reason_or_a_candidate_never_a_crash(broken: dict):
    hit = {"id": 11, "conceptrecid": "10", "created": "2024-01-01", "metadata": {"keywords": ["bioimage.io"]},
           "files": [{"key": "model.bioimageio.yaml", "size": 3, "checksum": "md5:0"},
                     {"key": "../evil.bioimageio.yaml"}, {"key": "a.bioimageio.yaml"}],
           "stats": {"unique_downloads": 4}, **broken}
    config = zenodo.ZenodoConfig()
    result = zenodo.candidate_from_hit(hit, settings.Settings(), config)
    if "files" in broken:
        assert isinstance(result, str) and "no rdf.yaml" in result
    else:
        assert result.version_id == "11" and result.root_url.endswith("/records/11/files/a.bioimageio.yaml/content")
        assert result.download_count == (None if "stats" in broken else 4)


def test_json_output_is_the_standard_librarys_layout_and_takes_what_orjson_refuses():
    value = {"b": [1, {"z": None, "a": "ü"}], "a": {}, "c": [], "d": True}
    expected = json.dumps(value, sort_keys=True, ensure_ascii=False, indent=2) + "\n"
    assert json_bytes(value).decode() == expected
    assert json_bytes(value, indent=None).decode() == json.dumps(value, sort_keys=True, ensure_ascii=False,
                                                                 separators=(",", ":")) + "\n"
    # orjson refuses integers beyond 64 bits and keys that are not strings; the standard library takes them
    assert json.loads(json_bytes({"n": 10**30})) == {"n": 10**30}
    assert json.loads(json_bytes({2: "b", 1: "a"})) == {"1": "a", "2": "b"}
    assert yamlio.json_safe({"n": 10**30, "m": -(2**63), "x": float("nan")}) == {"n": str(10**30), "m": -(2**63),
                                                                                 "x": "nan"}


def test_a_fingerprint_of_strings_digests_them_as_text_so_earlier_keys_still_match():
    parts = ("f067ebd796abe68ad1ae6cea8ad075d2", "1002", "accepted", "grateful-squid", "\U0001f991", "")
    assert fingerprint(*parts) == hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    assert fingerprint("a", "b") != fingerprint("a", "c")


def test_the_one_digest_reads_text_as_utf8_and_a_file_as_its_bytes(tmp_path: Path):
    empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"  # sha256 of nothing
    assert sha256_bytes(b"") == sha256_bytes("") == empty
    assert sha256_bytes("µ") == sha256_bytes("µ".encode()) != sha256_bytes("µ".encode("latin-1"))
    big = bytes(range(256)) * 10_000  # more than one read
    (tmp_path / "f").write_bytes(big)
    assert sha256_file(tmp_path / "f") == sha256_bytes(big)
