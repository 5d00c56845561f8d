"""Code that runs inside a child process, next to the submission's code (see `harness.sandbox`).

Each probe is a function `probe(model: ModuleType, args: dict) -> dict` that exercises the imported
`Miniproject_2.model` and returns plain data (str, int, float, bool, None, lists, dicts, plain tensors).
Probes record what the submission did; the parent process judges it.
"""
