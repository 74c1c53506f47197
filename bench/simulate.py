"""Simulator throughput: generate and load a practice history of a given size.

    python bench/simulate.py --appointments 1000000
    python bench/simulate.py --appointments 100000 --years 1

Builds under DENTOPS_DATA_DIR (a fresh temporary folder, removed afterwards, when unset). A
small pilot (one clinic of `--patients-per-clinic` patients over `--years`, arrays only) tells
how many appointments a clinic makes; the run then takes enough such clinics to reach the
target, and times `simulator.run.simulate` (database set-up, generation, the bulk load through
the core's rule checks, truth and request files). Progress goes to stderr; the last line on
stdout is one JSON object: appointments, seconds, appointments_per_s, cpu_seconds, cpu_count,
the load average before and after, the sizes and the phases' seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from core_app.config import Settings
from simulator.run import simulate
from simulator.sizing import sized_for


def log(message: str) -> None:
    print(f"simulate-bench: {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appointments", type=int, default=1_000_000)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--patients-per-clinic", type=int, default=5000)
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
    params, per_clinic, clinics = sized.params, sized.per_clinic, sized.params.clinics
    log(f"pilot: {per_clinic} appointments a clinic; running {clinics} clinics")

    given = os.environ.get("DENTOPS_DATA_DIR")
    folder = Path(given) if given else Path(tempfile.mkdtemp(prefix="dentops-bench-simulate-"))
    load_before = os.getloadavg()
    try:
        cpu0, wall0 = time.process_time(), time.perf_counter()
        summary = simulate(
            params,
            Settings(data_dir=folder),
            progress=lambda message: log(message),
        )
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    finally:
        if not given:
            shutil.rmtree(folder, ignore_errors=True)
    result = {
        "appointments": summary["appointments"],
        "seconds": round(wall, 2),
        "appointments_per_s": round(summary["appointments"] / wall),
        "cpu_seconds": round(cpu, 2),
        "cpu_count": os.cpu_count(),
        "load_average_before": [round(x, 1) for x in load_before],
        "load_average_after": [round(x, 1) for x in os.getloadavg()],
        "clinics": clinics,
        "years": args.years,
        "patients": summary["patients"],
        "payments": summary["payments"],
        "no_show_rate": summary["no_show_rate"],
        "phases_seconds": summary["seconds"],
    }
    print(json.dumps(result, sort_keys=True))
    return result


if __name__ == "__main__":
    main()
