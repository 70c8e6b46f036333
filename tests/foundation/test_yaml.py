"""The one YAML adapter: YAML 1.2 core-schema values, the limits on untrusted documents, errors that name the file
and position, and a dumper whose output every YAML 1.1 and 1.2 reader reads back identically."""

from __future__ import annotations

import math
import random
from pathlib import Path

import pytest
import yaml
from ruamel.yaml import YAML

from collection_compiler.adapters import yamlio

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "real-rdfs"


def load(text: str) -> object:
    return yamlio.load_yaml_bytes(text.encode(), "doc.yaml")


def ruamel_1_2() -> YAML:
    reference = YAML(typ="safe", pure=True)  # the pure parser: the only one of ruamel's that reads all of 1.2
    reference.version = (1, 2)
    return reference


def same(a: object, b: object) -> bool:
    """Equal, with nan equal to nan and types compared (True is not 1)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)  # type: ignore[index]
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))  # type: ignore[arg-type]
    return a == b


# ---- loading: the YAML 1.2 core schema ----------------------------------------------------------------------

CORE_VALUES = [
    ("", None), ("~", None), ("null", None), ("NULL", None), ("nULL", "nULL"), ("true", True), ("TRUE", True),
    ("tRUE", "tRUE"), ("False", False), ("yes", "yes"), ("no", "no"), ("on", "on"), ("off", "off"), ("y", "y"),
    ("0", 0), ("-0", 0), ("+7", 7), ("017", 17), ("0o17", 15), ("0o8", "0o8"), ("0x1F", 31), ("0X1F", "0X1F"),
    ("-0x1", "-0x1"), ("1_000", "1_000"), ("1:20", "1:20"), ("1e5", 1e5), ("1e-05", 1e-05), ("1.", 1.0),
    (".5", 0.5), ("+.5", 0.5), ("-1.5E+3", -1500.0), (".inf", math.inf), ("-.inf", -math.inf),
    ("+.INF", math.inf), (".NaN", math.nan), ("nan", "nan"), ("inf", "inf"), ("12:30", "12:30"),
    ("'1'", "1"), ('"true"', "true"), ("<<", "<<"), ("=", "="), ("a:b", "a:b"), ("http://x/y#z", "http://x/y#z"),
    (str(2**64 - 1), 2**64 - 1), (str(-(2**63)), -(2**63)),
]


@pytest.mark.parametrize(("scalar", "expected"), CORE_VALUES)
def test_plain_scalars_resolve_as_in_the_yaml_1_2_core_schema(scalar: str, expected: object):
    assert same(load(f"k: {scalar}\n")["k"], expected)  # type: ignore[index]
    assert same(load(f"- {scalar}\n- x\n")[0], expected)  # type: ignore[index]


def test_the_loader_reads_what_ruamel_reads_as_yaml_1_2():
    # Not compared: `<<` and `=` (ruamel refuses them as merge and value tags), `1_000` and `-0x1` (ruamel reads
    # them as YAML 1.1 integers; in the core schema they are strings, as CORE_VALUES checks).
    tricky = "".join(f"k{i}: {scalar}\n" for i, (scalar, _) in enumerate(CORE_VALUES)
                     if scalar not in ("<<", "=", "1_000", "-0x1"))
    documents = [p.read_text("utf-8") for p in sorted(FIXTURES.glob("**/*.yaml"))] + [tricky]
    assert len(documents) > 10
    for text in documents:
        assert same(yamlio.normalise(load(text)), yamlio.normalise(ruamel_1_2().load(text))), text[:200]


def test_dates_timestamps_and_yaml_1_2_syntax():
    assert yamlio.normalise(load("a: 2020-01-01\nb: 2001-12-14t21:59:43.10-05:00\n")) == {
        "a": "2020-01-01", "b": "2001-12-14T21:59:43.100000-05:00"}
    assert load("cite: [{text: a, url: https://x.org}]\n") == {"cite": [{"text": "a", "url": "https://x.org"}]}
    assert load("%YAML 1.2\n---\na: 1\n") == {"a": 1}
    assert load("") is None and load("# only a comment\n") is None


# ---- loading: limits and errors ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "problem"), [
    ("a: 1\na: 2\n", "duplicate key 'a'"),
    ("? [a]\n: 1\n", "a mapping key must be a scalar"),
    ("a: 99999999999999999999999\n", "field a: integer of 23 characters is out of range"),
    ("a: !!binary aGk=\n", "field a: tag !!binary is not allowed (core schema only)"),
    ("a: !!set {x: null}\n", "tag !!set is not allowed"),
    ("a: 2020-13-45\n", "invalid YAML"),
    ("a: [" * 70 + "]" * 70 + "\n", "nested deeper than 64 levels"),
    ("a: &x [1]\n" + "".join(f"b{i}: *x\n" for i in range(101)), "more than 100 YAML aliases"),
    ("a: 1\n---\nb: 2\n", "invalid YAML: but found another document"),
])
def test_what_the_loader_refuses_is_named(text: str, problem: str):
    with pytest.raises(yamlio.YamlLoadError, match="^doc.yaml") as caught:
        load(text)
    assert problem in str(caught.value)


def test_syntax_errors_name_file_line_and_column():
    with pytest.raises(yamlio.YamlLoadError) as caught:
        load("name: x\nlist: [a, b\nnext: 1\n")
    message = str(caught.value)
    assert message.startswith("doc.yaml:3:5: invalid YAML: "), message
    assert "(while parsing a flow sequence at line 2, column 7)" in message


def test_size_and_encoding_limits():
    with pytest.raises(yamlio.YamlLoadError, match="more than the limit of 10"):
        yamlio.load_yaml_bytes(b"a: 12345678901\n", "doc.yaml", max_bytes=10)
    with pytest.raises(yamlio.YamlLoadError, match="not UTF-8"):
        yamlio.load_yaml_bytes(b"a: \xff\n", "doc.yaml")
    assert yamlio.load_yaml_bytes("\ufeffa: é\n".encode()) == {"a": "é"}
    with pytest.raises(yamlio.YamlLoadError, match="top level must be a mapping, not a list"):
        yamlio.load_mapping(b"- a\n", "doc.yaml")


def test_a_few_aliases_are_allowed_and_expanded():
    assert load("a: &x [1, 2]\nb: *x\n") == {"a": [1, 2], "b": [1, 2]}


# ---- dumping ------------------------------------------------------------------------------------------------

TRICKY = ["", " ", "a ", " a", "yes", "No", "ON", "off", "y", "N", "null", "Null", "~", "true", "FALSE", "1e-05",
          "0o17", "0x1F", "017", "1_000", "1:20", ".inf", "-.inf", ".NaN", "2020-01-01", "2001-12-14t21:59:43.10-05:00",
          "<<", "=", "-", "- a", "? a", ": a", "a: b", "a:", "a :b", "a #b", "a#b", "#a", "&a", "*a", "!a", "|a",
          ">a", "%a", "@a", "`a", "'a", '"a', "a'b", 'a"b', "[a]", "{a}", "a, b", "a\nb", "a\n", "\n", "a\tb",
          "a\\b", "a\\nb", "\u00e9t\u00e9", "\U0001f988", "\u00a0a", "a\u00a0", "https://x.org/a?b=c&d=e#f",
          "C:\\path", "a  b", "---", "...", "--- a", "a\r\nb", "\x7f", "\x00", "\u2028", "\u0085", "\ufeff",
          "\ud7ff", "x" * 5000, "x " * 3000, "k" * 128, "k" * 129]


def _assert_round_trip(value: object) -> None:
    text = yamlio.dump_yaml(value)
    for name, read in [("ours", load), ("pyyaml 1.1", yaml.safe_load), ("ruamel 1.2", ruamel_1_2().load)]:
        assert read(text) == value, f"{name} read back something else from:\n{text}"


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_strings_as_values_keys_and_list_items(text: str):
    _assert_round_trip({"value": text, "list": [text, [text]], "nested": {"k": text}, text: 1})


def test_numbers_booleans_nulls_and_empty_containers():
    _assert_round_trip({"f": [1e-05, 1.5, -0.0, 1e16, 3.0, float("inf"), float("-inf"), 1e300, 2.5e-300],
                        "i": [0, -7, 2**64 - 1, -(2**63)], "b": [True, False], "n": None,
                        "e": [{}, [], {"a": {}}, {"a": []}],
                        "deep": [[[1, 2], [3]], [{"a": [{"b": [[]]}]}]]})
    assert math.isnan(load(yamlio.dump_yaml({"x": float("nan")}))["x"])  # type: ignore[index]


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


def test_the_published_style():
    """The bytes are content-addressed (results are keyed by the RDF's sha256): these are the styles published
    since the first deploy, and changing any of them changes every version's key."""
    document = {"name": "Tiny model", "doi": "10.5281/zenodo.1", "icon": "🦈", "status": "yes", "url": "https://x.org/a",
                "e": "", "multi": "a\nb é", "it's": "it's", "n": 1e-05, "z": [{"b": 1, "a": [1, [2]]}, {}, []],
                "colon": "a: b", "accent": "é", 2: "int key", 10: "sorted as text"}
    assert yamlio.dump_yaml(document) == (
        "10: sorted as text\n2: int key\naccent: 'é'\ncolon: 'a: b'\ndoi: '10.5281/zenodo.1'\n"
        "e: ''\nicon: '🦈'\nit's: it's\nmulti: \"a\\nb é\"\n'n': 1.0e-05\nname: Tiny model\n"
        "status: 'yes'\nurl: https://x.org/a\nz:\n- a:\n  - 1\n  - - 2\n  b: 1\n- {}\n- []\n")
    # In double quotes, PyYAML's emitter escapes characters beyond U+FFFF (the hand-written emitter before it
    # wrote them raw): only strings holding a line break or tab as well as such a character are written so.
    assert yamlio.dump_yaml({"m": "a\n🦈"}) == 'm: "a\\n\\U0001F988"\n'


def test_every_real_rdf_round_trips():
    paths = sorted(FIXTURES.glob("**/*.yaml"))
    assert paths, f"no fixtures under {FIXTURES}"
    for path in paths:
        data = yamlio.normalise(yamlio.load_yaml_file(path))
        text = yamlio.dump_yaml(data)
        assert load(text) == data and yaml.safe_load(text) == data, path
        assert yamlio.dump_yaml(load(text)) == text, path


def test_other_types_are_still_written():
    assert yamlio.dump_yaml("top scalar") == "top scalar\n...\n"
    assert yaml.safe_load(yamlio.dump_yaml({"k": (1, 2)})) == {"k": [1, 2]}


def test_libyaml_writes_what_the_python_emitter_writes():
    """The fast path (libyaml, characters beyond U+FFFF as private-use stand-ins) gives the Python emitter's bytes
    wherever it is taken, and is taken for a model RDF with its emoji icon."""
    python_emitter = {"sort_keys": False, "allow_unicode": True, "default_flow_style": False,
                      "width": yamlio.NEVER_WRAP}
    rng = random.Random(11)
    alphabet = [chr(c) for c in [*range(0x20, 0x7f), 0x9, 0xa, 0x85, 0xa0, 0xe9, 0x2028, 0xfeff, 0xfffd, 0xe000,
                                 0x1f988, 0x1f42f, 0x10000]]

    def text(n: int = 10) -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, n)))

    taken = 0
    for _ in range(3000):
        doc = {text(): text(), "list": [text(), {"x": text(), text(70): "\U0001f988"}], "icon": text(3)}
        fast = yamlio._dump_with_libyaml(doc)
        if fast is not None:
            taken += 1
            assert fast == yaml.dump(doc, Dumper=yamlio._Dumper, **python_emitter), doc
    assert taken > 300
    rdf = {"config": {"bioimageio": {"nickname": "affable-shark", "nickname_icon": "\U0001f988"}}, "name": "A"}
    assert yamlio._dump_with_libyaml(rdf) == "config:\n  bioimageio:\n    nickname: affable-shark\n" \
        "    nickname_icon: '\U0001f988'\nname: A\n"


def test_json_with_escaped_emoji_is_read_as_json_under_the_same_rules():
    """libyaml refuses JSON's surrogate-pair escapes (`json.dumps` writes an emoji so); such a document is JSON."""
    import json

    assert yamlio.load_yaml_bytes(json.dumps({"icon": "\U0001f988", "n": 1}).encode(), "rdf.json") == \
        {"icon": "\U0001f988", "n": 1}
    with pytest.raises(yamlio.YamlLoadError, match="duplicate key 'a'"):
        yamlio.load_yaml_bytes(b'{"a": "\\ud83e\\udd88", "a": 2}', "rdf.json")
    with pytest.raises(yamlio.YamlLoadError, match="out of range"):
        yamlio.load_yaml_bytes(json.dumps({"i": "\U0001f988", "n": 10**30}).encode(), "rdf.json")
    with pytest.raises(yamlio.YamlLoadError, match="rdf.json:1:.*invalid YAML"):
        yamlio.load_yaml_bytes(b'{"i": "\\ud83e\\udd88", "n": NaN}', "rdf.json")
