"""scikit-learn estimators built on the solvers."""
