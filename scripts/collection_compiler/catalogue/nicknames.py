"""Model nicknames (`adjective-animal`) and their emoji: derived deterministically, unique, kept forever."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping
from importlib import resources

from collection_compiler.adapters import yamlio
from collection_compiler.catalogue.records import Nickname


@functools.cache
def vocabulary() -> tuple[tuple[str, ...], dict[str, str]]:
    data = resources.files("collection_compiler").joinpath("data")
    adjectives = tuple(w.strip() for w in data.joinpath("adjectives.txt").read_text("utf-8").splitlines() if w.strip())
    animals = yamlio.load_yaml_bytes(data.joinpath("animals.yaml").read_bytes(), "animals.yaml")
    return adjectives, {str(k): str(v) for k, v in animals.items()}


def is_known(nickname: str, icon: str | None = None) -> bool:
    adjectives, animals = vocabulary()
    adjective, _, animal = nickname.partition("-")
    return adjective in adjectives and animal in animals and (icon is None or animals[animal] == one_code_point(icon))


# U+FE0F (emoji presentation) makes some animals two code points; the 0.4/0.2 formats copy the icon into
# `id_emoji`, which allows one.
_VARIATION_SELECTOR = "\ufe0f"


def one_code_point(icon: str) -> str:
    """The icon without its emoji-presentation selector (icons recorded before the vocabulary dropped it)."""
    return icon.replace(_VARIATION_SELECTOR, "")


def icon_of(nickname: str) -> str | None:
    return vocabulary()[1].get(nickname.partition("-")[2])


def derive(resource_id: str, taken: set[str]) -> Nickname:
    """The first free candidate of a sequence seeded by the resource id: same id and same `taken`, same name.

    Candidates come from sha256(id:attempt); after every combination is taken, a numeric suffix is added.
    """
    adjectives, animals = vocabulary()
    animal_names = sorted(animals)
    combinations = len(adjectives) * len(animal_names)
    for attempt in range(combinations * 2):
        digest = int.from_bytes(hashlib.sha256(f"{resource_id}:{attempt}".encode()).digest()[:8], "big")
        adjective = adjectives[digest % len(adjectives)]
        animal = animal_names[(digest // len(adjectives)) % len(animal_names)]
        name = f"{adjective}-{animal}"
        if attempt >= combinations:
            name = f"{name}-{attempt - combinations + 2}"
        if name not in taken:
            return Nickname(name, animals[animal])
    raise RuntimeError("no free nickname")  # unreachable: the suffixed names never run out


def assign(resource_ids: Iterable[str], existing: Mapping[str, tuple[str, str]]) -> dict[str, Nickname]:
    """Derived nicknames for `resource_ids` that have none in `existing`; ids are served in sorted order."""
    taken = {nick for nick, _ in existing.values()}
    assigned: dict[str, Nickname] = {}
    for rid in sorted(set(resource_ids) - set(existing)):
        assigned[rid] = derive(rid, taken)
        taken.add(assigned[rid].name)
    return assigned


def choose(models: Iterable[str], proposed: Mapping[str, object], given: Mapping[str, tuple[str, str]]
           ) -> dict[str, Nickname]:
    """The nickname of each model resource in `models`: the one `given` before (the ledger's, or an earlier run's:
    a nickname is kept forever), else the one its newest RDF `proposed` when that is a known and free name, else a
    derived one. Ids are served in sorted order, so the same inputs give the same names."""
    taken = {name for name, _ in given.values()}
    ordered = sorted(models)
    chosen = {rid: Nickname(*given[rid]) for rid in ordered if rid in given}
    for rid in ordered:
        wish = proposed.get(rid)
        if rid not in chosen and isinstance(wish, str) and is_known(wish) and wish not in taken:
            chosen[rid] = Nickname(wish, icon_of(wish) or "")
            taken.add(wish)
    chosen.update(assign([rid for rid in ordered if rid not in chosen], {**given, **chosen}))
    return chosen
