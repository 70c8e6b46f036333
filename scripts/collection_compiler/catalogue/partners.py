"""Community-partner registrations: `partners/<partner_id>.yaml`, one per partner, added by pull request."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from collection_compiler.adapters import yamlio
from collection_compiler.adapters.jsonschemas import load_schema
from collection_compiler.catalogue import ids

DEFAULT_TESTED_TYPES = ("model",)
log = logging.getLogger(__name__)


class RegistrationError(ValueError):
    """A registration that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class TestSummaries:
    repository: str
    deploy_branch: str
    deploy_folder: str
    workflow: str | None = None
    workflow_ref: str | None = None


@dataclass(frozen=True)
class Registration:
    id: str
    name: str
    repository: str
    branch: str
    collection_file_name: str
    test_summaries: TestSummaries | None = None
    tested_types: tuple[str, ...] = DEFAULT_TESTED_TYPES
    details: dict[str, Any] = field(default_factory=dict)  # display fields: logo, icon, docs, contact, …

    def to_json(self) -> dict[str, Any]:
        data = {**self.details, **{k: v for k, v in asdict(self).items() if k != "details"}}
        data["tested_types"] = list(self.tested_types)
        if self.test_summaries is None:
            data.pop("test_summaries")
        else:
            data["test_summaries"] = {k: v for k, v in asdict(self.test_summaries).items() if v is not None}
        return data


def _where(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "(top level)"


def parse_registration(data: Any, source: str) -> Registration:
    if not isinstance(data, dict):
        raise RegistrationError(f"{source}: the top level must be a mapping")
    errors = sorted(load_schema("partner").iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise RegistrationError("; ".join(f"{source}: field {_where(e)}: {e.message}" for e in errors[:5]))
    for key in ("repository", "collection_file_name", "branch"):
        _refuse_dot_segments(data[key], source, key)
    summaries = data.get("test_summaries")
    if summaries:
        for key in ("repository", "deploy_folder", "deploy_branch"):
            _refuse_dot_segments(summaries[key], source, f"test_summaries.{key}")
        if summaries.get("workflow") and not summaries.get("workflow_ref"):
            summaries = {**summaries, "workflow_ref": "main"}
    core = {"id", "name", "repository", "branch", "collection_file_name", "test_summaries", "tested_types"}
    return Registration(
        id=ids.check_partner_id(data["id"]),
        name=data["name"],
        repository=data["repository"],
        branch=data["branch"],
        collection_file_name=data["collection_file_name"],
        test_summaries=TestSummaries(**summaries) if summaries else None,
        tested_types=tuple(data.get("tested_types") or DEFAULT_TESTED_TYPES),
        details={k: v for k, v in data.items() if k not in core},
    )


def _refuse_dot_segments(value: str, source: str, key: str) -> None:
    if any(part == ".." for part in value.split("/")) or value.startswith("/"):
        raise RegistrationError(f"{source}: field {key}: {value!r} must not contain '..' or start with '/'")


def load_registration(path: Path) -> Registration:
    try:
        data = yamlio.load_yaml_file(path)
    except yamlio.YamlLoadError as e:
        raise RegistrationError(str(e)) from None
    registration = parse_registration(data, str(path))
    if registration.id != path.stem:
        raise RegistrationError(f"{path}: field id: {registration.id!r} must equal the file name {path.stem!r}")
    return registration


def selected_registrations(repo_root: Path, only: list[str] | None = None) -> list[Registration]:
    """The valid registrations (those named in `only`, when given); invalid files are logged as errors."""
    registrations, errors = load_registrations(repo_root)
    for error in errors:
        log.error("%s", error)
    return [r for r in registrations if not only or r.id in set(only)]


def registration_files(repo_root: Path) -> list[Path]:
    return sorted((repo_root / "partners").glob("*.yaml"))


def load_registrations(repo_root: Path) -> tuple[list[Registration], list[str]]:
    """All valid registrations (sorted by id) and one error message per invalid or duplicate file."""
    registrations: dict[str, Registration] = {}
    errors: list[str] = []
    for path in registration_files(repo_root):
        try:
            registration = load_registration(path)
        except RegistrationError as e:
            errors.append(str(e))
            continue
        if registration.id in registrations:
            errors.append(f"{path}: field id: duplicate partner id {registration.id!r}")
            continue
        registrations[registration.id] = registration
    return [registrations[k] for k in sorted(registrations)], errors
