"""Sizing a simulated practice by the number of appointments wanted (the benchmarks' way)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from simulator.generate import generate
from simulator.params import SimulationParams


@dataclass(frozen=True)
class Sized:
    params: SimulationParams
    per_clinic: int  # appointments one clinic makes, from the pilot


def sized_for(
    appointments: int, *, years: float, patients_per_clinic: int, seed: int, today: date
) -> Sized:
    """A pilot (one clinic of `patients_per_clinic` patients over `years`, arrays only) tells
    how many appointments a clinic makes; enough such clinics reach `appointments`."""

    def params(clinics: int) -> SimulationParams:
        return SimulationParams(
            clinics=clinics,
            years=years,
            patients=clinics * patients_per_clinic,
            seed=seed,
            today=today,
        )

    per_clinic = len(generate(params(1)).appointments)
    return Sized(params(max(1, math.ceil(appointments / per_clinic))), per_clinic)
