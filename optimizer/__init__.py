"""Schedule optimizer: risk-aware slot suggestions (CP-SAT), validation and simulation scoring.

Imports only ortools, pydantic, numpy and the standard library: no project package, no I/O.
"""
