"""Use cases, each one transaction, and the read-side queries for screens and the warehouse."""
