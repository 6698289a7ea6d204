"""Deploying process definitions as immutable versions."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from .engine.bundle import Bundle, InvalidBundle, parse_bundle, read_folder_report, specs_for_definition
from .engine.problems import named
from .models import ProcessDefinition
from .operations import MESSAGES, OPERATIONS
from .paths import bundled_dir


@dataclass
class DeployResult:
    key: str
    version: int
    created: bool


def latest_definition(session, key: str) -> ProcessDefinition | None:
    return session.scalars(select(ProcessDefinition).where(ProcessDefinition.key == key)
                           .order_by(ProcessDefinition.version.desc()).limit(1)).first()


def deploy_bundle(uow, bundle: Bundle) -> DeployResult:
    """Check the bundle and store it as the next version; the same bundle again changes nothing."""
    parse_bundle(bundle, set(OPERATIONS), messages=set(MESSAGES))
    session = uow.session
    sha = bundle.sha256
    latest = latest_definition(session, bundle.key)
    if latest is not None and latest.sha256 == sha:
        return DeployResult(bundle.key, latest.version, False)
    # An older bundle deployed again simply becomes the newest version.
    version = (latest.version if latest else 0) + 1
    definition = ProcessDefinition(key=bundle.key, name=bundle.name, version=version, sha256=sha,
                                   bpmn_files=bundle.bpmn_files, dmn_files=bundle.dmn_files, forms=bundle.forms,
                                   deployed_by=uow.actor.name, deployed_at=uow.clock.now())
    session.add(definition)
    session.flush()
    uow.audit("definition.deployed", key=bundle.key, version=version, sha256=sha, definition_id=definition.id)
    return DeployResult(bundle.key, version, True)


def deploy_folder(uow, bpmn_dir: Path | None = None, forms_dir: Path | None = None) -> list[DeployResult]:
    """Deploy every process in a folder, all or nothing: one invalid bundle deploys none, and the
    InvalidBundle lists every problem of every file (a folder with no executable process is one)."""
    bpmn_dir = Path(bpmn_dir) if bpmn_dir else bundled_dir("bpmn")
    forms_dir = Path(forms_dir) if forms_dir else (bpmn_dir.parent / "forms" if (bpmn_dir.parent / "forms").is_dir()
                                                   else bundled_dir("forms"))
    bundles, problems = read_folder_report(bpmn_dir, forms_dir)
    for bundle in bundles:
        try:
            parse_bundle(bundle, set(OPERATIONS), messages=set(MESSAGES))
        except InvalidBundle as exc:
            problems.extend(exc.problems)
    if problems:
        raise InvalidBundle(named(problems, {}))
    return [deploy_bundle(uow, b) for b in bundles]


def specs_for(session, definition_id: int):
    """The parsed specs and forms of a definition version, cached by its id (versions never change)."""
    return specs_for_definition(session, definition_id, set(OPERATIONS))
