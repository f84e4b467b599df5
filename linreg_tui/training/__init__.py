"""Training, with torch: the data (d2l's synthetic_data), its statistics (ZᵀZ, the optimum, the
conditioning, the loss surface), the devices, the three engines, the loop that runs them, and sweeps.

Imported only when a run is asked for: what it reports is in linreg_tui.run's plain types.
"""
