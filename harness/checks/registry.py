"""The one table of checks: every check id, its group, and each group's category, probe and judge.

Everything that names checks or groups is derived from `GROUPS`: the rubric's known ids and their
categories (`CHECK_CATEGORIES`, also the report order), the `--check-groups` choices of the CLI and
the pytest plugin (`group_named`), what a run restricted to some groups judges (`group_checks`), the
report schema's category enum, and which groups `harness.check` runs alone.

One word per group: its name is its report category (`Category` value), its folder under
`harness/checks/` is that word spelled as a Python name (`runtime-rules` -> `runtime_rules/`), and
`group_named` accepts either spelling. Check ids are older than the groups and are stored in rubrics,
reports and grading stores, so they are not renamed: the ids of a group are listed here, and most
start with the group's name (the two rules groups share the `rules.` prefix: `rules.static`,
`rules.runtime`).

Points, `required` and `partial` are the rubric's (`harness/rubrics/*.toml`), never this table's: a
rubric may weigh the same checks differently.

This module imports nothing but `harness.results`: the child imports `harness.checks.<group>.probe`
through the `harness.checks` package, and the rubric imports this table.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from harness.results import Category

MODEL_STEPS_PROBE = "harness.checks.model_steps.probe"
"""The probe module the Model-level groups (api, timing, psnr) share."""


@dataclass(frozen=True)
class Group:
    """One check group: the checks it produces (in report order) and where its code lives.

    `probe` is the module whose functions its children run (None: the group reads files in the parent
    only); `start` is its place in the start order (the slowest groups start first, so the last group to
    finish is a short one); `alone` groups run after the others with no other check of the submission
    beside them (a timing taken while other children compete for the cores measures the machine).
    """

    category: Category
    checks: tuple[str, ...]
    judge: str
    """The module whose `run(ctx) -> list[CheckResult]` runs the group in the parent."""
    probe: str | None
    start: int
    alone: bool = False

    @property
    def name(self) -> str:
        """The group's name: its category's, e.g. `runtime-rules`."""
        return self.category.value

    @property
    def folder(self) -> str:
        """Its folder under `harness/checks/`: the name spelled as a Python name, `runtime_rules`."""
        return self.name.replace("-", "_")


GROUPS: tuple[Group, ...] = (
    Group(
        Category.LAYOUT,
        ("layout.files", "layout.folder-name", "layout.bestmodel", "layout.report", "layout.stray-files"),
        judge="harness.checks.layout.judge",
        probe=None,
        start=5,
    ),
    Group(Category.RULES, ("rules.static",), judge="harness.checks.rules.judge", probe=None, start=6),
    Group(
        Category.RUNTIME_RULES,
        ("rules.runtime",),
        judge="harness.checks.runtime_rules.judge",
        probe="harness.checks.runtime_rules.probe",
        start=4,
    ),
    Group(
        Category.API,
        (
            "api.import-names",
            "api.model-init",
            "api.load-pretrained",
            "api.predict",
            "api.predict-odd-sizes",
            "api.predict-float",
            "api.train",
        ),
        judge="harness.checks.api.judge",
        probe=MODEL_STEPS_PROBE,
        start=3,
    ),
    Group(
        Category.BLOCKS,
        (
            "blocks.conv2d",
            "blocks.transpose-conv2d",
            "blocks.nearest-upsampling",
            "blocks.upsampling",
            "blocks.relu",
            "blocks.sigmoid",
            "blocks.mse",
            "blocks.sgd",
            "blocks.sequential",
        ),
        judge="harness.checks.blocks.judge",
        probe="harness.checks.blocks.probe",
        start=0,
    ),
    Group(
        Category.TIMING,
        ("timing.train-epoch", "timing.predict"),
        judge="harness.checks.timing.judge",
        probe=MODEL_STEPS_PROBE,
        start=1,
        alone=True,
    ),
    Group(
        Category.PSNR,
        ("psnr.pretrained", "psnr.training-improves"),
        judge="harness.checks.psnr.judge",
        probe=MODEL_STEPS_PROBE,
        start=2,
    ),
)
"""Every group, in report order (the order of `Category`); within a group its checks in report order."""

GROUP_NAMES: tuple[str, ...] = tuple(group.name for group in GROUPS)

CHECK_GROUPS: Mapping[str, Group] = MappingProxyType(
    {check_id: group for group in GROUPS for check_id in group.checks}
)
"""Every check id the harness produces, in report order, with its group."""

CHECK_CATEGORIES: Mapping[str, Category] = MappingProxyType(
    {check_id: group.category for check_id, group in CHECK_GROUPS.items()}
)
"""Every check id with its report category: a rubric may only name these ids."""


def group_named(name: str) -> Group:
    """The group called `name` (`runtime-rules`, or its folder's spelling `runtime_rules`).

    Raises `ValueError` with a one-line message naming the known groups.
    """
    wanted = name.strip().replace("_", "-")
    for group in GROUPS:
        if group.name == wanted:
            return group
    raise ValueError(f"unknown check group {name!r} (known: {', '.join(GROUP_NAMES)})")


def parse_group_list(text: str) -> tuple[str, ...]:
    """`"api, runtime_rules"` (a `--check-groups` value) -> `("api", "runtime-rules")`, once each.

    Raises `ValueError` naming an unknown group and the known ones, or when `text` names none.
    """
    names = [name for name in text.split(",") if name.strip()]
    if not names:
        raise ValueError(f"no check group in {text!r} (known: {', '.join(GROUP_NAMES)})")
    return tuple(group.name for group in groups_named(names))


def groups_named(names: Sequence[str] | None) -> tuple[Group, ...]:
    """The groups called `names`, once each in the order given; None: every group."""
    if names is None:
        return GROUPS
    return tuple(dict.fromkeys(group_named(name) for name in names))


def group_checks(names: Sequence[str] | None = None) -> tuple[str, ...]:
    """The check ids the groups `names` (default: all) produce, in report order: what a run restricted
    to them judges (the rubric's other checks come back "not run", 0 of 0: `harness.rubric.score`)."""
    chosen = set(groups_named(names))
    return tuple(check_id for check_id, group in CHECK_GROUPS.items() if group in chosen)


def probe_spec(function: Callable[..., Any]) -> str:
    """`run_probe`'s name of a probe function, "harness.checks.runtime_rules.probe:record_torch_calls".

    Callers pass the function itself (imported from its module), so a renamed probe fails their import;
    raises `ValueError` when `function` is not of a probe module of `GROUPS`."""
    modules = {group.probe for group in GROUPS if group.probe is not None}
    if function.__module__ not in modules:
        name = f"{function.__module__}.{function.__name__}"
        raise ValueError(f"registry: {name} is not a function of a group's probe module")
    return f"{function.__module__}:{function.__name__}"


def _validate() -> None:
    """The table's invariants, checked at import so a wrong edit fails every test at once."""
    if [group.category for group in GROUPS] != list(Category):
        raise ValueError("registry: GROUPS must hold one group per Category, in Category order")
    if sorted(group.start for group in GROUPS) != list(range(len(GROUPS))):
        raise ValueError("registry: the groups' `start` must number them 0, 1, ... once each")
    if any(group.judge != f"harness.checks.{group.folder}.judge" for group in GROUPS):
        raise ValueError("registry: a group's judge must be harness.checks.<its folder>.judge")
    if len(CHECK_GROUPS) != sum(len(group.checks) for group in GROUPS):
        raise ValueError("registry: a check id is listed in more than one group")


_validate()
