"""Commands for money: payments, refunds, balances."""

from __future__ import annotations

from typing import Annotated

import typer

from core_app.cli.context import Session, refusals
from core_app.cli.output import emit
from core_app.domain.billing import PaymentMethod
from core_app.domain.money import format_money, parse_amount
from core_app.service_layer import billing

payment_app = typer.Typer(
    help="Payments and refunds (integer cents, clinic currency).", no_args_is_help=True
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
KeyOpt = Annotated[
    str | None, typer.Option(help="Idempotency key: sending it again returns the first result.")
]


@payment_app.command("record")
def record(
    ctx: typer.Context,
    patient: Annotated[int, typer.Option()],
    amount: Annotated[str, typer.Option(help="e.g. 120.50")],
    method: Annotated[PaymentMethod, typer.Option(help="cash, card, insurance or other.")],
    currency: Annotated[str, typer.Option()] = "USD",
    appointment: Annotated[int | None, typer.Option()] = None,
    reference: Annotated[str | None, typer.Option(help="Receipt or processor reference.")] = None,
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a payment received from (or for) a patient."""
    session: Session = ctx.obj
    with refusals():
        cents = parse_amount(amount)
    payment_id = session.run(
        lambda app, actor: billing.record_payment(
            app.uow(),
            actor,
            patient_id=patient,
            amount_cents=cents,
            currency=currency.upper(),
            method=method,
            appointment_id=appointment,
            reference=reference,
            idempotency_key=idempotency_key,
        )
    )
    emit(
        {"payment_id": payment_id, "amount_cents": cents, "currency": currency.upper()},
        as_json=as_json,
        human=f"payment {payment_id}: {format_money(cents, currency.upper())}",
    )


@payment_app.command("refund")
def refund(
    ctx: typer.Context,
    payment_id: int,
    amount: Annotated[str, typer.Option(help="e.g. 40.00")],
    reason: Annotated[str, typer.Option()],
    idempotency_key: KeyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Refund part or all of a payment (never more than remains unrefunded)."""
    session: Session = ctx.obj
    with refusals():
        cents = parse_amount(amount)
    refund_id = session.run(
        lambda app, actor: billing.refund_payment(
            app.uow(),
            actor,
            payment_id=payment_id,
            amount_cents=cents,
            reason=reason,
            idempotency_key=idempotency_key,
        )
    )
    emit(
        {"refund_id": refund_id, "payment_id": payment_id, "amount_cents": cents},
        as_json=as_json,
        human=f"refund {refund_id}",
    )


def balance(ctx: typer.Context, patient_id: int, as_json: JsonOpt = False) -> None:
    """A patient's balance (charges - payments + refunds) and its ageing."""
    session: Session = ctx.obj
    account = session.run(lambda app, actor: billing.patient_account(app.uow(), actor, patient_id))
    b, a = account.balance, account.ageing
    emit(
        {
            "patient_id": patient_id,
            "currency": b.currency,
            "charged_cents": b.charged_cents,
            "paid_cents": b.paid_cents,
            "refunded_cents": b.refunded_cents,
            "balance_cents": b.balance_cents,
            "ageing_cents": a.buckets,
            "credit_cents": a.credit_cents,
        },
        as_json=as_json,
        human=f"balance {format_money(b.balance_cents, b.currency)} "
        + " ".join(f"{k}:{format_money(v, b.currency)}" for k, v in a.buckets.items()),
    )
