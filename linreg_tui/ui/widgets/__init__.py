"""Small pieces the panels and charts share: texts that fit their width without cutting a word or a
number (fitting.py), legends that wrap between keys (legend.py), and text that lays out only when its
height changes (quiet_static.py)."""
