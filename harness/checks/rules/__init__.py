"""The `rules.static` check: the course's import rules, read from the source (parent side only)."""
