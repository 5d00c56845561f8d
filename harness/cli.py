"""The `harness` command: a thin click layer over the plain Python API."""

from __future__ import annotations

import os
import sys
import traceback
import warnings
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from harness import __version__
from harness.check import DEFAULT_DATA_DIR, REFERENCE_DIR, check_submission
from harness.checks.registry import GROUP_NAMES, parse_group_list
from harness.data_info import describe_file, render_info
from harness.degradation import DEFAULT_DEGRADATION, DEGRADATIONS
from harness.errors import BUG_EXIT_CODE, HarnessError, OutputError
from harness.exports import EXPORT_FORMATS, SIMILARITY_THRESHOLD
from harness.generate import make_dataset
from harness.grading.grade import grade_class
from harness.grading.progress import ClassProgress
from harness.grading.summary import render_summary
from harness.probes.capture import printable
from harness.report import FORMATS, prepare_out_dir, write_reports
from harness.rubric import DEFAULT_RUBRIC, load_rubric
from harness.tables import render_console, use_color

F = TypeVar("F", bound=Callable[..., Any])


def reports_user_errors(command: F) -> F:
    """Turn a `HarnessError` into one line on stderr and its exit code; leave bugs their traceback, but
    exit with `BUG_EXIT_CODE`, so a crash never reads as a verdict (exit 1: a failed check, a re-run,
    a changed grade)."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except HarnessError as error:
            click.echo(f"harness: error: {error.one_line()}", err=True)
            sys.exit(error.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception:
            traceback.print_exc()
            click.echo(
                f"harness: internal error, a bug in the harness (traceback above); exit {BUG_EXIT_CODE}",
                err=True,
            )
            sys.exit(BUG_EXIT_CODE)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="harness")
def main() -> None:
    """Grade EE-559 Mini-project 2 submissions (a denoiser built from scratch).

    \b
    harness data make DIR     write a course-format data set
    harness data info FILE    describe and validate data files
    harness check PATH        grade one submission and write its report
    harness export STORE      class outputs: Moodle, Gradescope, CSV, the class report
    harness diff A [B]        what a regrade changed, and why
    harness gradescope build  an autograder that grades with this harness
    """


@main.group()
def data() -> None:
    """Make and inspect course-format data (train_data.pkl, val_data.pkl)."""


def _degradation_params(
    context: click.Context, parameter: click.Parameter, values: tuple[str, ...]
) -> dict[str, float]:
    """`--param sigma=15 --param max_factor=10` -> {"sigma": 15.0, "max_factor": 10.0}."""
    params = {}
    for value in values:
        key, _, number = value.partition("=")
        try:
            params[key.strip()] = float(number)  # no "=" leaves number empty: refused here too
        except ValueError:
            raise click.BadParameter(f"{value!r} is not KEY=NUMBER") from None
    return params


@data.command("make")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--images",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of photographs, any format Pillow reads (PNG, JPEG, TIFF, ...) "
    "[scikit-image's bundled colour photographs].",
)
@click.option("--train", type=click.IntRange(min=1), default=50_000, show_default=True, help="Train pairs.")
@click.option("--val", type=click.IntRange(min=1), default=1_000, show_default=True, help="Val pairs.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every random draw.")
@click.option(
    "--degradation",
    type=click.Choice(sorted(DEGRADATIONS)),
    default=DEFAULT_DEGRADATION,
    show_default=True,
    help="Noise model (see README, Data).",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    callback=_degradation_params,
    metavar="KEY=NUMBER",
    help="A degradation parameter, e.g. sigma=15 or max_factor=10 (repeatable).",
)
@reports_user_errors
def data_make(
    out_dir: Path,
    images: Path | None,
    train: int,
    val: int,
    seed: int,
    degradation: str,
    params: dict[str, float],
) -> None:
    """Write OUT_DIR/train_data.pkl, val_data.pkl and manifest.json (byte-identical for the same seed)."""
    manifest = make_dataset(out_dir, images, train, val, seed, degradation, **params)
    held_out = ", ".join(photo["name"] for photo in manifest.photos if photo["split"] == "val")
    click.echo(f"wrote {out_dir}: {train} train pairs, {val} val pairs ({held_out} held out for val)")
    for file in manifest.skipped:
        click.echo(f"harness: skipped {images / file['name']}: {file['reason']}", err=True)


@data.command("info")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@reports_user_errors
def data_info(paths: tuple[Path, ...]) -> None:
    """Validate and describe data files: shapes, dtype, range; for val files PSNR and best blur."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        infos = [describe_file(path) for path in paths]
    for warning in caught:
        click.echo(f"harness: warning: {warning.message}", err=True)
    click.echo("\n".join(render_info(info) for info in infos), nl=False)


