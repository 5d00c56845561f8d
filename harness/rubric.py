"""The grading rubric: what each check is worth, which checks are required, limits and thresholds.

A rubric is a TOML file (the shipped one is `harness/rubrics/ee559-2022.toml`, loaded by its name
`ee559-2022`; any other is given by path). Points are computed here, in the parent process, from the
rubric and each `CheckResult`'s outcome, score, fault and `details["adapter"]` only, never from a child.

Scoring rules (`score`):

- PASS gives the entry's full `points`; a PASS with `details["scaled"] is True` (`psnr.pretrained`, whose
  points scale between the noisy input, the best blur and the reference) gives `points x score`.
- With `partial = true`, a check that ran but did not fully pass (FAIL, ERROR, TIMEOUT, OOM, CRASH, with
  the submission at fault) gives `points x score`, score being the fraction of the check that passed.
- FORBIDDEN, MISSING and SKIPPED give 0; so does a non-partial check that did not pass.
- A result with `details["adapter"] is True` (the block only worked through the harness's adapter,
  not with PyTorch's constructor arguments) gets `adapter_factor x` the points above.
- A result whose fault is SETUP (the grading set-up failed, not the student) gives 0 points but keeps its
  max: renderers flag it so a grader re-runs it (`needs_rerun`).
- `optional = true`: a SKIPPED or MISSING result counts 0 of 0 (the statement says "if present").
- `one_of` groups (e.g. TransposeConv2d *or* NearestUpsampling): only the member with the most points
  counts (first listed on ties); the others are shown with 0 of 0 and are not required.
- A rubric check with no result at all is reported as an ERROR with fault SETUP, so nothing silently
  vanishes from the totals; a result whose id is not in the rubric is worth 0 of 0, not required.
"""

from __future__ import annotations

import hashlib
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from harness.checks.registry import CHECK_CATEGORIES, CHECK_GROUPS, GROUP_NAMES
from harness.errors import RubricError
from harness.psnr import METRICS
from harness.results import CheckResult, Fault, Outcome, ScoredCheck

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib

RUBRICS_DIR = Path(__file__).parent / "rubrics"
DEFAULT_RUBRIC = "ee559-2022"


RULE_PROFILES = ("strict", "lenient")
_PARTIAL_OUTCOMES = frozenset({Outcome.FAIL, Outcome.ERROR, Outcome.TIMEOUT, Outcome.OOM, Outcome.CRASH})
_ABSENT_OUTCOMES = frozenset({Outcome.SKIPPED, Outcome.MISSING})


@dataclass(frozen=True)
class RubricEntry:
    """What one check is worth: `points` at most, whether it must pass, whether a fraction counts."""

    points: float
    required: bool = False
    partial: bool = False
    optional: bool = False


@dataclass(frozen=True)
class ChildLimits:
    """Resource limits of the child process that runs one check (see `harness.sandbox.Limits`)."""

    wall_s: float = 60.0
    memory_mb: int = 4096


@dataclass(frozen=True)
class Thresholds:
    """The numbers the PSNR and timing checks judge against.

    `psnr_metric` names a metric of `harness.psnr.METRICS` ("grading": the course grading script's
    per-image mean; "statement": the statement's batch MSE). The pretrained model passes when its PSNR
    reaches `psnr_required_db(noisy_db)`: at least `psnr_margin_db` above the noisy input's PSNR on the
    same data and never below the absolute floor `psnr_min_db`.
    """

    psnr_metric: str = "grading"
    psnr_min_db: float = 21.0
    psnr_margin_db: float = 1.0
    training_min_gain_db: float = 0.5
    training_max_below_noisy_db: float = 3.0
    epoch_limit_cpu_s: float = 1800.0
    epoch_limit_gpu_s: float = 600.0
    reference_epoch_cpu_s: float = 75.0
    """The reference's epoch in CPU seconds of one core, measured once on a stated machine: the estimate
    on a CPU is the submission's ratio to the reference, timed beside it, times this, so the grading
    machine's load does not move it. 0: the reference's cost measured in the same run instead."""

    def psnr_required_db(self, noisy_db: float) -> float:
        """The PSNR a pretrained model must reach on data whose noisy input scores `noisy_db`."""
        return max(self.psnr_min_db, noisy_db + self.psnr_margin_db)


