"""Money in integer cents: parsing amounts, payments and refunds, balances and their ageing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest

from core_app.domain.billing import (
    Charge,
    Payment,
    PaymentMethod,
    compute_ageing,
    compute_balance,
)
from core_app.domain.exceptions import CurrencyMismatch, RefundExceedsPayment, ValidationError
from core_app.domain.money import (
    MAX_AMOUNT_CENTS,
    Money,
    format_money,
    parse_amount,
    require_positive_amount,
)
from tests.domain.factories import CLINIC_ID, NOW, PATIENT_IDS

PATIENT = PATIENT_IDS[0]


class TestParseAmount:
    @pytest.mark.parametrize(
        ("text", "cents"),
        [
            ("120", 12_000),
            ("120.5", 12_050),
            ("120.50", 12_050),
            ("0.05", 5),
            ("0", 0),
            (" 7 ", 700),
            ("1,234.56", 123_456),
        ],
    )
    def test_reads_decimal_amounts_exactly(self, text: str, cents: int) -> None:
        assert parse_amount(text) == cents

    @pytest.mark.parametrize(
        ("text", "complaint"),
        [
            ("-1", "negative"),
            ("-0.50", "negative"),
            ("1.234", "at most two decimals"),
            ("abc", "not a number"),
            ("", "not a number"),
            ("12.", "not a number"),
            (".5", "not a number"),
            ("+5", "not a number"),
            ("1e3", "not a number"),
            ("1.2.3", "not a number"),
            ("$5", "not a number"),
        ],
    )
    def test_refuses_anything_else(self, text: str, complaint: str) -> None:
        with pytest.raises(ValidationError, match=complaint):
            parse_amount(text)

    @pytest.mark.parametrize("text", ["²", "1.²"])
    def test_refuses_digit_like_characters_with_a_validation_error(self, text: str) -> None:
        with pytest.raises(ValidationError):
            parse_amount(text)


class TestRequirePositiveAmount:
    @pytest.mark.parametrize("cents", [0, -1, MAX_AMOUNT_CENTS + 1])
    def test_refuses_amounts_out_of_range(self, cents: int) -> None:
        with pytest.raises(ValidationError):
            require_positive_amount(cents, "amount")

    @pytest.mark.parametrize("value", [True, 1.5, "100"])
    def test_refuses_anything_but_whole_cents(self, value: object) -> None:
        with pytest.raises(ValidationError, match="whole number of cents"):
            require_positive_amount(value, "amount")  # type: ignore[arg-type]

    def test_accepts_one_cent_up_to_the_maximum(self) -> None:
        assert require_positive_amount(1, "amount") == 1
        assert require_positive_amount(MAX_AMOUNT_CENTS, "amount") == MAX_AMOUNT_CENTS


def test_money_adds_only_the_same_currency() -> None:
    assert Money(150, "USD") + Money(250, "USD") == Money(400, "USD")
    with pytest.raises(CurrencyMismatch):
        Money(150, "USD") + Money(250, "EUR")


@pytest.mark.parametrize(
    ("cents", "text"),
    [(0, "USD 0.00"), (5, "USD 0.05"), (123_456_78, "USD 123,456.78"), (-1_050, "-USD 10.50")],
)
def test_format_money(cents: int, text: str) -> None:
    assert format_money(cents, "USD") == text


def payment(amount_cents: int, *, currency: str = "USD", **changes: object) -> Payment:
    arguments: dict[str, object] = {
        "clinic_id": CLINIC_ID,
        "clinic_currency": "USD",
        "patient_id": PATIENT,
        "amount_cents": amount_cents,
        "currency": currency,
        "method": PaymentMethod.CARD,
        "received_at": NOW,
        "recorded_by_user_id": 1,
    }
    arguments.update(changes)
    return Payment.receive(**arguments)  # type: ignore[arg-type]


class TestPayment:
    def test_receives_a_payment_in_the_clinic_currency(self) -> None:
        received = payment(10_000, reference="receipt 17")

        assert (received.amount_cents, received.refundable_cents) == (10_000, 10_000)
        assert received.reference == "receipt 17"

    @pytest.mark.parametrize("cents", [0, -500])
    def test_refuses_zero_or_negative_payments(self, cents: int) -> None:
        with pytest.raises(ValidationError, match="positive"):
            payment(cents)

    def test_refuses_another_currency(self) -> None:
        with pytest.raises(CurrencyMismatch, match="takes USD"):
            payment(10_000, currency="EUR")

    def test_refuses_an_overlong_reference(self) -> None:
        with pytest.raises(ValidationError, match="reference"):
            payment(10_000, reference="x" * 201)


class TestRefund:
    def test_refunds_part_of_a_payment(self) -> None:
        paid = payment(10_000)

        refund = paid.refund(
            amount_cents=4_000, now=NOW, reason=" broken crown ", recorded_by_user_id=2
        )

        assert (refund.amount_cents, refund.reason, refund.refunded_at) == (
            4_000,
            "broken crown",
            NOW,
        )
        assert (paid.refunded_cents, paid.refundable_cents) == (4_000, 6_000)

    def test_refunds_up_to_exactly_the_remaining_amount(self) -> None:
        paid = payment(10_000)
        paid.refund(amount_cents=6_000, now=NOW, reason="a", recorded_by_user_id=None)
        paid.refund(amount_cents=4_000, now=NOW, reason="b", recorded_by_user_id=None)

        assert paid.refundable_cents == 0

    def test_never_refunds_beyond_what_remains(self) -> None:
        paid = payment(10_000)
        paid.refund(amount_cents=6_000, now=NOW, reason="a", recorded_by_user_id=None)

        with pytest.raises(RefundExceedsPayment, match="4000 cents left"):
            paid.refund(amount_cents=4_001, now=NOW, reason="b", recorded_by_user_id=None)

        assert [r.amount_cents for r in paid.refunds] == [6_000]

    def test_never_refunds_more_than_the_payment(self) -> None:
        with pytest.raises(RefundExceedsPayment):
            payment(10_000).refund(
                amount_cents=10_001, now=NOW, reason="x", recorded_by_user_id=None
            )

    @pytest.mark.parametrize("cents", [0, -1])
    def test_refuses_zero_or_negative_refunds(self, cents: int) -> None:
        with pytest.raises(ValidationError):
            payment(10_000).refund(
                amount_cents=cents, now=NOW, reason="x", recorded_by_user_id=None
            )

    def test_refund_needs_a_reason(self) -> None:
        with pytest.raises(ValidationError, match="reason"):
            payment(10_000).refund(amount_cents=1, now=NOW, reason=" ", recorded_by_user_id=None)


def charge(amount_cents: int, days_ago: int, charge_id: int | None = None) -> Charge:
    return Charge(
        clinic_id=CLINIC_ID,
        patient_id=PATIENT,
        appointment_id=None,
        procedure_code="D0120",
        amount_cents=amount_cents,
        currency="USD",
        charged_at=NOW - timedelta(days=days_ago),
        charge_id=charge_id,
    )


def paid(amount_cents: int, refunded_cents: int = 0) -> Payment:
    received = payment(amount_cents)
    if refunded_cents:
        received.refund(amount_cents=refunded_cents, now=NOW, reason="r", recorded_by_user_id=None)
    return received


def ageing(
    charges: Sequence[Charge], payments: Sequence[Payment], *, as_of: datetime = NOW
) -> dict[str, int]:
    result = compute_ageing("USD", charges, payments, as_of=as_of)
    return {**result.buckets, "credit": result.credit_cents}


class TestBalance:
    def test_balance_is_charges_less_payments_plus_refunds(self) -> None:
        balance = compute_balance(
            "USD", [charge(6_500, 3), charge(12_000, 3)], [paid(10_000, refunded_cents=2_500)]
        )

        assert (balance.charged_cents, balance.paid_cents, balance.refunded_cents) == (
            18_500,
            10_000,
            2_500,
        )
        assert balance.balance_cents == 11_000

    def test_overpayment_is_a_negative_balance(self) -> None:
        assert compute_balance("USD", [charge(5_000, 1)], [paid(8_000)]).balance_cents == -3_000

    def test_nothing_is_a_zero_balance(self) -> None:
        assert compute_balance("USD", [], []).balance_cents == 0


class TestAgeing:
    def test_payments_settle_the_oldest_charges_first(self) -> None:
        charges = [charge(2_000, 10), charge(3_000, 45), charge(5_000, 70), charge(10_000, 100)]

        assert ageing(charges, [paid(12_000)]) == {
            "0_30": 2_000,
            "31_60": 3_000,
            "61_90": 3_000,  # 5_000 less the 2_000 left after the 100-day-old charge
            "over_90": 0,
            "credit": 0,
        }

    def test_refunds_give_back_the_credit_they_took(self) -> None:
        charges = [charge(10_000, 100), charge(2_000, 10)]

        assert ageing(charges, [paid(12_000, refunded_cents=4_000)]) == {
            "0_30": 2_000,
            "31_60": 0,
            "61_90": 0,
            "over_90": 2_000,
            "credit": 0,
        }

    def test_left_over_payment_is_credit(self) -> None:
        assert ageing([charge(2_000, 5)], [paid(3_000), paid(500)]) == {
            "0_30": 0,
            "31_60": 0,
            "61_90": 0,
            "over_90": 0,
            "credit": 1_500,
        }

    @pytest.mark.parametrize(
        ("days_ago", "bucket"),
        [
            (0, "0_30"),
            (30, "0_30"),
            (31, "31_60"),
            (60, "31_60"),
            (61, "61_90"),
            (90, "61_90"),
            (91, "over_90"),
            (400, "over_90"),
            (-3, "0_30"),
        ],
    )
    def test_buckets_by_whole_days_since_the_charge(self, days_ago: int, bucket: str) -> None:
        assert ageing([charge(1_000, days_ago)], [])[bucket] == 1_000

    def test_a_day_is_counted_only_when_complete(self) -> None:
        almost = charge(1_000, 0)
        almost.charged_at = NOW - timedelta(days=31) + timedelta(seconds=1)

        assert ageing([almost], [])["0_30"] == 1_000

    def test_charges_listed_newest_first_are_still_settled_oldest_first(self) -> None:
        charges = [charge(1_000, 5), charge(4_000, 95), charge(2_000, 40)]

        assert ageing(charges, [paid(4_500)]) == {
            "0_30": 1_000,
            "31_60": 1_500,
            "61_90": 0,
            "over_90": 0,
            "credit": 0,
        }

    def test_ageing_agrees_with_the_balance(self) -> None:
        charges = [charge(2_000, 10), charge(3_000, 45), charge(5_000, 70)]
        payments = [paid(4_000, refunded_cents=1_000), paid(500)]

        result = compute_ageing("USD", charges, payments, as_of=NOW)
        balance = compute_balance("USD", charges, payments)

        assert result.open_cents - result.credit_cents == balance.balance_cents == 6_500
