"""The `api.*` checks: the statement's Model interface, run through `harness.checks.model_steps`."""
