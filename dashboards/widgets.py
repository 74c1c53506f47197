"""Small layout helpers shared by the pages: a table with its CSV download, error display."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards.format import money


def table(
    frame: pd.DataFrame, *, name: str, key: str, currency: str | None = None, show: bool = True
) -> None:
    """Show a table (money columns formatted) with a button to download it as CSV (raw cents);
    `show=False`: only the button (the page shows the rows its own way)."""
    shown = frame.copy()
    if currency:
        for column in [c for c in shown.columns if c.endswith("_cents")]:
            shown[column.removesuffix("_cents")] = shown[column].map(lambda v: money(v, currency))
            shown = shown.drop(columns=column)
    if show:
        st.dataframe(shown, hide_index=True, width="stretch")
    st.download_button(
        f"Download {name} (CSV)",
        data=frame.to_csv(index=False).encode("utf-8"),
        file_name=f"{key}.csv",
        mime="text/csv",
        key=f"download-{key}",
    )
