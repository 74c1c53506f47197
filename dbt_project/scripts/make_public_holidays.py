"""Regenerate seeds/public_holidays.csv from the `holidays` package (the one the simulator uses).

    .venv/bin/python dbt_project/scripts/make_public_holidays.py

Clinics close on their country's public holidays (as the simulator's clinics do); the seed lists
them for the countries and years below, with the same call the simulator makes
(`holidays.country_holidays(country, years=...)`, national holidays, observed days included).
Add a country or extend the years here and run the script again; a clinic whose country is not
in the seed gets no holidays (the seed's relationship test on clinics.country warns).
"""

from __future__ import annotations

import csv
from pathlib import Path

import holidays

COUNTRIES = ("US", "CA", "GB", "IE", "AU", "NZ", "DE", "FR", "ES", "IT", "NL", "BE", "CH", "AT")
YEARS = range(2010, 2041)
SEED = Path(__file__).resolve().parent.parent / "seeds" / "public_holidays.csv"


def rows() -> list[tuple[str, str, str]]:
    found = []
    for country in COUNTRIES:
        calendar = holidays.country_holidays(country, years=YEARS)
        for day in sorted(calendar):
            found.append((country, day.isoformat(), str(calendar.get(day))))
    return found


def main() -> None:
    with SEED.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(("country", "holiday_date", "holiday_name"))
        writer.writerows(rows())


if __name__ == "__main__":
    main()
