"""No-show risk: features of `marts.ml_no_show_features` -> calibrated xgboost -> probability,
with baselines, metrics against labels (and the simulator's truth), plain-word explanations
and a registry with a promotion rule.

Modules, one stage each: `features` (columns, sklearn preprocessing, split by time), `train`
(classifier and calibration), `baselines`, `metrics`, `evaluate`, `explain`, `registry`.
"""
