"""The check groups, one folder each (`harness.checks.registry` lists them and every check id).

A group's `probe.py` runs in a sandboxed child next to the submission's code and returns plain data;
its `judge.py` runs in the parent and turns those records into `CheckResult`s. `model_steps/` is not a
group: it is the probe and its runner that the api, timing and psnr groups share. Importing this package
imports nothing else (a child imports a group's probe through it).

Within a group, a sibling module is imported by its full name (`import harness.checks.blocks.grids as
grids`), not as an attribute of the package (`from harness.checks.blocks import grids`): the attribute
can outlive the module in `sys.modules` (pytest's in-process runs drop the modules they imported), and
two copies of a module of dataclasses fail each other's `isinstance`.
"""