_data_option = click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path),
    default=DEFAULT_DATA_DIR,
    show_default="the repository's test_data/",
    help="Folder holding train_data.pkl and val_data.pkl.",
)
_rubric_option = click.option(
    "--rubric", "rubric_name", default=DEFAULT_RUBRIC, show_default=True, help="Rubric name or TOML file."
)


def _formats(context: click.Context, parameter: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    """`--format md,json --format table` -> ("md", "json", "table"), each checked against FORMATS."""
    return _choices(values, FORMATS)


def _choices(values: tuple[str, ...], allowed: tuple[str, ...]) -> tuple[str, ...]:
    """Repeated or comma-separated option values, in order, without repeats, each one of `allowed`."""
    chosen = tuple(
        dict.fromkeys(part.strip() for value in values for part in value.split(",") if part.strip())
    )
    unknown = [name for name in chosen if name not in allowed]
    if unknown:
        raise click.BadParameter(f"unknown format {', '.join(unknown)} (choose from {', '.join(allowed)})")
    return chosen


def _check_groups(
    context: click.Context, parameter: click.Parameter, value: str | None
) -> tuple[str, ...] | None:
    """`layout,runtime_rules` -> ("layout", "runtime-rules"), names of the check registry; None: all."""
    if value is None:
        return None
    try:
        return parse_group_list(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


_check_groups_option = click.option(
    "--check-groups",
    "groups",
    callback=_check_groups,
    metavar="GROUPS",
    help=f"Comma list of check groups to run [all]: {', '.join(GROUP_NAMES)}; the rubric's other checks "
    "are reported as not run (set-up errors).",
)


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@_data_option
@_rubric_option
@click.option(
    "--format",
    "formats",
    multiple=True,
    callback=_formats,
    help="table, md, json (repeatable or comma list); md and json are written under --out.",
)
@click.option(
    "--out", "out_dir", type=click.Path(path_type=Path), help="Report folder [reports/<submission>/]."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every child and data draw.")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Checks' child processes at once (the timing checks always run alone, after the rest).",
)
@click.option("--no-reference-timing", is_flag=True, help="Do not time the reference model for ratios.")
@_check_groups_option
@click.option("--quiet", "-q", is_flag=True, help="Print neither the table nor progress.")
@reports_user_errors
def check(
    path: Path,
    data_dir: Path,
    rubric_name: str,
    formats: tuple[str, ...],
    out_dir: Path | None,
    seed: int,
    jobs: int,
    no_reference_timing: bool,
    groups: tuple[str, ...] | None,
    quiet: bool,
) -> None:
    """Grade the submission at PATH (a Miniproject_2 folder, a Proj_ folder or a .zip).

    Exit status: 0 when every required check passes, 1 otherwise, 2 for a bad path, data or rubric.
    """
    rubric = load_rubric(rubric_name)
    files = [name for name in formats if name != "table"] or (["md", "json"] if out_dir else [])
    if files and out_dir is not None:
        prepare_out_dir(out_dir)
    report = check_submission(
        path,
        data_dir,
        rubric,
        seed=seed,
        jobs=jobs,
        reference_dir=None if no_reference_timing else REFERENCE_DIR,
        progress=None if quiet else lambda line: click.echo(line, err=True),
        groups=groups,
    )
    if not quiet:
        click.echo(render_console(report, color=use_color(sys.stdout)), nl=False)
    written = write_reports(report, [], out_dir or Path("reports") / report.submission.name, files)
    for kind, written_path in written.items():
        if not quiet:
            click.echo(f"wrote {kind}: {written_path}", err=True)
    sys.exit(0 if report.summary.passed_required else 1)


@main.command()
@click.argument("class_dir", type=click.Path(path_type=Path))
@click.option(
    "--data",
    "data_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder holding train_data.pkl and val_data.pkl (at the same path on every Dask worker).",
)
@click.option(
    "--rubric", "rubric_name", default=DEFAULT_RUBRIC, show_default=True, help="Rubric name or TOML file."
)
@click.option(
    "--workers", type=click.IntRange(min=1), help="Grading processes on this machine [half the cores]."
)
@click.option("--scheduler", metavar="ADDRESS", help="Grade on this Dask cluster, e.g. tcp://host:8786.")
@click.option(
    "--out", "out_dir", type=click.Path(path_type=Path), help="Store folder [reports/<class folder>/]."
)
@click.option("--regrade", is_flag=True, help="Grade every submission again, even when already graded.")
@click.option("--only", metavar="PATTERN", help="Only submissions whose path or name matches this glob.")
@_check_groups_option
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@reports_user_errors
def grade(
    class_dir: Path,
    data_dir: Path,
    rubric_name: str,
    workers: int | None,
    scheduler: str | None,
    out_dir: Path | None,
    regrade: bool,
    only: str | None,
    groups: tuple[str, ...] | None,
    quiet: bool,
) -> None:
    """Grade every submission in CLASS_DIR (Moodle's "Download all submissions" folder, or zips and
    Proj_ folders) into the store grades.sqlite under --out; a re-run grades only what is missing or
    changed.

    Exit status: 0 when every submission was graded (whatever its score), 1 when some need a re-run
    because of the grading set-up, 2 for bad arguments, 130 when interrupted (what finished is kept).
    """
    if workers is not None and scheduler is not None:
        raise click.UsageError("--workers and --scheduler exclude each other (Dask workers are set up there)")
    rubric = load_rubric(rubric_name)
    progress = ClassProgress(enabled=not quiet)
    try:
        result = grade_class(
            class_dir,
            data_dir,
            rubric,
            out_dir or Path("reports") / Path(class_dir).resolve().name,
            workers=workers,
            scheduler=scheduler,
            regrade=regrade,
            only=only,
            groups=groups,
            on_start=progress.start,
            on_graded=progress.graded,
        )
    except KeyboardInterrupt:
        progress.close()
        click.echo("harness grade: interrupted; what finished is in the store, run again to go on", err=True)
        sys.exit(130)
    progress.close()
    click.echo(render_summary(result), nl=False)
    sys.exit(result.exit_code)


# The class commands below import their modules when they run: matplotlib, copydetect and their
# dependencies would add about a second to the start of every `harness check`.


@main.command("export")
@click.argument("store", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "formats",
    multiple=True,
    required=True,
    callback=lambda context, parameter, values: _choices(values, EXPORT_FORMATS),
    help=f"{', '.join(EXPORT_FORMATS)} (repeatable or comma list).",
)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("exports"), show_default=True)
@click.option("--run", "run_id", type=int, help="The class as of this run [the last one].")
@click.option(
    "--worksheet",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Moodle's grading worksheet.",
)
@click.option(
    "--roster",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV: sciper, participant|email.",
)
@click.option(
    "--similarity", is_flag=True, help="Compare the class's code (copydetect) for the report and CSV."
)
@click.option("--threshold", type=click.FloatRange(0, 1), default=SIMILARITY_THRESHOLD, show_default=True)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Course data: best blur on the PSNR figure.",
)
@click.option(
    "--reference-report",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The reference's report.json: its PSNR on the figure.",
)
@reports_user_errors
def export(
    store: Path,
    formats: tuple[str, ...],
    out_dir: Path,
    run_id: int | None,
    worksheet: Path | None,
    roster: Path | None,
    similarity: bool,
    threshold: float,
    data_dir: Path | None,
    reference_report: Path | None,
) -> None:
    """Write class outputs from the STORE of `harness grade` (a folder or grades.sqlite); never re-grades."""
    from harness.exports.export import ExportOptions, export_class, load_class  # on use (see above)
    from harness.exports.outdir import check_out_dir

    check_out_dir(out_dir)
    records = load_class(store, run_id)
    options = ExportOptions(worksheet, roster, similarity, threshold, data_dir, reference_report)
    result = export_class(records, formats, out_dir, options)
    for line in [f"harness export: {records.label}", *result.notes]:
        click.echo(printable(line))  # the notes quote the students' file names and Moodle names
    for kind, path in result.written.items():
        click.echo(printable(f"wrote {kind}: {path}"))


