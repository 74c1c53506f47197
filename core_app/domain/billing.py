"""Charges, payments and refunds; a patient's balance and its ageing derive from them."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from core_app.domain.exceptions import CurrencyMismatch, RefundExceedsPayment, ValidationError
from core_app.domain.money import require_positive_amount


class PaymentMethod(enum.StrEnum):
    CASH = "cash"
    CARD = "card"
    INSURANCE = "insurance"
    OTHER = "other"


@dataclass(eq=False)
class Charge:
    """What a completed procedure costs the patient (the clinic's fee at booking)."""

    clinic_id: int
    patient_id: int
    appointment_id: int | None
    procedure_code: str
    amount_cents: int
    currency: str
    charged_at: datetime
    charge_id: int | None = None


@dataclass(eq=False)
class Refund:
    amount_cents: int
    refunded_at: datetime
    reason: str
    recorded_by_user_id: int | None
    payment_id: int | None = None
    refund_id: int | None = None


@dataclass(eq=False)
class Payment:
    clinic_id: int
    patient_id: int
    amount_cents: int
    currency: str
    method: PaymentMethod
    received_at: datetime
    recorded_by_user_id: int | None
    appointment_id: int | None = None
    reference: str | None = None
    refunds: list[Refund] = field(default_factory=list)
    payment_id: int | None = None

    @classmethod
    def receive(
        cls,
        *,
        clinic_id: int,
        clinic_currency: str,
        patient_id: int,
        amount_cents: int,
        currency: str,
        method: PaymentMethod,
        received_at: datetime,
        recorded_by_user_id: int | None,
        appointment_id: int | None = None,
        reference: str | None = None,
    ) -> Payment:
        require_positive_amount(amount_cents, "payment amount")
        if currency != clinic_currency:
            raise CurrencyMismatch(
                f"clinic {clinic_id} takes {clinic_currency}; payment is in {currency}"
            )
        if reference is not None and len(reference) > 200:
            raise ValidationError("payment reference is longer than 200 characters")
        return cls(
            clinic_id=clinic_id,
            patient_id=patient_id,
            amount_cents=amount_cents,
            currency=currency,
            method=method,
            received_at=received_at,
            recorded_by_user_id=recorded_by_user_id,
            appointment_id=appointment_id,
            reference=reference,
        )

    @property
    def refunded_cents(self) -> int:
        return sum(refund.amount_cents for refund in self.refunds)

    @property
    def refundable_cents(self) -> int:
        return self.amount_cents - self.refunded_cents

    def refund(
        self, *, amount_cents: int, now: datetime, reason: str, recorded_by_user_id: int | None
    ) -> Refund:
        require_positive_amount(amount_cents, "refund amount")
        if not reason.strip():
            raise ValidationError("a refund needs a reason")
        if amount_cents > self.refundable_cents:
            raise RefundExceedsPayment(
                f"payment {self.payment_id} has {self.refundable_cents} cents left to refund; "
                f"{amount_cents} cents asked"
            )
        refund = Refund(
            amount_cents=amount_cents,
            refunded_at=now,
            reason=reason.strip(),
            recorded_by_user_id=recorded_by_user_id,
            payment_id=self.payment_id,
        )
        self.refunds.append(refund)
        return refund


@dataclass(frozen=True)
class Balance:
    """Positive: the patient owes the practice; negative: the practice owes a credit."""

    currency: str
    charged_cents: int
    paid_cents: int
    refunded_cents: int

    @property
    def balance_cents(self) -> int:
        return self.charged_cents - self.paid_cents + self.refunded_cents


AGEING_BUCKETS = ("0_30", "31_60", "61_90", "over_90")


@dataclass(frozen=True)
class Ageing:
    """Open charges by days since the charge, after payments settle the oldest first."""

    currency: str
    buckets: dict[str, int]
    credit_cents: int

    @property
    def open_cents(self) -> int:
        return sum(self.buckets.values())


def compute_balance(
    currency: str, charges: Iterable[Charge], payments: Iterable[Payment]
) -> Balance:
    payments = list(payments)
    return Balance(
        currency=currency,
        charged_cents=sum(c.amount_cents for c in charges),
        paid_cents=sum(p.amount_cents for p in payments),
        refunded_cents=sum(p.refunded_cents for p in payments),
    )


def _bucket(days: int) -> str:
    if days <= 30:
        return "0_30"
    if days <= 60:
        return "31_60"
    if days <= 90:
        return "61_90"
    return "over_90"


def compute_ageing(
    currency: str, charges: Sequence[Charge], payments: Sequence[Payment], *, as_of: datetime
) -> Ageing:
    credit = sum(p.refundable_cents for p in payments)
    buckets = dict.fromkeys(AGEING_BUCKETS, 0)
    for charge in sorted(charges, key=lambda c: (c.charged_at, c.charge_id or 0)):
        settled = min(credit, charge.amount_cents)
        credit -= settled
        open_cents = charge.amount_cents - settled
        if open_cents:
            days = max(0, (as_of - charge.charged_at).days)
            buckets[_bucket(days)] += open_cents
    return Ageing(currency=currency, buckets=buckets, credit_cents=credit)