@dataclass(frozen=True)
class Rubric:
    """A loaded, validated rubric (see the module docstring for how it scores)."""

    name: str
    rule_profile: str
    checks: Mapping[str, RubricEntry]
    limits: Mapping[str, ChildLimits]
    """Per-check child limits, keyed by a check id or a group prefix (`blocks`), see `limits_for`."""
    default_limits: ChildLimits
    thresholds: Thresholds
    adapter_factor: float
    one_of: tuple[tuple[str, ...], ...]
    sha256: str
    """Of the rubric file's bytes, so a report names exactly which rubric graded it."""
    source: str
    """The file it was read from."""

    def limits_for(self, check_id: str) -> ChildLimits:
        """The child limits of `check_id`: its own entry, else its group's (`blocks`, a name of
        `harness.checks.registry.GROUPS`), else the default."""
        group = CHECK_GROUPS[check_id].name if check_id in CHECK_GROUPS else None
        return self.limits.get(check_id) or self.limits.get(group) or self.default_limits

    @property
    def max_points(self) -> float:
        """Points of a perfect submission that has every optional block (one member per `one_of`)."""
        grouped = {check_id for group in self.one_of for check_id in group}
        singles = sum(entry.points for check_id, entry in self.checks.items() if check_id not in grouped)
        return singles + sum(max(self.checks[c].points for c in group) for group in self.one_of)


def load_rubric(path_or_name: str | Path) -> Rubric:
    """Read and validate a rubric given by shipped name (`ee559-2022`) or by path.

    Raises `RubricError` (one line naming the file and the offending key) for a missing or malformed file.
    """
    path = _rubric_path(path_or_name)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise RubricError(path, f"cannot read rubric: {error.strerror or error}") from None
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise RubricError(path, f"not a valid TOML file: {error}") from None
    return _parse(document, path, hashlib.sha256(raw).hexdigest())


def shipped_rubrics() -> list[str]:
    """Names of the rubrics shipped with the harness."""
    return sorted(p.stem for p in RUBRICS_DIR.glob("*.toml"))


def _rubric_path(path_or_name: str | Path) -> Path:
    candidate = Path(path_or_name)
    if candidate.suffix != ".toml" and candidate.parent == Path(".") and not candidate.exists():
        shipped = RUBRICS_DIR / f"{candidate.name}.toml"
        if not shipped.is_file():
            raise RubricError(
                candidate, f"no such rubric file or shipped rubric (shipped: {', '.join(shipped_rubrics())})"
            )
        return shipped
    if not candidate.is_file():
        raise RubricError(candidate, "rubric file not found")
    return candidate


class _Reader:
    """Typed access to one TOML table, raising `RubricError` that names the file and the dotted key."""

    def __init__(self, table: Mapping[str, Any], path: Path, prefix: str) -> None:
        self.table = table
        self.path = path
        self.prefix = prefix

    def key(self, name: str) -> str:
        return f"{self.prefix}{_toml_key(name)}"

    def fail(self, name: str, problem: str) -> RubricError:
        return RubricError(self.path, f"{self.key(name)}: {problem}")

    def reject_unknown(self, allowed: Sequence[str]) -> None:
        for name in self.table:
            if name not in allowed:
                raise self.fail(name, f"unknown key (allowed: {', '.join(allowed)})")

    def number(self, name: str, default: float | None = None, *, positive: bool = False) -> float:
        if name not in self.table:
            if default is None:
                raise self.fail(name, "missing")
            return default
        value = self.table[name]
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise self.fail(name, f"expected a number, got {value!r}")
        if value < 0 or (positive and value == 0):
            kind = "positive" if positive else "non-negative"
            raise self.fail(name, f"expected a {kind} number, got {value}")
        return float(value)

    def flag(self, name: str, default: bool) -> bool:
        value = self.table.get(name, default)
        if not isinstance(value, bool):
            raise self.fail(name, f"expected true or false, got {value!r}")
        return value

    def choice(self, name: str, choices: Sequence[str], default: str) -> str:
        value = self.table.get(name, default)
        if value not in choices:
            raise self.fail(name, f"expected one of {', '.join(choices)}, got {value!r}")
        return value

    def subtable(self, name: str) -> _Reader:
        value = self.table.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(name, f"expected a table, got {value!r}")
        return _Reader(value, self.path, f"{self.key(name)}.")


