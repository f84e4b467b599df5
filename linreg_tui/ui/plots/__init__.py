"""The charts: the loss (live, with earlier runs), the data with the fitted line, the loss landscape
with SGD's path, the parameters over time, the error against n; and what they share (plotting.py's
cached plot, series.py's decimated loss series, tracked.py's kept path)."""
