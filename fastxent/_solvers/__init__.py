"""Logistic regression solvers: whole fits in compiled code, no validation."""
