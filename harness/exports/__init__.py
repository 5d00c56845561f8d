"""Class outputs read from the store of `harness grade`, never re-graded: the Moodle worksheet and feedback
files, Gradescope results, CSV tables, the class report with its figures, the regrade diff and code
similarity. Each is a plain function over `Sequence[GradedSubmission]`; the CLI only adds the store."""
