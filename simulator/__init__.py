"""Synthetic practice history with ground truth (see docs/simulator.md).

`simulator.run.simulate(params, settings)` builds clinics, providers and chairs through the
core's services, generates patients and years of appointments and payments, loads them through
the core's bulk path (`core_app.service_layer.history.load_history`), and writes the ground
truth and the open requests to parquet files.
"""
