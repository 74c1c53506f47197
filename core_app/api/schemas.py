"""Input and output schemas. Inputs forbid unknown fields; outputs list what a client may see
(never a password hash, a ciphertext, a key id or a TOTP secret after enrolment)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from core_app.domain.billing import PaymentMethod
from core_app.domain.patient import ContactPreference
from core_app.domain.practice import ProviderKind
from core_app.domain.request import RequestKind
from core_app.domain.staff import Role

T = TypeVar("T")

MAX_ID = 2_147_483_647
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Cents = Annotated[int, Field(gt=0, le=1_000_000_000, description="Integer cents.")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. USD.")]
Text = Annotated[str, Field(min_length=1, max_length=200)]


def _sane_year(value: datetime) -> datetime:
    if not 2000 <= value.year <= 2100:
        raise ValueError("the year must lie between 2000 and 2100")
    return value


def _sane_date(value: date) -> date:
    if not 1850 <= value.year <= 2100:
        raise ValueError("the year must lie between 1850 and 2100")
    return value


When = Annotated[AwareDatetime, AfterValidator(_sane_year)]
Day = Annotated[date, AfterValidator(_sane_date)]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Page(Out, Generic[T]):
    items: list[T]
    limit: int = Field(description="The page size asked for.")
    offset: int = Field(description="How many items were skipped.")
    next_offset: int | None = Field(description="The offset of the next page; null on the last.")


# --- authentication ---


class SignIn(In):
    username: Annotated[str, Field(min_length=1, max_length=40)]
    password: Annotated[str, Field(min_length=1, max_length=200)]
    totp_code: Annotated[str | None, Field(pattern=r"^[0-9]{6}$")] = None


class UserOut(Out):
    user_id: int
    username: str
    role: Role
    clinic_id: int | None


class SessionOut(Out):
    token: str = Field(description="Send as `Authorization: Bearer <token>`; shown once.")
    token_type: str = "bearer"  # noqa: S105 - the scheme's name, not a secret
    expires_at: datetime = Field(description="The absolute end of the session.")
    idle_timeout_s: int = Field(description="The session ends after this long unused.")
    user: UserOut


class TotpEnrolOut(Out):
    secret: str = Field(description="Base32 secret for the authenticator app; shown once.")
    provisioning_uri: str


class TotpConfirm(In):
    code: Annotated[str, Field(pattern=r"^[0-9]{6}$")]


# --- practice ---


class ClinicIn(In):
    name: Text
    timezone: Annotated[str, Field(min_length=1, max_length=64, examples=["America/New_York"])]
    currency: Currency
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
    hours: Annotated[str, Field(min_length=1, max_length=200, examples=["mon-fri 08:00-17:00"])]


class ClinicOut(Out):
    clinic_id: int
    name: str
    timezone: str
    currency: str
    country: str
    opening_hours: str


class ProviderIn(In):
    name: Text
    kind: ProviderKind
    clinic_id: Id
    hours: Annotated[str, Field(min_length=1, max_length=200, examples=["mon-fri 08:00-17:00"])]


class ProviderOut(Out):
    provider_id: int
    name: str
    kind: ProviderKind
    hours: dict[str, str] = Field(description="Weekly hours per clinic id.")


class ChairIn(In):
    name: Text


class ChairOut(Out):
    chair_id: int
    clinic_id: int
    name: str


class ProcedureOut(Out):
    code: str
    name: str
    category: str
    duration_min: int
    fee_cents: int
    hygienist_allowed: bool


class FeeIn(In):
    fee_cents: Annotated[int, Field(ge=0, le=1_000_000_000)]


# --- patients and money ---


class PatientIn(In):
    clinic_id: Id
    first_name: Text
    last_name: Text
    birth_date: Day
    phone: Annotated[str | None, Field(max_length=20)] = None
    email: Annotated[str | None, Field(max_length=200)] = None
    notes: Annotated[str | None, Field(max_length=2000)] = None
    has_insurance: bool = False
    contact_preference: ContactPreference = ContactPreference.SMS


class PatientOut(Out):
    patient_id: int
    clinic_id: int
    first_name: str
    last_name: str
    birth_date: date
    phone: str | None
    email: str | None
    notes: str | None
    contact_preference: str


class BalanceOut(Out):
    patient_id: int
    currency: str
    charged_cents: int
    paid_cents: int
    refunded_cents: int
    balance_cents: int = Field(description="Positive: the patient owes; negative: a credit.")
    open_cents: int
    credit_cents: int
    ageing: dict[str, int] = Field(description="Open cents per age bucket.")


class PaymentIn(In):
    patient_id: Id
    amount_cents: Cents
    currency: Currency
    method: PaymentMethod
    appointment_id: Id | None = None
    reference: Annotated[str | None, Field(max_length=200)] = None


class RefundIn(In):
    amount_cents: Cents
    reason: Text


class RefundOut(Out):
    refund_id: int
    payment_id: int
    amount_cents: int
    reason: str
    refunded_at: datetime


class PaymentOut(Out):
    payment_id: int
    clinic_id: int
    patient_id: int
    appointment_id: int | None
    amount_cents: int
    currency: str
    method: str
    received_at: datetime
    reference: str | None
    refunded_cents: int
    refunds: list[RefundOut]


class CardPaymentIn(In):
    patient_id: Id
    amount_cents: Cents
    currency: Currency
    appointment_id: Id | None = None


class CardPaymentOut(Out):
    processor: str
    status: str
    payment_id: int | None = Field(description="Set when the payment is recorded at once.")
    intent_id: str | None = Field(description="The processor's payment intent, if any.")
    client_secret: str | None = Field(description="For the patient's card form (Stripe).")


class WebhookOut(Out):
    event_id: str
    outcome: str = Field(description="recorded, duplicate or ignored")
    payment_id: int | None


# --- appointments ---


class BookIn(In):
    patient_id: Id
    provider_id: Id
    chair_id: Id
    start_at: When
    procedure_codes: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=20)]], Field(min_length=1, max_length=10)
    ]
    end_at: When | None = None
    overbook_of: Id | None = Field(None, description="Overbook onto this appointment.")


class CancelIn(In):
    reason: Text


class RescheduleIn(In):
    start_at: When
    provider_id: Id | None = None
    chair_id: Id | None = None
    reason: Annotated[str | None, Field(max_length=200)] = None


class AppointmentOut(Out):
    appointment_id: int
    start_at: datetime
    end_at: datetime
    local_start: str
    local_end: str
    status: str
    patient_id: int
    patient_name: str
    provider_id: int
    chair_id: int
    procedure_codes: list[str]
    fee_cents: int
    currency: str
    is_overbook: bool
    overbook_of_appointment_id: int | None
    is_late_cancel: bool
    reschedule_count: int


class RiskOut(Out):
    appointment_id: int
    probability: float
    band: str
    factors: list[str]
    model_version: str
    scored_at: datetime


# --- requests and suggestions ---


class RequestIn(In):
    clinic_id: Id
    kind: RequestKind
    patient_id: Id | None = None
    procedure_codes: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=20)]], Field(min_length=1, max_length=10)
    ]
    earliest_date: Day
    latest_date: Day
    urgency: Annotated[int, Field(ge=1, le=3)] = 2
    preferred_provider_id: Id | None = None
    preferred_hours: Annotated[str | None, Field(max_length=200)] = None


class RequestOut(Out):
    request_id: int
    clinic_id: int
    patient_id: int | None
    kind: str
    procedure_codes: list[str]
    duration_min: int
    preferred_provider_id: int | None
    preferred_hours: str | None
    earliest_date: date
    latest_date: date
    urgency: int
    status: str
    appointment_id: int | None
    requested_at: datetime


class SuggestionOut(Out):
    suggestion_id: int
    request_id: int
    clinic_id: int
    patient_id: int | None
    kind: str | None
    procedure_codes: list[str]
    provider_id: int
    chair_id: int
    start_at: datetime
    end_at: datetime
    overbook_of_appointment_id: int | None
    score: float
    reasons: list[str]
    status: str
    decided_at: datetime | None
    reject_reason: str | None
    appointment_id: int | None


class AcceptIn(In):
    patient_id: Id | None = Field(None, description="For a new patient's request: their id.")


class RejectIn(In):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


# --- reminders ---


class ReminderOut(Out):
    reminder_id: int
    kind: str
    channel: str
    due_at: datetime
    status: str
    attempts: int
    sent_at: datetime | None
