"""`dentops audit verify`: recompute the audit log's hash chain and report the first break."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import Select, func, select

from core_app.adapters import orm
from core_app.adapters.crypto import installed_keyring
from core_app.domain.audit import AuditEntry, ChainBreak, first_break
from core_app.domain.staff import Action, Actor
from core_app.service_layer.unit_of_work import UnitOfWork
from core_app.service_layer.use_case import run_use_case

BATCH = 5000


@dataclass(frozen=True)
class ChainReport:
    entries: int
    verified: int
    ok: bool
    broken: ChainBreak | None
    head_seq: int | None  # record these two outside the database to detect a cut-off tail
    head_hash: str | None


def verify_chain(uow: UnitOfWork, actor: Actor) -> ChainReport:
    """Every entry in `seq` order (entries outside the chain last), each recomputed with the
    audit key; the verification itself is audited afterwards (it is not part of what it saw)."""

    def check(u: UnitOfWork) -> ChainReport:
        actor.require(Action.VERIFY_AUDIT)
        t = orm.audit_entries.c
        total = int(u.session.scalar(select(func.count()).select_from(orm.audit_entries)) or 0)
        head = u.session.execute(
            select(t.seq, t.chain_hash).where(t.seq.is_not(None)).order_by(t.seq.desc()).limit(1)
        ).first()
        entries = u.session.scalars(_in_chain_order())
        try:
            verified, broken = first_break(_detached(u, entries), key=installed_keyring().audit_key)
        finally:
            entries.close()  # a break ends the walk early: free the server-side cursor
        report = ChainReport(
            entries=total,
            verified=verified,
            ok=broken is None,
            broken=broken,
            head_seq=None if head is None else int(head[0]),
            head_hash=None if head is None else str(head[1]),
        )
        detail = "ok" if broken is None else f"broken at seq {broken.seq} id {broken.audit_id}"
        u.audit(actor, "audit.verify", "audit_log", None, detail=f"{verified} verified; {detail}")
        u.commit()
        return report

    return run_use_case(
        uow, actor, action="audit.verify", entity_type="audit_log", entity_id=None, work=check
    )


def _in_chain_order() -> Select[AuditEntry]:
    t = orm.audit_entries.c
    return (
        select(AuditEntry)
        .order_by(t.seq.is_(None), t.seq, t.audit_id)
        .execution_options(yield_per=BATCH)
    )


def _detached(uow: UnitOfWork, entries: Iterable[AuditEntry]) -> Iterator[AuditEntry]:
    for entry in entries:
        yield entry
        uow.session.expunge(entry)  # a million entries need not stay in the session
