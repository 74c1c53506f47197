"""Payments (in person, or by card through the configured processor), refunds, and the card
processor's webhook. Every POST that creates money needs an Idempotency-Key."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Header, Path, Request

from core_app.api.deps import CoreDep, CurrentActor, allowed
from core_app.api.errors import errors
from core_app.api.on_the_loop import CoreRoute
from core_app.api.schemas import (
    MAX_ID,
    CardPaymentIn,
    CardPaymentOut,
    PaymentIn,
    PaymentOut,
    RefundIn,
    RefundOut,
    WebhookOut,
)
from core_app.domain.staff import Action
from core_app.service_layer import api_reads, billing, card_payments

router = APIRouter(prefix="/v1", tags=["payments"], route_class=CoreRoute)
PaymentId = Annotated[int, Path(ge=1, le=MAX_ID)]
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=200,
        pattern=r"^[!-~]+$",
        description="A unique key per intended operation: a retry with the same key and body "
        "replays the first result; the same key with another body is refused (422).",
    ),
]
WRITE = errors(401, 403, 404, 409, 422, 503)


@router.post(
    "/payments",
    response_model=PaymentOut,
    status_code=201,
    dependencies=[allowed(Action.RECORD_PAYMENT)],
    responses=WRITE,
    summary="Record a payment taken at the desk (cash, card terminal, insurance, other)",
)
def record_payment(
    body: PaymentIn, key: IdempotencyKey, app: CoreDep, actor: CurrentActor
) -> PaymentOut:
    api_reads.ensure_visible(
        app.uow(), actor, {"patient": body.patient_id, "appointment": body.appointment_id}
    )
    payment_id = billing.record_payment(
        app.uow(),
        actor,
        patient_id=body.patient_id,
        amount_cents=body.amount_cents,
        currency=body.currency,
        method=body.method,
        appointment_id=body.appointment_id,
        reference=body.reference,
        idempotency_key=key,
    )
    return PaymentOut.model_validate(asdict(api_reads.get_payment(app.uow(), actor, payment_id)))


@router.get(
    "/payments/{payment_id}",
    response_model=PaymentOut,
    dependencies=[allowed(Action.READ_BALANCE)],
    responses=errors(401, 403, 404, 422, 503),
    summary="One payment with its refunds",
)
def get_payment(payment_id: PaymentId, app: CoreDep, actor: CurrentActor) -> PaymentOut:
    return PaymentOut.model_validate(asdict(api_reads.get_payment(app.uow(), actor, payment_id)))


@router.post(
    "/payments/{payment_id}/refunds",
    response_model=RefundOut,
    status_code=201,
    dependencies=[allowed(Action.REFUND)],
    responses=WRITE,
    summary="Refund part or all of a payment",
)
def refund(
    payment_id: PaymentId, body: RefundIn, key: IdempotencyKey, app: CoreDep, actor: CurrentActor
) -> RefundOut:
    api_reads.ensure_visible(app.uow(), actor, {"payment": payment_id})
    refund_id = billing.refund_payment(
        app.uow(),
        actor,
        payment_id=payment_id,
        amount_cents=body.amount_cents,
        reason=body.reason,
        idempotency_key=key,
    )
    payment = api_reads.get_payment(app.uow(), actor, payment_id)
    return RefundOut.model_validate(
        asdict(next(r for r in payment.refunds if r.refund_id == refund_id))
    )


@router.post(
    "/card-payments",
    response_model=CardPaymentOut,
    status_code=201,
    dependencies=[allowed(Action.RECORD_PAYMENT)],
    responses=errors(401, 403, 404, 409, 422, 502, 503),
    summary="Take a card payment through the configured processor (Stripe: a payment intent)",
)
def card_payment(
    body: CardPaymentIn, key: IdempotencyKey, request: Request, app: CoreDep, actor: CurrentActor
) -> CardPaymentOut:
    api_reads.ensure_visible(
        app.uow(), actor, {"patient": body.patient_id, "appointment": body.appointment_id}
    )
    started = card_payments.start_card_payment(
        app.uow(),
        request.app.state.processor,
        actor,
        patient_id=body.patient_id,
        amount_cents=body.amount_cents,
        currency=body.currency,
        appointment_id=body.appointment_id,
        idempotency_key=key,
    )
    return CardPaymentOut.model_validate(asdict(started))


@router.post(
    "/webhooks/stripe",
    response_model=WebhookOut,
    responses=errors(400, 404, 409, 422, 503),
    summary="Stripe's events, checked by the Stripe-Signature over the raw body",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def stripe_webhook(request: Request) -> WebhookOut:
    from starlette.concurrency import run_in_threadpool

    payload = await request.body()  # the raw bytes: the signature covers them exactly
    handled = await run_in_threadpool(
        card_payments.handle_event,
        request.app.state.core.uow(),
        request.app.state.processor,
        payload=payload,
        signature=request.headers.get("stripe-signature"),
    )
    return WebhookOut.model_validate(asdict(handled))
