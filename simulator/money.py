"""Money: fees of completed visits, the insurer's and the patient's portions, payments at
checkout and later, refunds, and balances that stay open (and age).

- The fee is the catalog fee of the visit's procedures (the core charges them on completion).
- An insured patient's insurer pays `insurance_share[category]` of it ("100-80-50" design),
  with probability `insurance_paid_rate`, 14-45 days after the visit; a denied claim stays open.
- The patient pays the rest at checkout (`pay_at_checkout_rate`, card or cash), or later
  (`pay_later_rate` of the others, exponential delay), or never: that balance ages.
- A few patient payments are partly refunded 1-30 days later.
Only what happened before "now" is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core_app.domain.catalog import DEFAULT_CATALOG
from simulator.params import CATEGORIES, MoneyParams
from simulator.timeline import BoolArray, IntArray

MINUTE = 60
DAY = 86_400
NEVER = np.int64(1) << np.int64(62)
FEES = {entry.code: entry.fee_cents for entry in DEFAULT_CATALOG}


def fee_cents(code_sets: list[tuple[str, ...]]) -> IntArray:
    """Fee of each code set (index-aligned)."""
    return np.array([sum(FEES[c] for c in codes) for codes in code_sets], dtype=np.int64)


def insurer_portion(
    p: MoneyParams, fee: IntArray, category: IntArray, insured: BoolArray
) -> IntArray:
    share = np.array([p.insurance_share[c] for c in CATEGORIES])[category]
    portion: IntArray = np.where(insured, np.round(fee * share), 0).astype(np.int64)
    return portion


def patient_paid_at(
    rng: np.random.Generator, p: MoneyParams, completed: IntArray, amount: IntArray
) -> IntArray:
    """When the patient pays their portion: at checkout, later, or NEVER (0 owed: checkout)."""
    n = len(completed)
    at_checkout = (rng.random(n) < p.pay_at_checkout_rate) | (amount <= 0)
    later = rng.random(n) < p.pay_later_rate
    delay = np.maximum(1, rng.exponential(p.pay_later_mean_days * 1440, n)).astype(np.int64)
    checkout = completed + rng.integers(0, 11, n) * MINUTE
    paid: IntArray = np.where(
        at_checkout, checkout, np.where(later, completed + delay * MINUTE, NEVER)
    )
    return paid


@dataclass(frozen=True)
class Payments:
    visit: IntArray  # appointment index
    amount: IntArray
    method: IntArray  # 0 card, 1 cash, 2 insurance
    received: IntArray
    refund_amount: IntArray  # 0: none
    refunded: IntArray


METHODS = ("card", "cash", "insurance")


def payments(
    rng: np.random.Generator,
    p: MoneyParams,
    now: int,
    visit: IntArray,
    completed: IntArray,
    patient_amount: IntArray,
    patient_paid: IntArray,
    insurer_amount: IntArray,
) -> Payments:
    """Every payment received before `now` for the completed visits given, with refunds."""
    n = len(visit)
    ins_delay = rng.integers(p.insurance_delay_days[0], p.insurance_delay_days[1] + 1, n) * DAY
    ins_at = completed + ins_delay + rng.integers(0, 480, n) * MINUTE
    ins_ok = (insurer_amount > 0) & (rng.random(n) < p.insurance_paid_rate) & (ins_at < now)
    pat_ok = (patient_amount > 0) & (patient_paid < now)
    cash = rng.random(n) < p.cash_share
    refund_draw = rng.random(n) < p.refund_rate
    refund_share = rng.uniform(0.1, 1.0, n)
    refund_delay = rng.integers(p.refund_delay_days[0], p.refund_delay_days[1] + 1, n) * DAY
    refund_at = patient_paid + refund_delay
    refund_ok = pat_ok & refund_draw & (refund_at < now)
    refund_amount = np.where(
        refund_ok, np.maximum(1, np.round(patient_amount * refund_share)).astype(np.int64), 0
    )
    pv = np.flatnonzero(pat_ok)
    iv = np.flatnonzero(ins_ok)
    return Payments(
        visit=np.concatenate([visit[pv], visit[iv]]),
        amount=np.concatenate([patient_amount[pv], insurer_amount[iv]]),
        method=np.concatenate([cash[pv].astype(np.int64), np.full(len(iv), 2, dtype=np.int64)]),
        received=np.concatenate([patient_paid[pv], ins_at[iv]]),
        refund_amount=np.concatenate([refund_amount[pv], np.zeros(len(iv), dtype=np.int64)]),
        refunded=np.concatenate([refund_at[pv], np.zeros(len(iv), dtype=np.int64)]),
    )
