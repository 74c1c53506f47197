"""Break-glass: emergency access beyond a user's role, time-limited, with a reason, loudly audited.

A user opens a grant for themselves (`open_grant`): the actions they need from
`BREAK_GLASS_ACTIONS`, a clinic, a number of minutes and a reason (stored encrypted: staff may
name a patient in it). While it is open, `with_open_grant` attaches it to their actor, so the
domain's permission check honours it; every audit entry they write meanwhile starts with
`[BREAK-GLASS #id]`, and work under an expired grant is refused. Admins list the grants and
mark each one reviewed (`review_grant`); unreviewed grants stay on the list.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, select, update

from core_app.adapters import orm
from core_app.domain.audit import Outcome
from core_app.domain.exceptions import NotFound, PermissionDenied, ValidationError
from core_app.domain.staff import BREAK_GLASS_ACTIONS, Action, Actor, EmergencyGrant
from core_app.service_layer.unit_of_work import UnitOfWork
from core_app.service_layer.use_case import run_use_case

MAX_MINUTES = 240
MIN_REASON = 10
DEFAULT_ACTIONS = (Action.READ_PATIENT, Action.READ_SCHEDULE)


@dataclass(frozen=True)
class GrantView:
    grant_id: int
    user_id: int
    username: str
    actions: list[str]
    clinic_id: int | None
    reason: str
    opened_at: datetime
    expires_at: datetime
    is_open: bool
    uses: int  # audit entries written under the grant
    reviewed_at: datetime | None
    reviewed_by_user_id: int | None
    review_note: str | None


def open_grant(
    uow: UnitOfWork,
    actor: Actor,
    *,
    reason: str,
    minutes: int,
    actions: Iterable[Action] = DEFAULT_ACTIONS,
    clinic_id: int | None = None,
) -> int:
    wanted = sorted(set(actions))
    clean_reason = reason.strip()

    def work(u: UnitOfWork) -> int:
        if actor.user_id is None:
            raise PermissionDenied("break-glass is for a named staff user")
        if len(clean_reason) < MIN_REASON:
            raise ValidationError(f"a reason of at least {MIN_REASON} characters is required")
        if not 1 <= minutes <= MAX_MINUTES:
            raise ValidationError(f"minutes must be between 1 and {MAX_MINUTES}")
        refused = [a for a in wanted if a not in BREAK_GLASS_ACTIONS]
        if not wanted or refused:
            allowed = ", ".join(sorted(BREAK_GLASS_ACTIONS))
            raise ValidationError(f"break-glass may grant only: {allowed}")
        if clinic_id is not None and u.clinics.get(clinic_id) is None:
            raise NotFound("clinic", clinic_id)
        now = u.now()
        grant_id: int = u.session.execute(
            insert(orm.break_glass_grants)
            .values(
                user_id=actor.user_id,
                actions=",".join(wanted),
                clinic_id=clinic_id,
                reason=clean_reason,
                opened_at=now,
                expires_at=now + timedelta(minutes=minutes),
            )
            .returning(orm.break_glass_grants.c.grant_id)
        ).scalar_one()
        u.audit(
            actor,
            "break_glass.open",
            "break_glass_grant",
            grant_id,
            detail=f"[BREAK-GLASS #{grant_id}] opened: {','.join(wanted)} for {minutes} min"
            + (f" in clinic {clinic_id}" if clinic_id is not None else ""),
        )
        return int(grant_id)

    return run_use_case(
        uow,
        actor,
        action="break_glass.open",
        entity_type="break_glass_grant",
        entity_id=None,
        work=work,
    )


def with_open_grant(uow: UnitOfWork, actor: Actor) -> Actor:
    """`actor` holding their latest grant that is still open now (unchanged if none)."""
    if actor.user_id is None:
        return actor
    g = orm.break_glass_grants.c
    with uow:
        row = uow.session.execute(
            select(g.grant_id, g.actions, g.clinic_id, g.expires_at)
            .where(g.user_id == actor.user_id, g.opened_at <= uow.now(), g.expires_at > uow.now())
            .order_by(g.grant_id.desc())
            .limit(1)
        ).first()
    if row is None:
        return dataclasses.replace(actor, grant=None)
    grant = EmergencyGrant(
        grant_id=int(row[0]),
        actions=frozenset(Action(a) for a in str(row[1]).split(",")),
        clinic_id=row[2],
        expires_at=row[3],
    )
    return dataclasses.replace(actor, grant=grant)


def list_grants(uow: UnitOfWork, actor: Actor, *, unreviewed_only: bool = True) -> list[GrantView]:
    def work(u: UnitOfWork) -> list[GrantView]:
        actor.require(Action.REVIEW_BREAK_GLASS)
        g, s = orm.break_glass_grants.c, orm.staff_users.c
        query = (
            select(orm.break_glass_grants, s.username)
            .join(orm.staff_users, s.user_id == g.user_id)
            .order_by(g.grant_id)
        )
        if unreviewed_only:
            query = query.where(g.reviewed_at.is_(None))
        rows = u.session.execute(query).mappings().all()
        now = u.now()
        views = [
            GrantView(
                grant_id=r["grant_id"],
                user_id=r["user_id"],
                username=r["username"],
                actions=str(r["actions"]).split(","),
                clinic_id=r["clinic_id"],
                reason=r["reason"],
                opened_at=r["opened_at"],
                expires_at=r["expires_at"],
                is_open=r["expires_at"] > now,
                uses=_uses(u, r["grant_id"]),
                reviewed_at=r["reviewed_at"],
                reviewed_by_user_id=r["reviewed_by_user_id"],
                review_note=r["review_note"],
            )
            for r in rows
        ]
        u.audit(actor, "break_glass.list", "break_glass_grant", [v.grant_id for v in views] or None)
        u.commit()
        return views

    return run_use_case(
        uow,
        actor,
        action="break_glass.list",
        entity_type="break_glass_grant",
        entity_id=None,
        work=work,
    )


def _uses(uow: UnitOfWork, grant_id: int) -> int:
    a = orm.audit_entries.c
    marker = f"[BREAK-GLASS #{grant_id}]%"
    query = select(func.count()).where(
        a.detail.like(marker), a.action != "break_glass.open", a.outcome == Outcome.SUCCESS
    )
    return int(uow.session.scalar(query) or 0)


def review_grant(uow: UnitOfWork, actor: Actor, grant_id: int, *, note: str) -> None:
    def work(u: UnitOfWork) -> None:
        actor.require(Action.REVIEW_BREAK_GLASS)
        g = orm.break_glass_grants.c
        row = u.session.execute(
            select(g.user_id, g.reviewed_at).where(g.grant_id == grant_id)
        ).first()
        if row is None:
            raise NotFound("break-glass grant", grant_id)
        if row[0] == actor.user_id:
            raise PermissionDenied("a break-glass grant is reviewed by someone else")
        if row[1] is not None:
            raise ValidationError(f"break-glass grant {grant_id} was reviewed already")
        if not note.strip():
            raise ValidationError("a review note is required")
        u.session.execute(
            update(orm.break_glass_grants)
            .where(g.grant_id == grant_id)
            .values(reviewed_at=u.now(), reviewed_by_user_id=actor.user_id, review_note=note)
        )
        u.audit(actor, "break_glass.review", "break_glass_grant", grant_id)
        u.commit()

    run_use_case(
        uow,
        actor,
        action="break_glass.review",
        entity_type="break_glass_grant",
        entity_id=grant_id,
        work=work,
    )
