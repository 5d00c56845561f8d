"""Class outputs read from the store of `harness grade`, never re-graded: the Moodle worksheet and feedback
files, Gradescope results, CSV tables, the class report with its figures, the regrade diff and code
similarity. Each is a plain function over `Sequence[GradedSubmission]`; the CLI only adds the store."""

EXPORT_FORMATS = ("moodle", "gradescope", "csv", "report")
"""What `harness export --format` writes (see `harness.exports.export`)."""
SIMILARITY_THRESHOLD = 0.6
"""A pair is listed when at least this share of one side's fingerprinted code is shared."""
