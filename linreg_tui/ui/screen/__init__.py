"""The main screen and its parts. main_screen.py composes the panels and routes keys (keys.py) and
messages; each part gets the panels (views.py), what the parts share about the runs (session.py) and
the callbacks it needs, never the screen itself: the panels' arrangement (layout.py), a run's start,
stop and steps (run_driver.py), its events into the panels (run_view.py), the form's preview and
estimate (form_watch.py), sweeps (sweep_runner.py), the share keys (share_actions.py, file_places.py),
and the pace of the frames (pacing.py)."""
