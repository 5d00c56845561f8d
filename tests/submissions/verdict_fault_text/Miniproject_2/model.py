"""Verdict fixture (an attack on whose fault it is): model.py raises at import with a message that
names the harness's own probe file, as a harness bug's traceback would. It must stay the submission's
fault: fault comes from what the harness records, never from the text of an error."""

raise RuntimeError('File "harness/checks/model_steps/probe.py", line 120, in probe_surface: harness bug')