@main.command("diff")
@click.argument("store_a", type=click.Path(path_type=Path))
@click.argument("store_b", type=click.Path(path_type=Path), required=False)
@click.option("--run-a", type=int, help="Run of STORE_A [its last; with one store, the one before].")
@click.option("--run-b", type=int, help="Run of STORE_B [its last].")
@click.option(
    "--json", "json_path", type=click.Path(path_type=Path), help="Also write the diff as JSON here."
)
@reports_user_errors
def diff(
    store_a: Path, store_b: Path | None, run_a: int | None, run_b: int | None, json_path: Path | None
) -> None:
    """What a regrade changed: STORE_A against STORE_B, or two runs of STORE_A.

    Exit status 0 when nothing changed but timings, 1 when a submission changed.
    """
    from harness.exports.diff import dumps_diff, regrade_diff, render_diff  # on use (see above)
    from harness.exports.export import diff_sides

    if json_path is not None:
        _check_writable_file(json_path)
    before, after = diff_sides(store_a, store_b, run_a, run_b)
    result = regrade_diff(before.graded, after.graded, before.label, after.label)
    click.echo(render_diff(result), nl=False)
    if json_path is not None:
        try:
            json_path.write_text(dumps_diff(result), encoding="utf-8")
        except OSError as error:
            raise OutputError(json_path, f"cannot write: {error.strerror or error}") from None
        click.echo(printable(f"wrote json: {json_path}"), err=True)
    sys.exit(0 if result.unchanged else 1)


