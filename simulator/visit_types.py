"""The kinds of visit the simulated practice books: codes, slot length, who does it, how often.

Codes come from the default catalog (`core_app.domain.catalog`). `rate` is visits per patient
per year (a modelling choice, see docs/simulator.md); hygiene recall visits and new-patient
examinations are driven by the recall and new-patient processes instead. `lead_days` is the
median booking lead time, with log-normal spread `lead_sd`; `None` means same-day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.params import CATEGORIES

DENTIST = 0
HYGIENE = 1  # a hygienist when there is one (with `hygienist_share`), else a dentist
EITHER = 2  # hygienist-capable treatment: a hygienist with `hygienist_share`


@dataclass(frozen=True)
class VisitType:
    name: str
    codes: tuple[str, ...]
    category: str
    minutes: int
    who: int
    rate: float
    lead_days: float | None
    lead_sd: float = 0.8


#: child prophylaxis and periodontal maintenance replace the adult codes of a recall visit
RECALL_ADULT = ("D1110",)
RECALL_ADULT_BITEWINGS = ("D1110", "D0274")
RECALL_CHILD = ("D1120", "D1206")
RECALL_PERIO = ("D4910",)

VISIT_TYPES: tuple[VisitType, ...] = (
    VisitType("recall", RECALL_ADULT, "hygiene", 60, HYGIENE, 0.0, 21.0, 0.7),
    VisitType("cleaning", RECALL_ADULT, "hygiene", 60, HYGIENE, 0.08, 14.0),
    VisitType("new_patient", ("D0150", "D0210"), "diagnostic", 75, DENTIST, 0.0, 10.0, 0.7),
    VisitType("exam", ("D0120", "D0274"), "diagnostic", 30, DENTIST, 0.3, 14.0),
    VisitType("emergency", ("D0140", "D0220"), "emergency", 30, DENTIST, 0.1, None),
    VisitType("palliative", ("D9110",), "emergency", 30, DENTIST, 0.05, None),
    VisitType("filling", ("D2391",), "restorative", 40, DENTIST, 0.25, 12.0, 0.7),
    VisitType("filling_2s", ("D2392",), "restorative", 50, DENTIST, 0.15, 12.0, 0.7),
    VisitType("anterior_filling", ("D2330",), "restorative", 30, DENTIST, 0.08, 12.0, 0.7),
    VisitType("crown_prep", ("D2950", "D2740"), "prosthodontic", 120, DENTIST, 0.05, 18.0),
    VisitType("crown", ("D2750",), "prosthodontic", 90, DENTIST, 0.03, 18.0),
    VisitType("denture", ("D5110",), "prosthodontic", 60, DENTIST, 0.01, 21.0),
    VisitType("root_canal", ("D3310",), "endodontic", 75, DENTIST, 0.02, 7.0, 0.6),
    VisitType("root_canal_molar", ("D3330",), "endodontic", 120, DENTIST, 0.03, 7.0, 0.6),
    VisitType("extraction", ("D7140",), "surgery", 30, DENTIST, 0.05, 7.0, 0.7),
    VisitType("surgical_extraction", ("D7210",), "surgery", 45, DENTIST, 0.03, 10.0),
    VisitType("impaction", ("D7240",), "surgery", 60, DENTIST, 0.015, 21.0),
    VisitType("implant", ("D6010",), "surgery", 120, DENTIST, 0.01, 28.0),
    VisitType("scaling", ("D4341",), "periodontic", 60, EITHER, 0.05, 14.0),
    VisitType("scaling_small", ("D4342",), "periodontic", 45, EITHER, 0.03, 14.0),
    VisitType("sealant", ("D1351", "D1206"), "preventive", 25, EITHER, 0.04, 21.0),
    VisitType("bleaching", ("D9972",), "preventive", 60, DENTIST, 0.02, 21.0),
    VisitType("orthodontic", ("D8090",), "orthodontic", 60, DENTIST, 0.01, 30.0),
)

TYPE_INDEX = {t.name: i for i, t in enumerate(VISIT_TYPES)}
RECALL = TYPE_INDEX["recall"]
NEW_PATIENT = TYPE_INDEX["new_patient"]
N_TYPES = len(VISIT_TYPES)

#: per-type arrays, for vectorised look-ups by type index
MINUTES = np.array([t.minutes for t in VISIT_TYPES], dtype=np.int64)
WHO = np.array([t.who for t in VISIT_TYPES], dtype=np.int64)
CATEGORY = np.array([CATEGORIES.index(t.category) for t in VISIT_TYPES], dtype=np.int64)
SAME_DAY = np.array([t.lead_days is None for t in VISIT_TYPES])
LEAD_MEDIAN = np.array([t.lead_days or 0.0 for t in VISIT_TYPES])
LEAD_SD = np.array([t.lead_sd for t in VISIT_TYPES])
RATE = np.array([t.rate for t in VISIT_TYPES])
IS_HYGIENE_SLOT = np.array([t.category == "hygiene" for t in VISIT_TYPES])

#: the hygienist share of HYGIENE and EITHER visits when the clinic has a hygienist
HYGIENIST_SHARE = {HYGIENE: 0.9, EITHER: 0.7}
