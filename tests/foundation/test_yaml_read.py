"""The fast event reader reads what the full YAML 1.2 loader reads, and leaves everything else to it."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest
import yaml

from collection_compiler.adapters import yamlio, yamlread

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "real-rdfs"
SCALARS = ["", "~", "null", "Null", "NULL", "nULL", "true", "True", "TRUE", "tRUE", "false", "FALSE", "yes", "no",
           "on", "off", "y", "0", "-0", "+7", "017", "0o17", "0o8", "0x1F", "0X1F", "-0x1", "1_000", "1:20", "1e5",
           "1e-05", "1.", ".5", "+.5", "-1.5E+3", ".inf", "-.inf", "+.INF", ".NaN", ".nan", "nan", "inf",
           "2020-01-01", "2020-1-1 1:02:03", "2001-12-14t21:59:43.10-05:00", "2001-12-14T21:59:43Z",
           "2020-13-45", "12:30", "a b", "'q'", '"q"', "'1'", '"true"', "<<", "=", "é", "🦈", "-", "a:b",
           "http://x/y#z", "|\n  block\n  text\n", ">\n  folded\n  text\n", "|-\n  kept\n"]


def full_loader(text: str):
    return yaml.load(text, Loader=yamlio._Loader)  # noqa: S506 - the project's SafeLoader subclass


def same(a, b) -> bool:
    """Equal, with nan equal to nan and types compared (True is not 1)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@pytest.mark.parametrize("scalar", SCALARS)
def test_every_scalar_resolves_as_the_full_loader_does(scalar: str):
    for text in (f"k: {scalar}\n", f"- {scalar}\n", f"{{k: [{scalar}]}}\n" if "\n" not in scalar else "k: 1\n"):
        try:
            expected = full_loader(text)
        except (yaml.YAMLError, ValueError):  # e.g. a timestamp with month 13
            with pytest.raises(yamlread.Unsupported):
                yamlread.load(text, 64)
            continue
        assert same(yamlread.load(text, 64), expected), text


@pytest.mark.parametrize("text", [
    "a: &x 1\nb: *x\n", "a: !!str 1\n", "a: !custom 1\n", "<<: {a: 1}\n", "a: 1\na: 2\n", "? [a]\n: 1\n",
    "a: 1\n---\nb: 2\n", "a: [unclosed\n", "a: " + "[" * 70 + "]" * 70 + "\n", "x" * 70_000,
])
def test_what_it_does_not_take_is_left_to_the_full_loader(text: str):
    with pytest.raises(yamlread.Unsupported):
        yamlread.load(text, 64)


def test_documents_in_every_style_read_identically():
    docs = ["", "# only a comment\n", "a:\n", "a: 1 # comment\nb: 'x' # more\n", "- a\n- [b, {c: d}]\n",
            "{a: 1, b: [x, y], 'c d': \"e\\tf\"}\n", "k:\n  - 1\n  - - 2\n    - 3\n", "? a\n: b\n",
            "a: |\n  line one\n  line two\n\nb: >-\n  folded\n  more\n", "1: one\n2.5: two\nnull: three\nfalse: x\n",
            "a: \"\\u00e9\\x41\\n\"\n", "%YAML 1.1\n---\na: 1\n", "--- \na: 1\n...\n"]
    for text in docs:
        assert same(yamlread.load(text, 64), full_loader(text)), text


def test_generated_documents_read_identically():
    rng = random.Random(11)

    def value(depth: int):
        kind = rng.randrange(6 if depth < 4 else 3)
        if kind < 3:
            return rng.choice(SCALARS[:-3])
        if kind == 3:
            return [value(depth + 1) for _ in range(rng.randrange(4))]
        return {f"k{i}": value(depth + 1) for i in range(rng.randrange(4))}

    for _ in range(300):
        data = {"doc": value(0)}
        for text in (yaml.safe_dump(data, default_flow_style=None), yaml.safe_dump(data, default_flow_style=True),
                     yamlio.dump_yaml(data)):
            assert same(yamlread.load(text, 64), full_loader(text)), text


def test_every_real_rdf_reads_identically_on_the_fast_path():
    paths = sorted(FIXTURES.glob("**/*.yaml"))
    assert paths
    for path in paths:
        text = path.read_text("utf-8")
        assert same(yamlread.load(text, 64), full_loader(text)), path
