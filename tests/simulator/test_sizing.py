"""The benchmarks size a practice by the appointments wanted, from a one-clinic pilot."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from simulator.generate import generate
from simulator.sizing import sized_for


def test_enough_clinics_to_reach_the_appointments_wanted() -> None:
    sized = sized_for(5_000, years=0.5, patients_per_clinic=600, seed=3, today=date(2026, 6, 30))
    pilot = generate(replace(sized.params, clinics=1, patients=600))
    assert sized.per_clinic == len(pilot.appointments) > 0
    clinics = sized.params.clinics
    assert clinics == -(-5_000 // sized.per_clinic)
    assert sized.params.patients == 600 * clinics
    assert len(generate(sized.params).appointments) >= 0.8 * 5_000
