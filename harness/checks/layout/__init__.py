"""The `layout.*` checks: the files and folder name of the submission (parent side only)."""
