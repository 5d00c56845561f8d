"""The child side of the sandbox (`harness.sandbox`), shared by every check group's probe.

`child` isolates the process and runs one probe, `zygote` forks children from a warm interpreter,
`isolation` holds the layers, `capture` turns what a probe returns into plain data, `stand_ins`,
`deadline` and `rebinding` help probes run submission code, and `call` is the sandbox's own probe. The
check groups' probes live beside their judges, in `harness/checks/<group>/probe.py`: each is a
function `probe(model: ModuleType, args: dict) -> dict` that records what the submission did (plain
data: str, int, float, bool, None, lists, dicts, plain tensors); the parent process judges it.
"""