def _toml_key(name: str) -> str:
    return name if name.replace("-", "").replace("_", "").isalnum() else f'"{name}"'


def _parse(document: Mapping[str, Any], path: Path, sha256: str) -> Rubric:
    top = _Reader(document, path, "")
    top.reject_unknown(["name", "rule_profile", "adapter_factor", "one_of", "thresholds", "limits", "checks"])
    name = document.get("name")
    if not isinstance(name, str) or not name:
        raise top.fail("name", f"expected a non-empty string, got {name!r}")
    adapter_factor = top.number("adapter_factor", 1.0)
    if adapter_factor > 1:
        raise top.fail("adapter_factor", f"expected a number in [0, 1], got {adapter_factor}")
    checks = _parse_checks(top.subtable("checks"))
    return Rubric(
        name=name,
        rule_profile=top.choice("rule_profile", RULE_PROFILES, "strict"),
        checks=MappingProxyType(checks),
        limits=MappingProxyType(_parse_limits(top.subtable("limits"))),
        default_limits=_parse_child_limits(top.subtable("limits").subtable("default"), ChildLimits()),
        thresholds=_parse_thresholds(top.subtable("thresholds")),
        adapter_factor=adapter_factor,
        one_of=_parse_one_of(top, checks),
        sha256=sha256,
        source=str(path),
    )


def _parse_checks(table: _Reader) -> dict[str, RubricEntry]:
    if not table.table:
        raise RubricError(table.path, "checks: the rubric names no checks")
    checks = {}
    for check_id in table.table:
        if check_id not in CHECK_CATEGORIES:
            raise table.fail(check_id, "unknown check id (see harness.checks.registry.GROUPS)")
        entry = table.subtable(check_id)
        entry.reject_unknown(["points", "required", "partial", "optional"])
        checks[check_id] = RubricEntry(
            points=entry.number("points"),
            required=entry.flag("required", False),
            partial=entry.flag("partial", False),
            optional=entry.flag("optional", False),
        )
    return checks


def _parse_limits(table: _Reader) -> dict[str, ChildLimits]:
    limits = {}
    for key in table.table:
        if key == "default":
            continue
        if key not in CHECK_CATEGORIES and key not in GROUP_NAMES:
            raise table.fail(key, "unknown check id or group")
        limits[key] = _parse_child_limits(table.subtable(key), ChildLimits())
    return limits


def _parse_child_limits(table: _Reader, default: ChildLimits) -> ChildLimits:
    table.reject_unknown(["wall_s", "memory_mb"])
    return ChildLimits(
        wall_s=table.number("wall_s", default.wall_s, positive=True),
        memory_mb=int(table.number("memory_mb", default.memory_mb, positive=True)),
    )


def _parse_thresholds(table: _Reader) -> Thresholds:
    defaults = Thresholds()
    table.reject_unknown(list(Thresholds.__dataclass_fields__))
    return Thresholds(
        psnr_metric=table.choice("psnr_metric", tuple(METRICS), defaults.psnr_metric),
        psnr_min_db=table.number("psnr_min_db", defaults.psnr_min_db),
        psnr_margin_db=table.number("psnr_margin_db", defaults.psnr_margin_db),
        training_min_gain_db=table.number("training_min_gain_db", defaults.training_min_gain_db),
        training_max_below_noisy_db=table.number(
            "training_max_below_noisy_db", defaults.training_max_below_noisy_db
        ),
        epoch_limit_cpu_s=table.number("epoch_limit_cpu_s", defaults.epoch_limit_cpu_s, positive=True),
        epoch_limit_gpu_s=table.number("epoch_limit_gpu_s", defaults.epoch_limit_gpu_s, positive=True),
        reference_epoch_cpu_s=table.number("reference_epoch_cpu_s", defaults.reference_epoch_cpu_s),
    )


