"""The `timing.*` checks: an epoch and a predict extrapolated from timed subsets."""
