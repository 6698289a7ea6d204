"""Evaluating the rules: what each finds is raised as a warning (or updates the open one with its
key), and an open warning its rule no longer finds is resolved. Runs in the worker once a day
(with the digest: digest.py) and on a leader's demand, with the unit of work's clock."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from .model import EarlyWarning
from .rules import RULES, run_rule


@dataclass
class Evaluation:
    raised: list[int] = field(default_factory=list)       # ids of the warnings new this time
    updated: int = 0
    resolved: int = 0
    skipped: list[str] = field(default_factory=list)      # rules off or unable to look


def evaluate_warnings(uow) -> Evaluation:
    session, now, today = uow.session, uow.clock.now(), uow.clock.today()
    result, new = Evaluation(), []
    open_rows = {w.key: w for w in session.scalars(select(EarlyWarning).where(EarlyWarning.resolved_at.is_(None))
                                                   .with_for_update())}
    for name in RULES:
        findings = run_rule(name, session, today, uow.calendar, uow.settings)
        if findings is None:
            result.skipped.append(name)
            continue
        seen = set()
        for finding in findings:
            seen.add(finding.key)
            row = open_rows.get(finding.key)
            if finding.unknown:
                continue
            if row is None:
                row = EarlyWarning(rule=name, key=finding.key, about=finding.about, about_id=finding.about_id,
                                   department_id=finding.department_id, case_id=finding.case_id,
                                   params=finding.params, raised_at=now, last_seen_at=now)
                session.add(row)
                open_rows[finding.key] = row
                new.append(row)
            else:
                if row.params != finding.params:
                    row.params = finding.params
                row.last_seen_at = now
                result.updated += 1
        for key, row in open_rows.items():
            if row.rule == name and key not in seen and row.resolved_at is None:
                row.resolved_at = now
                result.resolved += 1
    session.flush()
    result.raised = [row.id for row in new]
    if result.raised or result.resolved:
        uow.audit("warnings.evaluated", raised=len(result.raised), resolved=result.resolved,
                  skipped=result.skipped)
    return result
