"""Grading a class: discovery of the submissions, the store of graded reports, the executors."""
