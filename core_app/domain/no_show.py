"""No-show risk as the core keeps it: a probability from the current model for an upcoming
appointment, the plain-word factors behind it, and the band the front desk acts on.

The probability comes from outside the core (the model is scored by the pipelines); the band is
a rule of the clinic: its thresholds say from which probability an appointment counts as medium
or high risk.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import datetime

from core_app.domain.exceptions import ValidationError

#: at most this many factors per score, each at most this long (they are shown in a list)
MAX_FACTORS = 5
MAX_FACTOR_LENGTH = 200


class RiskBand(enum.StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@dataclass(frozen=True)
class RiskThresholds:
    """From `medium` on an appointment is medium risk, from `high` on high risk.

    The defaults sit around the published overall no-show rates of dental clinics (roughly
    8-25 %): medium is above the typical rate, high is about twice it."""

    medium: float = 0.15
    high: float = 0.30

    def __post_init__(self) -> None:
        if not (0.0 < self.medium < self.high < 1.0):
            raise ValidationError(
                f"risk thresholds need 0 < medium < high < 1, got medium {self.medium} "
                f"and high {self.high}"
            )

    def band(self, probability: float) -> RiskBand:
        if probability >= self.high:
            return RiskBand.HIGH
        if probability >= self.medium:
            return RiskBand.MEDIUM
        return RiskBand.LOW


@dataclass(frozen=True)
class NoShowScore:
    """One appointment's score as the model gave it."""

    appointment_id: int
    probability: float
    factors: tuple[str, ...]
    model_version: str
    scored_at: datetime

    def problems(self) -> list[str]:
        """What is wrong with this score (empty when it is fine)."""
        reasons = []
        if not (math.isfinite(self.probability) and 0.0 <= self.probability <= 1.0):
            reasons.append(f"probability must lie in [0, 1], got {self.probability}")
        if len(self.factors) > MAX_FACTORS:
            reasons.append(f"at most {MAX_FACTORS} factors, got {len(self.factors)}")
        if any(not f.strip() or len(f) > MAX_FACTOR_LENGTH for f in self.factors):
            reasons.append(f"factors must be non-empty and at most {MAX_FACTOR_LENGTH} characters")
        if not self.model_version.strip() or len(self.model_version) > 100:
            reasons.append("model version must be 1-100 characters")
        if self.scored_at.tzinfo is None:
            reasons.append("scored_at must be timezone-aware")
        return reasons


@dataclass(frozen=True)
class StoredRisk:
    """A stored score with its band, as the front desk sees it."""

    appointment_id: int
    clinic_id: int
    probability: float
    band: RiskBand
    factors: tuple[str, ...]
    model_version: str
    scored_at: datetime
