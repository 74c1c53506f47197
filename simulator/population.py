"""Patients: who they are (age, sex, home area and distance, insurance, contact preference),
when they join and leave the practice, their hygiene recall, and the latent no-show propensity
that no operational table records (it goes to the truth file only).

The starting population is registered before the first day of history; new patients join
through new-patient examinations (see `run.py`) and everybody leaves after an exponential
tenure, so the population turns over slowly.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from simulator.params import SimulationParams
from simulator.timeline import BoolArray, FloatArray, IntArray, Timeline

SEXES = ("female", "male", "other")
CONTACTS = ("sms", "email", "phone")
_FIRST = (
    "Alma Ben Carla Dev Elena Farid Grace Hugo Ines Jon Kira Liam Mona Nils Olga Pavel Quinn "
    "Rosa Sami Tara Uma Victor Wen Xenia Yusuf Zoe Amir Bianca Chloe Dario Emil Fatima Gus "
    "Hana Ivan Jade Kofi Lena Mateo Nadia Omar Pia Rafael Sofia Theo Vera Will Yara"
)
_LAST = (
    "Adams Brown Costa Diaz Evans Fischer Garcia Hill Ito Jones Khan Lopez Moore Novak Olsen "
    "Patel Quinn Reyes Silva Turner Umar Varga Wong Young Zhang Baker Cruz Dubois Egan Ford "
    "Gray Hughes Iqbal Jensen Kim Lund Meyer Nash Ortiz Park Ross Sato Tan Vogel Walsh"
)
FIRST_NAMES: tuple[str, ...] = tuple(_FIRST.split())
LAST_NAMES: tuple[str, ...] = tuple(_LAST.split())


@dataclass
class Population:
    clinic: IntArray  # clinic index 0..clinics-1
    birth_ordinal: IntArray  # date.toordinal() of the birth date
    sex: IntArray  # index into SEXES
    area: IntArray  # index into params.population.areas
    distance_km: FloatArray
    insured: BoolArray
    contact: IntArray  # index into CONTACTS
    latent: FloatArray  # latent no-show propensity (logit scale)
    join_epoch: IntArray  # created_at
    leave_day: IntArray  # day index from which the patient no longer books
    recall_interval: IntArray  # days; 0: not on recall
    first_name: IntArray
    last_name: IntArray

    def __len__(self) -> int:
        return len(self.clinic)

    def extend(self, other: Population) -> Population:
        return Population(
            **{
                f.name: np.concatenate([getattr(self, f.name), getattr(other, f.name)])
                for f in fields(self)
            }
        )


def draw_people(
    rng: np.random.Generator,
    params: SimulationParams,
    timeline: Timeline,
    clinic: IntArray,
    join_epoch: IntArray,
    join_day: IntArray,
) -> Population:
    """`len(clinic)` new patients of the given clinics, joining at the given times."""
    pop = params.population
    demand = params.demand
    n = len(clinic)
    # ages are drawn for the day the patient joins (or the first day of history)
    reference_ordinal = timeline.day(0).toordinal() + np.maximum(join_day, 0)
    band = rng.choice(len(pop.age_bands), size=n, p=np.asarray(pop.age_shares))
    low = np.array([b[0] for b in pop.age_bands])[band]
    high = np.array([b[1] for b in pop.age_bands])[band]
    age_days = ((low + rng.random(n) * (high - low + 1)) * 365.25).astype(np.int64)
    area = rng.choice(len(pop.areas), size=n, p=np.asarray(pop.area_shares))
    median = np.asarray(pop.area_median_km)[area]
    distance = np.round(median * np.exp(rng.normal(0.0, pop.distance_sd, n)), 1)
    tenure_days = rng.exponential(demand.mean_patient_tenure_years * 365.25, n)
    on_recall = rng.random(n) < demand.recall_share
    perio = rng.random(n) < demand.perio_share
    interval = np.where(perio, demand.perio_interval_days, demand.recall_interval_days)
    return Population(
        clinic=clinic.astype(np.int64),
        birth_ordinal=reference_ordinal - age_days,
        sex=rng.choice(3, size=n, p=np.asarray(pop.sex_shares)),
        area=area.astype(np.int64),
        distance_km=np.clip(distance, 0.1, 400.0),
        insured=rng.random(n) < params.money.insured_share,
        contact=rng.choice(3, size=n, p=np.asarray(pop.contact_shares)),
        latent=rng.normal(0.0, params.no_show.latent_sd, n),
        join_epoch=join_epoch.astype(np.int64),
        leave_day=(np.maximum(join_day, 0) + tenure_days).astype(np.int64),
        recall_interval=np.where(on_recall, interval, 0).astype(np.int64),
        first_name=rng.integers(0, len(FIRST_NAMES), n),
        last_name=rng.integers(0, len(LAST_NAMES), n),
    )


def starting_population(
    rng: np.random.Generator, params: SimulationParams, timeline: Timeline
) -> Population:
    """The patients registered before history begins, split evenly over the clinics."""
    per_clinic = np.full(params.clinics, params.patients // params.clinics)
    per_clinic[: params.patients % params.clinics] += 1
    clinic = np.repeat(np.arange(params.clinics), per_clinic)
    n = len(clinic)
    # registered 1 month to 10 years before the first day, in whole minutes
    before = (rng.uniform(30, 3650, n) * 1440).astype(np.int64) * 60
    join_epoch = int(timeline.midnight[0]) - before
    return draw_people(rng, params, timeline, clinic, join_epoch, np.zeros(n, dtype=np.int64))


def age_on(pop: Population, patient: IntArray, day_ordinal: IntArray) -> FloatArray:
    result: FloatArray = (day_ordinal - pop.birth_ordinal[patient]) / 365.25
    return result
