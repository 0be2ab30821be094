"""Density weights (a molecular density fitted by the states' densities) and energy weights
(weights reproducing a reference energy, regularized toward CPE), and their consistency."""
