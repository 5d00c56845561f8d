"""The check registry is the one source of group names, check ids, categories and module paths."""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import pytest

from harness.checks.blocks.judge import BLOCK_KINDS
from harness.checks.registry import (
    CHECK_CATEGORIES,
    GROUP_NAMES,
    GROUPS,
    group_checks,
    group_named,
    parse_group_list,
    probe_spec,
)
from harness.checks.runtime_rules.probe import record_torch_calls
from harness.report import report_schema
from harness.results import Category
from harness.rubric import load_rubric

CHECKS_DIR = Path(__file__).resolve().parents[1] / "harness" / "checks"


def test_group_names_are_the_categories_and_the_folders():
    assert tuple(category.value for category in Category) == GROUP_NAMES
    folders = {path.name for path in CHECKS_DIR.iterdir() if (path / "__init__.py").is_file()}
    assert {group.folder for group in GROUPS} <= folders
    assert folders - {group.folder for group in GROUPS} == {"model_steps"}  # shared, not a group


@pytest.mark.parametrize("group", GROUPS, ids=GROUP_NAMES)
def test_each_group_names_modules_that_exist(group):
    assert callable(importlib.import_module(group.judge).run)
    if group.probe is not None:
        assert importlib.util.find_spec(group.probe) is not None


def test_the_schema_takes_its_category_enum_from_the_registry():
    assert report_schema()["$defs"]["category"]["enum"] == list(GROUP_NAMES)


def test_the_shipped_rubric_names_every_check_of_the_registry():
    assert set(load_rubric("ee559-2022").checks) == set(CHECK_CATEGORIES)


def test_group_checks_follow_the_report_order():
    assert group_checks(["psnr", "layout"]) == (*group_named("layout").checks, *group_named("psnr").checks)
    assert group_checks() == tuple(CHECK_CATEGORIES)


def test_check_group_lists_take_either_spelling_and_name_the_known_groups():
    assert parse_group_list("api, runtime_rules,api") == ("api", "runtime-rules")
    with pytest.raises(ValueError, match=r"unknown check group 'quality' \(known: layout, rules, "):
        parse_group_list("api,quality")
    with pytest.raises(ValueError, match="no check group"):
        parse_group_list(" , ")


def test_a_probe_is_named_by_its_function_of_a_group_probe_module():
    assert probe_spec(record_torch_calls) == "harness.checks.runtime_rules.probe:record_torch_calls"
    assert {kind.probe.split(":")[0] for kind in BLOCK_KINDS} == {group_named("blocks").probe}
    with pytest.raises(ValueError, match=r"registry\.group_named is not a function of a group"):
        probe_spec(group_named)
