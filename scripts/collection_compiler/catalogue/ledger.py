"""The ledger `collection/<resource_id>/resource.yaml`: the reviewed status of each resource and version.

    id: 10.5281/zenodo.5764892
    status: accepted            # accepted | pending | blocked
    nickname: affable-shark     # models only; kept forever once given
    nickname_icon: 🦈
    versions:
      - {version_id: '6647674', status: accepted}
      - {version_id: '6322939', status: blocked, reason: wrong test outputs}

A blocked resource or version is never published. Changes the compiler proposes (new resources, new
versions, new nicknames) go to `work/ledger/` (only when they differ from the previous run's proposal) and
reach the repository through a review pull request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collection_compiler.adapters import yamlio
from collection_compiler.catalogue import ids

STATUSES = ("accepted", "pending", "blocked")


class LedgerError(ValueError):
    pass


@dataclass
class LedgerEntry:
    id: str
    status: str = "pending"
    nickname: str | None = None
    nickname_icon: str | None = None
    versions: dict[str, dict[str, Any]] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def version_status(self, version_id: str) -> str | None:
        version = self.versions.get(version_id)
        return version.get("status") if version else None

    def is_blocked(self, version_id: str) -> bool:
        return self.status == "blocked" or self.version_status(version_id) == "blocked"

    def to_yaml(self) -> dict[str, Any]:
        data: dict[str, Any] = {**self.extra, "id": self.id, "status": self.status}
        if self.nickname:
            data["nickname"] = self.nickname
            data["nickname_icon"] = self.nickname_icon
        data["versions"] = [self.versions[v] for v in self.versions]
        return data


def _parse(data: Any, path: Path) -> LedgerEntry:
    if not isinstance(data, dict):
        raise LedgerError(f"{path}: the top level must be a mapping")
    rid = ids.check_path_id(data.get("id"), f"{path}: field id")
    status = data.get("status", "pending")
    if status not in STATUSES:
        raise LedgerError(f"{path}: field status: {status!r} is not one of {', '.join(STATUSES)}")
    versions: dict[str, dict[str, Any]] = {}
    for index, version in enumerate(data.get("versions") or []):
        if not isinstance(version, dict) or version.get("status", "pending") not in STATUSES:
            raise LedgerError(f"{path}: field versions.{index}: needs version_id and a status in {STATUSES}")
        vid = ids.check_path_id(str(version.get("version_id")), f"{path}: field versions.{index}.version_id")
        versions[vid] = {**version, "version_id": vid, "status": version.get("status", "pending")}
    for key in ("nickname", "nickname_icon"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise LedgerError(f"{path}: field {key}: must be text, not {type(data[key]).__name__}")
    known = {"id", "status", "nickname", "nickname_icon", "versions"}
    return LedgerEntry(rid, status, data.get("nickname"), data.get("nickname_icon"), versions,
                       {k: v for k, v in data.items() if k not in known})


class Ledger:
    def __init__(self, entries: dict[str, LedgerEntry], errors: list[str]):
        self.entries = entries
        self.errors = errors

    @classmethod
    def load(cls, repo_root: Path) -> Ledger:
        root = repo_root / "collection"
        entries: dict[str, LedgerEntry] = {}
        errors: list[str] = []
        for path in sorted(root.glob("**/resource.yaml")):
            try:
                entry = _parse(yamlio.load_yaml_file(path), path)
                expected = path.parent.relative_to(root).as_posix()
                if entry.id != expected:
                    raise LedgerError(f"{path}: field id: {entry.id!r} does not match its folder {expected!r}")
            except (LedgerError, ids.UnsafeIdError, yamlio.YamlLoadError) as e:
                errors.append(str(e))
                continue
            entries[entry.id] = entry
        return cls(entries, errors)

    def get(self, rid: str) -> LedgerEntry | None:
        return self.entries.get(rid)

    def status_of(self, rid: str, vid: str, from_partner: bool) -> str | None:
        """A version's status: the ledger's, None when blocked; a version the ledger does not know is pending
        (a Zenodo upload waits for review) or accepted (a partner reviews its own entries)."""
        entry = self.entries.get(rid)
        if entry and entry.is_blocked(vid):
            return None
        known = entry.version_status(vid) if entry else None
        return known or ("accepted" if from_partner else "pending")

    def nicknames(self) -> dict[str, tuple[str, str]]:
        return {rid: (e.nickname, e.nickname_icon or "") for rid, e in self.entries.items() if e.nickname}


def proposal(current: LedgerEntry | None, rid: str, new_versions: list[dict[str, Any]],
             nickname: tuple[str, str] | None) -> str:
    """The proposed `collection/<rid>/resource.yaml`: the ledger entry with the new versions added (newest first)
    and, for a model without one, its nickname."""
    entry = current or LedgerEntry(rid, "accepted")
    proposal = LedgerEntry(entry.id, entry.status, entry.nickname, entry.nickname_icon, dict(entry.versions),
                           dict(entry.extra))
    if nickname and not proposal.nickname:
        proposal.nickname, proposal.nickname_icon = nickname
    added = {v["version_id"]: {**v, "status": "accepted"}
             for v in new_versions if v["version_id"] not in entry.versions}
    proposal.versions = {**added, **proposal.versions}
    return yamlio.dump_yaml(proposal.to_yaml())
