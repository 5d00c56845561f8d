"""The `harness` command: a thin click layer over the plain Python API."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

from harness import __version__
from harness.errors import HarnessError

F = TypeVar("F", bound=Callable[..., Any])


def reports_user_errors(command: F) -> F:
    """Turn a `HarnessError` into one line on stderr and its exit code; leave bugs their traceback."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except HarnessError as error:
            click.echo(f"harness: error: {error.one_line()}", err=True)
            sys.exit(error.exit_code)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="harness")
def main() -> None:
    """Grade EE-559 Mini-project 2 submissions (a denoiser built from scratch).

    \b
    harness data make DIR     write a course-format data set
    harness data info FILE    describe and validate data files
    harness check PATH        grade one submission and write its report
    """


@main.group()
def data() -> None:
    """Make and inspect course-format data (train_data.pkl, val_data.pkl)."""
