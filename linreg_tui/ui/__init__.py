"""The Textual app. Imports the training core; the core never imports this package."""
