"""Card payments through the configured processor: in person (recorded at once) or Stripe (a
payment intent now; the payment is recorded when Stripe's signed event says it succeeded, once
per intent however often the event is delivered)."""

from __future__ import annotations

from dataclasses import dataclass

from core_app.adapters import auth_store
from core_app.adapters.card_processor import CardProcessor, InvalidEvent, ProcessorUnavailable
from core_app.config import Settings
from core_app.domain.billing import PaymentMethod
from core_app.domain.exceptions import DomainError, ValidationError
from core_app.domain.staff import Action, Actor, Role
from core_app.service_layer import billing
from core_app.service_layer.unit_of_work import UnitOfWork
from core_app.service_layer.use_case import require, run_use_case

#: who records a payment that the card processor reports (may record payments, nothing more)
PROCESSOR_ACTOR = Actor(user_id=None, username="card-processor", role=Role.FRONT_DESK)


class EventRefused(DomainError):
    code = "invalid_signature"


class ProcessorError(DomainError):
    code = "processor_error"


@dataclass(frozen=True)
class CardPaymentStarted:
    processor: str
    status: str
    payment_id: int | None
    intent_id: str | None
    client_secret: str | None


@dataclass(frozen=True)
class EventHandled:
    event_id: str
    outcome: str  # recorded | duplicate | ignored
    payment_id: int | None


def processor_from(settings: Settings) -> CardProcessor:
    from core_app.adapters.card_processor import make_processor

    return make_processor(
        settings.card_processor,
        api_key=settings.stripe_api_key,
        webhook_secret=settings.stripe_webhook_secret,
        tolerance_s=settings.stripe_webhook_tolerance_s,
        api_base=settings.stripe_api_base,
    )


def start_card_payment(
    uow: UnitOfWork,
    processor: CardProcessor,
    actor: Actor,
    *,
    patient_id: int,
    amount_cents: int,
    currency: str,
    appointment_id: int | None,
    idempotency_key: str,
) -> CardPaymentStarted:
    if processor.completes_at_once:
        payment_id = billing.record_payment(
            uow,
            actor,
            patient_id=patient_id,
            amount_cents=amount_cents,
            currency=currency,
            method=PaymentMethod.CARD,
            appointment_id=appointment_id,
            reference="card in person",
            idempotency_key=idempotency_key,
        )
        return CardPaymentStarted(processor.name, "succeeded", payment_id, None, None)

    def check(uow: UnitOfWork) -> int:
        patient = require(uow.patients.get(patient_id), "patient", patient_id)
        actor.require(Action.RECORD_PAYMENT, clinic_id=patient.clinic_id)
        clinic = require(uow.clinics.get(patient.clinic_id), "clinic", patient.clinic_id)
        if currency != clinic.currency:
            raise ValidationError(f"clinic {clinic.clinic_id} takes {clinic.currency}")
        if amount_cents <= 0:
            raise ValidationError("an amount must be positive")
        uow.audit(actor, "payment.intent", "patient", patient_id, detail=processor.name)
        return patient.clinic_id

    clinic_id = run_use_case(
        uow, actor, action="payment.intent", entity_type="patient", entity_id=patient_id, work=check
    )
    metadata = {"patient_id": str(patient_id), "clinic_id": str(clinic_id)}
    if appointment_id is not None:
        metadata["appointment_id"] = str(appointment_id)
    try:
        started = processor.start(
            amount_cents=amount_cents,
            currency=currency,
            metadata=metadata,
            idempotency_key=idempotency_key,
        )
    except ProcessorUnavailable as error:
        raise ProcessorError(str(error)) from None
    return CardPaymentStarted(
        processor.name, started.status, None, started.intent_id, started.client_secret
    )


def handle_event(
    uow: UnitOfWork, processor: CardProcessor, *, payload: bytes, signature: str | None
) -> EventHandled:
    """Verify a webhook event and act on it once: a succeeded payment intent becomes a card
    payment (keyed by the intent, so a redelivery after a crash records nothing twice)."""
    try:
        event = processor.verify_event(payload, signature)
    except InvalidEvent as error:
        raise EventRefused(str(error)) from None
    with uow:
        if auth_store.event_seen(uow.session.connection(), event.event_id):
            return EventHandled(event.event_id, "duplicate", None)
    payment_id = None
    if event.event_type == "payment_intent.succeeded" and event.intent_id:
        try:
            patient_id = int(event.metadata["patient_id"])
            appointment = event.metadata.get("appointment_id")
        except (KeyError, ValueError):
            raise EventRefused("the payment intent names no patient") from None
        if event.amount_cents is None or event.currency is None:
            raise EventRefused("the payment intent has no amount")
        payment_id = billing.record_payment(
            uow,
            PROCESSOR_ACTOR,
            patient_id=patient_id,
            amount_cents=event.amount_cents,
            currency=event.currency,
            method=PaymentMethod.CARD,
            appointment_id=int(appointment) if appointment else None,
            reference=f"{processor.name} {event.intent_id}",
            idempotency_key=f"{processor.name}:{event.intent_id}",
        )

    def store(uow: UnitOfWork) -> EventHandled:
        connection = uow.session.connection()
        if auth_store.event_seen(connection, event.event_id):  # a concurrent delivery won
            return EventHandled(event.event_id, "duplicate", None)
        auth_store.add_event(
            connection,
            event_id=event.event_id,
            processor=processor.name,
            event_type=event.event_type,
            now=uow.now(),
            payment_id=payment_id,
        )
        uow.audit(
            PROCESSOR_ACTOR, "processor.event", "payment", payment_id, detail=event.event_type
        )
        return EventHandled(event.event_id, "recorded" if payment_id else "ignored", payment_id)

    return run_use_case(
        uow,
        PROCESSOR_ACTOR,
        action="processor.event",
        entity_type="payment",
        entity_id=None,
        work=store,
    )
