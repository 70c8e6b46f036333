"""The fast emitter writes what YAML 1.1 and 1.2 readers read back identically, and hands the rest to PyYAML."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml
from ruamel.yaml import YAML

from collection_compiler.adapters import yamlemit, yamlio

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "real-rdfs"
TRICKY = ["", " ", "a ", " a", "yes", "No", "ON", "off", "y", "N", "null", "Null", "~", "true", "FALSE", "1e-05",
          "0o17", "0x1F", "017", "1_000", "1:20", ".inf", "-.inf", ".NaN", "2020-01-01", "2001-12-14t21:59:43.10-05:00",
          "<<", "=", "-", "- a", "? a", ": a", "a: b", "a:", "a :b", "a #b", "a#b", "#a", "&a", "*a", "!a", "|a",
          ">a", "%a", "@a", "`a", "'a", '"a', "a'b", 'a"b', "[a]", "{a}", "a, b", "a\nb", "a\n", "\n", "a\tb",
          "a\\b", "a\\nb", "\u00e9t\u00e9", "\U0001f988", "\u00a0a", "a\u00a0", "https://x.org/a?b=c&d=e#f",
          "C:\\path", "a  b", "---", "...", "--- a", "a\r\nb", "\x7f", "\x00", "\u2028", "\u0085", "\ufeff",
          "\ud7ff", "x" * 5000]


def _readers() -> list:
    ruamel = YAML(typ="safe", pure=True)
    ruamel.version = (1, 2)
    return [("ours", lambda t: yamlio.load_yaml_bytes(t.encode())), ("pyyaml 1.1", yaml.safe_load),
            ("ruamel 1.2", ruamel.load)]


def _assert_round_trip(value: object) -> None:
    text = yamlio.dump_yaml(value)
    for name, read in _readers():
        assert read(text) == value, f"{name} read back something else from:\n{text}"


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_strings_as_values_keys_and_list_items(text: str):
    _assert_round_trip({"value": text, "list": [text, [text]], "nested": {"k": text}})
    if len(text) <= yamlemit.MAX_KEY_LENGTH:
        _assert_round_trip({text: 1})


def test_numbers_booleans_nulls_and_empty_containers():
    _assert_round_trip({"f": [1e-05, 1.5, -0.0, 1e16, 3.0, float("inf"), float("-inf"), 1e300, 2.5e-300],
                        "i": [0, -7, 2**64 - 1, -(2**63)], "b": [True, False], "n": None,
                        "e": [{}, [], {"a": {}}, {"a": []}],
                        "deep": [[[1, 2], [3]], [{"a": [{"b": [[]]}]}]]})
    assert yamlio.load_yaml_bytes(yamlemit.dump({"x": float("nan")}).encode())["x"] != 0  # nan is never equal


def test_random_documents_round_trip():
    rng = random.Random(7)
    alphabet = "ab:# -'\"\\\n\t.,?[]{}&*!|>%@`~=01eE+\u00e9\U0001f988"

    def value(depth: int) -> object:
        kind = rng.randrange(7 if depth < 4 else 4)
        if kind == 0:
            return "".join(rng.choice(alphabet) for _ in range(rng.randrange(8)))
        if kind == 1:
            return rng.choice([rng.randrange(-99, 99), rng.uniform(-1e6, 1e6), True, None, 1e-7])
        if kind in (2, 3):
            return rng.choice(TRICKY[:60])
        if kind == 4:
            return [value(depth + 1) for _ in range(rng.randrange(4))]
        return {str(value(depth + 1)): value(depth + 1) for _ in range(rng.randrange(4))}

    for _ in range(400):
        _assert_round_trip({"doc": value(0)})


def test_every_real_rdf_round_trips_through_the_fast_path():
    paths = sorted(FIXTURES.glob("**/*.yaml"))
    assert paths, f"no fixtures under {FIXTURES}"
    for path in paths:
        data = yamlio.normalise(yamlio.load_yaml_file(path))
        text = yamlemit.dump(data)  # real RDFs need no fallback
        assert yamlio.load_yaml_bytes(text.encode()) == data and yaml.safe_load(text) == data, path


@pytest.mark.parametrize("value", [{"k": b"bytes"}, {"k": (1, 2)}, {1: "int key"}, {"k" * 200: 1}, "top scalar",
                                   {"k": "\u2028"}, {"k": "\x00"}])
def test_what_the_fast_path_does_not_take_goes_to_pyyaml(value: object):
    with pytest.raises(yamlemit.Unsupported):
        yamlemit.dump(value)
    assert yamlio.dump_yaml(value)  # the general dumper still writes it
