"""ML libraries of dentops: plain DataFrames in, fitted models, scores and metrics out.

No I/O of the warehouse or the core here (import-linter forbids core_app, pipelines, duckdb,
sqlalchemy, ...): `pipelines` reads the marts, calls these functions and writes the results.
- `models.no_show`: calibrated no-show risk per appointment (xgboost), baselines, metrics,
  plain-word explanations, a file registry with a promotion rule.
- `models.demand`: daily demand forecasts (prophet) and their backtest.
"""
