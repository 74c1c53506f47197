"""No-show model speed: training time and scoring throughput at size.

    python bench/ml.py --appointments 1000000
    python bench/ml.py --appointments 100000 --rounds 100

Builds a frame shaped like `marts.ml_no_show_features` for about `--appointments`
appointments straight from the simulator's arrays (`simulator.generate`, the same mirror as the
model tests' fixture, `tests/models/conftest.py`; no database and no warehouse, so the figures
are the library's own), a small pilot deciding how many clinics. Then it times

1. training (`models.no_show.train.fit`): the feature pipeline and the xgboost classifier on
   every labelled appointment before the calibration window, and the calibration on that
   window (the split of `models.no_show.features.split_by_time`);
2. scoring (`NoShowModel.predict_proba`, features and calibration included) of every
   appointment, the median of three passes;
3. explanations (`models.no_show.explain.explain`) of 20 000 appointments.

Wall-clock figures (`train_s`, `score_per_s`) and, beside them, the process's CPU time
(`train_cpu_s`, `score_per_cpu_s`), which on a shared machine shows the work apart from waiting
for a CPU.

Nothing is written to disk, so DENTOPS_DATA_DIR is not used. Progress goes to stderr; the last
line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import date
from typing import Any

from models.no_show import explain, features
from models.no_show.train import BoostingParams, fit
from simulator.generate import generate
from simulator.sizing import sized_for
from tests.models.conftest import mart_frame

EXPLAINED = 20_000


def log(message: str) -> None:
    print(f"ml-bench: {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--patients-per-clinic", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=BoostingParams.n_estimators)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--today", default="2026-06-30")
    args = parser.parse_args(argv)
    today = date.fromisoformat(args.today)

    sized = sized_for(
        args.appointments,
        years=args.years,
        patients_per_clinic=args.patients_per_clinic,
        seed=args.seed,
        today=today,
    )
    clinics = sized.params.clinics
    log(f"{sized.per_clinic} appointments per clinic: {clinics} clinics")
    started = time.perf_counter()
    frame = mart_frame(generate(sized.params))
    log(f"{len(frame)} appointments generated in {time.perf_counter() - started:.1f} s")

    split = features.split_by_time(frame)
    boosting = BoostingParams(n_estimators=args.rounds, n_jobs=args.threads, seed=args.seed)
    started, cpu_started = time.perf_counter(), time.process_time()
    model = fit(split.train, split.calibration, boosting)
    train_s = time.perf_counter() - started
    train_cpu_s = time.process_time() - cpu_started
    log(f"trained on {len(split.train)} rows in {train_s:.1f} s")

    passes, cpu_passes = [], []
    for _ in range(3):
        started, cpu_started = time.perf_counter(), time.process_time()
        model.predict_proba(frame)
        passes.append(time.perf_counter() - started)
        cpu_passes.append(time.process_time() - cpu_started)
    score_s = statistics.median(passes)
    score_cpu_s = statistics.median(cpu_passes)
    log(f"scored {len(frame)} rows in {score_s:.2f} s (median of 3)")

    sample = frame.head(EXPLAINED)
    started = time.perf_counter()
    explain.explain(model, sample)
    explain_s = time.perf_counter() - started

    return {
        "appointments": len(frame),
        "clinics": clinics,
        "train_rows": len(split.train),
        "calibration_rows": len(split.calibration),
        "rounds": args.rounds,
        "threads": args.threads,
        "train_s": round(train_s, 2),
        "score_rows": len(frame),
        "score_s": round(score_s, 3),
        "score_per_s": round(len(frame) / score_s),
        # CPU time of this process: on a shared machine, the work done apart from waiting
        "train_cpu_s": round(train_cpu_s, 2),
        "score_cpu_s": round(score_cpu_s, 3),
        "score_per_cpu_s": round(len(frame) / score_cpu_s),
        "explain_per_s": round(len(sample) / explain_s),
        "cpus": os.cpu_count(),
    }


if __name__ == "__main__":
    print(json.dumps(main()))
