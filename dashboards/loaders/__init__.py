"""Data loaders, one module per page: plain functions returning DataFrames and dataclasses, so
they can be benchmarked (bench/dashboard.py) and tested without Streamlit."""
