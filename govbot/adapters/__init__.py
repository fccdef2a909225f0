"""Front ends: each translates a platform's events into commands and renders replies."""