def _check_writable_file(path: Path) -> None:
    """`OutputError` now, before any work, when `path` cannot be written as a file: it is a folder, or
    its folder is missing or not writable."""
    folder = path.parent
    if path.is_dir():
        raise OutputError(path, "is a folder, not a file to write")
    if not folder.is_dir():
        raise OutputError(path, f"cannot write: no folder {folder}")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise OutputError(path, "cannot write: permission denied")


@main.group()
def gradescope() -> None:
    """Grade inside Gradescope with this harness."""


@gradescope.command("build")
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@_data_option
@_rubric_option
@reports_user_errors
def gradescope_build(out_dir: Path, data_dir: Path, rubric_name: str) -> None:
    """Write an autograder (setup.sh, run_autograder, the harness and data) into OUT_DIR, and its zip."""
    from harness.exports.autograder import build_autograder  # on use (see above)

    build = build_autograder(out_dir, data_dir, rubric_name)
    click.echo(f"wrote {build.setup_sh}, {build.run_autograder}; upload {build.zip_path} to Gradescope")


@gradescope.command("results")
@click.argument("report", type=click.Path(path_type=Path))
@click.argument("results", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--stderr",
    "stderr_path",
    type=click.Path(path_type=Path),
    help="harness check's stderr: its last line explains a missing report.",
)
def gradescope_results(report: Path, results: Path, stderr_path: Path | None) -> None:
    """Turn a harness check REPORT (report.json) into Gradescope's RESULTS file; always writes one."""
    from harness.exports.gradescope import dumps_results, results_for_report  # on use (see above)

    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(dumps_results(results_for_report(report, stderr_path)), encoding="utf-8")
