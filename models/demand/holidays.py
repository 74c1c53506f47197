"""Public holidays as prophet's holiday DataFrame (`holiday`, `ds`), from the `holidays` package."""

from __future__ import annotations

from datetime import date

import holidays as calendars
import pandas as pd


def holidays_frame(country: str, first: date, last: date) -> pd.DataFrame:
    """The public holidays of `country` (ISO code) between `first` and `last`, inclusive.

    One row per holiday date; the name is the holiday's own, so prophet fits one effect per
    named holiday (Christmas in every year shares one effect). Raises ValueError for a country
    the package does not know."""
    try:
        calendar = calendars.country_holidays(country, years=range(first.year, last.year + 1))
    except NotImplementedError as error:
        raise ValueError(f"no public holidays known for country {country!r}") from error
    rows = [(str(name), day) for day, name in sorted(calendar.items()) if first <= day <= last]
    return pd.DataFrame(
        {
            "holiday": [name for name, _ in rows],
            "ds": pd.to_datetime([day for _, day in rows]),
        },
        columns=["holiday", "ds"],
    )