def _parse_one_of(top: _Reader, checks: Mapping[str, RubricEntry]) -> tuple[tuple[str, ...], ...]:
    groups = top.table.get("one_of", [])
    if not isinstance(groups, list) or not all(isinstance(g, list) for g in groups):
        raise top.fail("one_of", "expected a list of lists of check ids")
    seen: set[str] = set()
    for group in groups:
        if len(group) < 2:
            raise top.fail("one_of", f"a group needs at least two check ids, got {group!r}")
        for check_id in group:
            if check_id not in checks:
                raise top.fail("one_of", f"{check_id!r} is not a check of this rubric")
            if check_id in seen:
                raise top.fail("one_of", f"{check_id!r} is in more than one group")
            seen.add(check_id)
    return tuple(tuple(group) for group in groups)


def needs_rerun(scored: ScoredCheck) -> bool:
    """True when the grading set-up, not the submission, made the check fail: re-run, do not penalise."""
    return scored.result.fault is Fault.SETUP


def score(results: Sequence[CheckResult], rubric: Rubric) -> list[ScoredCheck]:
    """Give each result its points from the rubric (rules in the module docstring).

    Results keep their order; rubric checks that produced no result are appended as ERROR/SETUP results.
    """
    by_id = {result.id: result for result in results}
    complete = list(results) + [
        _no_result(check_id)
        for check_id, entry in rubric.checks.items()
        if check_id not in by_id and not entry.optional and _group_lacks_result(check_id, rubric, by_id)
    ]
    scored = [_score_one(result, rubric) for result in complete]
    return _apply_one_of(scored, rubric)


def _group_lacks_result(check_id: str, rubric: Rubric, by_id: Mapping[str, CheckResult]) -> bool:
    """A `one_of` member needs a stand-in only if it leads its group and no member has a result."""
    for group in rubric.one_of:
        if check_id in group:
            return check_id == group[0] and not any(member in by_id for member in group)
    return True


def _no_result(check_id: str) -> CheckResult:
    return CheckResult(
        id=check_id,
        category=CHECK_CATEGORIES[check_id],
        outcome=Outcome.ERROR,
        message="the check produced no result (a harness or set-up problem): re-run it",
        fault=Fault.SETUP,
    )


def _score_one(result: CheckResult, rubric: Rubric) -> ScoredCheck:
    entry = rubric.checks.get(result.id)
    if entry is None:
        return ScoredCheck(result=result, points=0.0, max_points=0.0, required=False)
    if entry.optional and result.outcome in _ABSENT_OUTCOMES:
        return ScoredCheck(result=result, points=0.0, max_points=0.0, required=False)
    return ScoredCheck(
        result=result, points=_points(result, entry, rubric), max_points=entry.points, required=entry.required
    )


def _points(result: CheckResult, entry: RubricEntry, rubric: Rubric) -> float:
    if result.outcome is Outcome.PASS:
        fraction = result.score if result.details.get("scaled") is True else 1.0
    elif entry.partial and result.outcome in _PARTIAL_OUTCOMES and result.fault is Fault.SUBMISSION:
        fraction = result.score
    else:
        fraction = 0.0
    if result.details.get("adapter") is True:
        fraction *= rubric.adapter_factor
    return round(entry.points * fraction, 6)


def _preference(scored: ScoredCheck, group: tuple[str, ...]) -> tuple[float, bool, int]:
    """Most points first; on ties a block that exists beats a missing one, then the first listed."""
    return (scored.points, scored.result.outcome not in _ABSENT_OUTCOMES, -group.index(scored.result.id))


def _apply_one_of(scored: list[ScoredCheck], rubric: Rubric) -> list[ScoredCheck]:
    """Within each `one_of` group keep the best member's points; the others count 0 of 0."""
    losers: set[int] = set()
    for group in rubric.one_of:
        members = [i for i, s in enumerate(scored) if s.result.id in group]
        if len(members) > 1:
            best = max(members, key=lambda i: _preference(scored[i], group))
            losers.update(i for i in members if i != best)
    return [
        ScoredCheck(result=s.result, points=0.0, max_points=0.0, required=False) if i in losers else s
        for i, s in enumerate(scored)
    ]
