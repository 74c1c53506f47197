"""Every parameter of the simulation, with its default. Sources and reasons: docs/simulator.md.

Values marked *modelling choice* in the docs are not taken from a study; they give a plausible
general practice and can be changed here (or through `SimulationParams(...)` in code).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from core_app.domain.exceptions import ValidationError

#: the categories of the default catalog (core_app.domain.catalog) the simulator uses
CATEGORIES: tuple[str, ...] = (
    "diagnostic",
    "preventive",
    "hygiene",
    "restorative",
    "endodontic",
    "periodontic",
    "prosthodontic",
    "surgery",
    "orthodontic",
    "emergency",
)


@dataclass(frozen=True)
class DemandParams:
    """Daily demand intensity per clinic x visit type (see `demand.py`)."""

    #: relative demand Monday..Sunday (Sunday is closed by the default opening hours)
    weekday_weight: tuple[float, ...] = (1.05, 1.0, 1.0, 1.0, 0.9, 0.5, 0.0)
    #: emergencies come more on Mondays (the weekend's toothaches)
    emergency_monday_boost: float = 1.5
    #: amplitude of the yearly cycle (log scale), peak day of year, and a second harmonic
    yearly_amplitude: float = 0.08
    yearly_peak_doy: int = 20
    half_year_amplitude: float = 0.05
    half_year_peak_doy: int = 75
    #: extra dip from Dec 20 to Jan 2 (families away) and in July-August (summer holidays)
    year_end_factor: float = 0.7
    summer_factor: float = 0.9
    #: demand on the open day right before or after a public holiday
    bridge_day_factor: float = 0.85
    #: the clinics close on the public holidays of `country` (the `holidays` package)
    close_on_public_holidays: bool = True
    #: growth of demand per year (linear), e.g. 0.03 = +3 % a year
    trend_per_year: float = 0.03
    #: share of patients on hygiene recall, its interval, and the share who keep a due recall
    recall_share: float = 0.75
    recall_interval_days: int = 182
    perio_share: float = 0.10  # of recall patients: periodontal maintenance every 91 days
    perio_interval_days: int = 91
    recall_compliance: float = 0.75
    recall_jitter_days: float = 10.0
    #: new patients a year as a share of the starting population (they also leave at this rate)
    new_patient_rate: float = 0.12
    mean_patient_tenure_years: float = 8.0


@dataclass(frozen=True)
class CapacityParams:
    """How many providers and chairs each clinic gets for its demand."""

    target_utilisation: float = 0.82
    extra_chairs: int = 1
    max_spill_days: int = 6


@dataclass(frozen=True)
class BookingParams:
    """Lead times, reminders, confirmation, cancellation, rescheduling, refilling."""

    #: share of recall visits booked at the previous hygiene visit ("pre-appointed")
    preappointed_share: float = 0.55
    reminder_days: tuple[int, ...] = (7, 2)
    confirm_rate: float = 0.65
    #: cancellation: logistic intercept, effect per log(1 + lead days), latent propensity share
    cancel_intercept: float = -3.1
    cancel_lead: float = 0.35
    cancel_latent: float = 0.4
    #: Beta(a, b) of when, between booking and start, a cancellation comes (skewed late)
    cancel_timing_beta: tuple[float, float] = (2.5, 1.0)
    reschedule_share: float = 0.05
    refill_early_rate: float = 0.5  # cancelled 24 h or more ahead
    refill_late_rate: float = 0.15


@dataclass(frozen=True)
class NoShowParams:
    """The ground-truth no-show model: logit(p) = sum of these terms (see `no_show.py`)."""

    intercept: float = -3.75
    lead_per_log_day: float = 0.42  # x log(1 + lead days)
    prior_per_log_count: float = 1.0  # x log(1 + earlier no-shows)
    #: earlier no-shows count within this window before the appointment, at most prior_cap
    prior_window_days: int = 730
    prior_cap: int = 4
    #: age bands: <18, 18-29, 30-49, 50-64, 65+
    age_effect: tuple[float, ...] = (-0.15, 0.35, 0.15, 0.0, -0.25)
    weekday_effect: tuple[float, ...] = (0.1, 0.0, 0.0, 0.0, 0.15, 0.2, 0.2)
    early_hour_effect: float = -0.05  # starts before 10:00
    late_hour_effect: float = 0.15  # starts at 15:00 or later
    category_effect: dict[str, float] = field(
        default_factory=lambda: {
            "diagnostic": 0.15,
            "preventive": 0.2,
            "hygiene": 0.15,
            "restorative": 0.0,
            "endodontic": 0.15,
            "periodontic": 0.05,
            "prosthodontic": -0.3,
            "surgery": -0.2,
            "orthodontic": 0.0,
            "emergency": -0.4,
        }
    )
    per_reminder: float = -0.25
    distance_per_log_km: float = 0.2  # x log(1 + km)
    balance_owed: float = 0.35
    uninsured: float = 0.2
    latent_sd: float = 0.8


@dataclass(frozen=True)
class DayParams:
    """What happens on the day: arrival and actual duration."""

    arrival_mean_min: float = -6.0  # negative: early
    arrival_sd_min: float = 7.0
    #: log-normal spread of actual/booked duration per category (median 1)
    duration_sd: dict[str, float] = field(
        default_factory=lambda: {
            "diagnostic": 0.15,
            "preventive": 0.15,
            "hygiene": 0.12,
            "restorative": 0.2,
            "endodontic": 0.25,
            "periodontic": 0.18,
            "prosthodontic": 0.22,
            "surgery": 0.3,
            "orthodontic": 0.15,
            "emergency": 0.3,
        }
    )
    no_show_mark_after_min: tuple[int, int] = (15, 40)


@dataclass(frozen=True)
class MoneyParams:
    """Insurance portions, payment behaviour, refunds."""

    insured_share: float = 0.65
    #: share the insurer pays by category ("100-80-50" plan design)
    insurance_share: dict[str, float] = field(
        default_factory=lambda: {
            "diagnostic": 1.0,
            "preventive": 1.0,
            "hygiene": 1.0,
            "restorative": 0.8,
            "endodontic": 0.8,
            "periodontic": 0.8,
            "surgery": 0.8,
            "emergency": 0.8,
            "prosthodontic": 0.5,
            "orthodontic": 0.5,
        }
    )
    insurance_paid_rate: float = 0.95
    insurance_delay_days: tuple[int, int] = (14, 45)
    pay_at_checkout_rate: float = 0.8
    pay_later_rate: float = 0.6  # of those who did not pay at checkout
    pay_later_mean_days: float = 25.0
    cash_share: float = 0.2
    refund_rate: float = 0.015
    refund_delay_days: tuple[int, int] = (1, 30)


@dataclass(frozen=True)
class PopulationParams:
    """Who the patients are (see `population.py`)."""

    #: age bands (years) and their shares
    age_bands: tuple[tuple[int, int], ...] = ((2, 17), (18, 29), (30, 49), (50, 64), (65, 90))
    age_shares: tuple[float, ...] = (0.2, 0.15, 0.3, 0.2, 0.15)
    sex_shares: tuple[float, float, float] = (0.51, 0.48, 0.01)  # female, male, other
    areas: tuple[str, ...] = ("Centre", "North", "East", "South", "West", "Outskirts")
    #: median home distance (km) per area, log-normal spread
    area_median_km: tuple[float, ...] = (1.5, 4.0, 5.0, 6.0, 8.0, 18.0)
    area_shares: tuple[float, ...] = (0.22, 0.2, 0.18, 0.18, 0.12, 0.1)
    distance_sd: float = 0.45
    contact_shares: tuple[float, float, float] = (0.6, 0.25, 0.15)  # sms, email, phone


@dataclass(frozen=True)
class SimulationParams:
    clinics: int = 1
    years: float = 1.0
    patients: int = 2000  # starting population, all clinics together
    seed: int = 7
    today: date = field(default_factory=date.today)
    future_weeks: int = 6
    country: str = "US"
    timezone: str = "America/New_York"
    currency: str = "USD"
    opening_hours: str = "mon-fri 08:00-17:00; sat 08:00-13:00"
    demand: DemandParams = field(default_factory=DemandParams)
    capacity: CapacityParams = field(default_factory=CapacityParams)
    booking: BookingParams = field(default_factory=BookingParams)
    no_show: NoShowParams = field(default_factory=NoShowParams)
    day: DayParams = field(default_factory=DayParams)
    money: MoneyParams = field(default_factory=MoneyParams)
    population: PopulationParams = field(default_factory=PopulationParams)

    def __post_init__(self) -> None:
        if not 1 <= self.clinics <= 500:
            raise ValidationError("clinics must be 1..500")
        if not 0 < self.years <= 20:
            raise ValidationError("years must be more than 0 and at most 20")
        if self.patients < 10 * self.clinics:
            raise ValidationError("give at least 10 patients per clinic")
        if not 0 <= self.future_weeks <= 52:
            raise ValidationError("future weeks must be 0..52")
        if self.today > date.today() + timedelta(days=366):
            raise ValidationError("--today may lie at most a year ahead of the real date")

    @property
    def history_days(self) -> int:
        return max(1, round(self.years * 365.25))
