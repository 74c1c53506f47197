"""The reminder dispatcher: claim due reminders in batches, send each through its channel,
record the outcome; retries with exponential backoff. See docs/reminders.md for the guarantee.

Per reminder there are three short transactions and no transaction is open while a channel
talks to the network:

1. claim (per batch): due pending reminders are leased to this dispatcher (`claimed_by`,
   `lease_until`); PostgreSQL skips rows another dispatcher holds (`FOR UPDATE SKIP LOCKED`),
   SQLite serialises the claims (BEGIN IMMEDIATE).
2. hand over: pending -> sending, only if the lease is still this dispatcher's (a conditional
   update); the first name and address are decrypted here, into memory only.
3. after the channel answered: sending -> sent, or back to pending with a later
   `next_attempt_at`, or failed.

A dispatcher that dies after 1 leaves leased pending rows: claimable again when the lease ends.
One that dies between 2 and 3 leaves a `sending` row whose outcome is unknown: when its lease
ends, a channel that drops repeats of the same idempotency id (SMS provider, file) gets it again
with that id; an SMTP reminder is marked failed with "outcome unknown" instead of risking a second
email (at most once).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from core_app.adapters import dispatch_store as store
from core_app.domain.hours import zone
from core_app.domain.reminder import (
    Channel,
    DeliveryError,
    OutgoingMessage,
    ReminderChannel,
    local_time_text,
    retry_delay,
)
from core_app.domain.staff import Action, Actor
from core_app.service_layer.unit_of_work import UnitOfWork
from core_app.service_layer.use_case import run_use_case

REMINDABLE = ("booked", "confirmed")
UNKNOWN_RESENT = "dispatcher stopped while sending; sent again with the same idempotency id"
UNKNOWN_GIVEN_UP = "outcome unknown: dispatcher stopped while sending; not sent again"


@dataclass(frozen=True)
class DispatchOptions:
    batch_size: int = 50
    lease: timedelta = timedelta(minutes=5)
    max_attempts: int = 5
    backoff: timedelta = timedelta(minutes=1)
    max_batches: int | None = None  # None: until nothing is due


@dataclass
class DispatchReport:
    worker: str
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    lost_lease: int = 0
    recovered: int = 0
    given_up_unknown: int = 0
    sent_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k != "sent_ids"}


def worker_name() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def dispatch_due(
    uow: UnitOfWork,
    actor: Actor,
    channels: Mapping[Channel, ReminderChannel],
    *,
    options: DispatchOptions = DispatchOptions(),
    worker: str | None = None,
) -> DispatchReport:
    """Send every reminder that is due (batch by batch); returns what happened."""
    actor.require(Action.DISPATCH_REMINDERS)
    report = DispatchReport(worker=worker or worker_name())
    batches = 0
    while options.max_batches is None or batches < options.max_batches:
        ids = _claim(uow, actor, channels, options, report)
        batches += 1
        if not ids:
            break
        for reminder_id in ids:
            _deliver(uow, actor, channels, options, report, reminder_id)
    return report


def _claim(
    uow: UnitOfWork,
    actor: Actor,
    channels: Mapping[Channel, ReminderChannel],
    options: DispatchOptions,
    report: DispatchReport,
) -> list[int]:
    def work(uow: UnitOfWork) -> list[int]:
        uow.serialise_on_row_locks()
        connection = uow.session.connection()
        now = uow.now()
        expired = store.expired_sending(connection, now)
        again = [i for i, ch in expired if channels[Channel(ch)].deduplicates]
        unknown = [i for i, ch in expired if not channels[Channel(ch)].deduplicates]
        store.requeue(connection, again, now, UNKNOWN_RESENT)
        store.give_up(connection, unknown, now, UNKNOWN_GIVEN_UP)
        ids = store.claim(
            connection,
            worker=report.worker,
            now=now,
            lease_until=now + options.lease,
            limit=options.batch_size,
        )
        if expired:
            uow.audit(
                actor,
                "reminder.recover",
                "reminder",
                [i for i, _ in expired],
                detail=f"lease ended while sending: {len(again)} again, {len(unknown)} given up",
            )
        if ids:
            uow.audit(actor, "reminder.claim", "reminder", None, detail=f"{len(ids)} claimed")
        report.recovered += len(again)
        report.given_up_unknown += len(unknown)
        return ids

    ids = run_use_case(
        uow, actor, action="reminder.claim", entity_type="reminder", entity_id=None, work=work
    )
    report.claimed += len(ids)
    return ids


def _hand_over(
    uow: UnitOfWork, actor: Actor, options: DispatchOptions, worker: str, reminder_id: int
) -> OutgoingMessage | str | None:
    """The message to send (the row is now `sending`), a reason it was skipped, or None when
    the lease was lost to another dispatcher."""

    def work(uow: UnitOfWork) -> OutgoingMessage | str | None:
        connection = uow.session.connection()
        now = uow.now()
        facts = store.message_facts(connection, reminder_id)
        if facts is None or facts.claimed_by != worker or str(facts.status) != "pending":
            return None
        reason = None
        if str(facts.appointment_status) not in REMINDABLE:
            reason = f"appointment is {facts.appointment_status}"
        elif facts.start_at <= now:
            reason = "appointment has started"
        channel = Channel(str(facts.channel))
        address = facts.email if channel == Channel.EMAIL else facts.phone
        if reason is None and not address:
            reason = f"no {'email' if channel == Channel.EMAIL else 'phone'} on file"
        if reason is not None:
            skipped = store.skip(connection, reminder_id, worker=worker, now=now, note=reason)
            if skipped:
                uow.audit(actor, "reminder.skip", "reminder", reminder_id, detail=reason)
            return reason if skipped else None
        if not store.start_sending(
            connection, reminder_id, worker=worker, now=now, lease_until=now + options.lease
        ):
            return None
        uow.audit(actor, "reminder.send", "reminder", reminder_id, detail=str(channel))
        tz = zone(facts.timezone)
        return OutgoingMessage(
            reminder_id=reminder_id,
            channel=channel,
            to_address=address,
            first_name=facts.first_name,
            clinic_name=facts.clinic_name,
            local_time=local_time_text(facts.start_at, tz),
        )

    return run_use_case(
        uow, actor, action="reminder.send", entity_type="reminder", entity_id=reminder_id, work=work
    )


def _record(
    uow: UnitOfWork,
    actor: Actor,
    options: DispatchOptions,
    worker: str,
    reminder_id: int,
    outcome: str | DeliveryError,
) -> tuple[str, bool]:
    """Record the channel's answer; returns (what happened, whether this dispatcher still
    owned the reminder)."""

    def work(uow: UnitOfWork) -> tuple[str, bool]:
        connection = uow.session.connection()
        now = uow.now()
        if isinstance(outcome, str):
            owned = store.mark_sent(
                connection, reminder_id, worker=worker, now=now, provider_ref=outcome
            )
            uow.audit(actor, "reminder.sent", "reminder", reminder_id)
            return "sent", owned
        facts = store.message_facts(connection, reminder_id)
        attempts = int(facts.attempts) if facts is not None else options.max_attempts
        retry_at: datetime | None = None
        if outcome.retryable and attempts < options.max_attempts:
            retry_at = now + retry_delay(attempts, base=options.backoff)
        owned = store.mark_failed_attempt(
            connection, reminder_id, worker=worker, now=now, error=str(outcome), retry_at=retry_at
        )
        what = "retried" if retry_at is not None else "failed"
        uow.audit(actor, f"reminder.{what}", "reminder", reminder_id, detail=str(outcome)[:200])
        return what, owned

    return run_use_case(
        uow,
        actor,
        action="reminder.record",
        entity_type="reminder",
        entity_id=reminder_id,
        work=work,
    )


def _deliver(
    uow: UnitOfWork,
    actor: Actor,
    channels: Mapping[Channel, ReminderChannel],
    options: DispatchOptions,
    report: DispatchReport,
    reminder_id: int,
) -> None:
    message = _hand_over(uow, actor, options, report.worker, reminder_id)
    if message is None:
        report.lost_lease += 1
        return
    if isinstance(message, str):
        report.skipped += 1
        return
    outcome: str | DeliveryError
    try:
        outcome = channels[message.channel].send(message)
    except DeliveryError as error:
        outcome = error
    del message  # the decrypted name and address leave memory with it
    what, owned = _record(uow, actor, options, report.worker, reminder_id, outcome)
    if not owned:
        report.lost_lease += 1
    if what == "sent":
        report.sent += 1
        report.sent_ids.append(reminder_id)
    elif what == "retried":
        report.retried += 1
    else:
        report.failed += 1
