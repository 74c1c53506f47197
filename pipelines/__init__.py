"""Pipelines: load the operational core into the DuckDB warehouse and build it with dbt.

The only composer of the system's parts (see docs/warehouse.md); never imports core_app.adapters.
"""
