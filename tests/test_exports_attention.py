"""The attention list: each concern raised by what the reports say, and only by that."""

from __future__ import annotations

import copy
from dataclasses import replace

from harness.exports.attention import Concern, SimilarTo, flags_for
from tests.class_fixtures import MEMBERS, graded_class


def edited(one, check_id, **fields):
    report = copy.deepcopy(dict(one.report))
    for check in report["checks"]:
        if check["id"] == check_id:
            for name, value in fields.items():
                if name == "adapter":
                    check["details"]["adapter"] = value
                else:
                    check[name] = value
    return replace(one, report=report)


def concerns(flags, key):
    return [flag.concern for flag in flags if flag.key == key]


def test_each_fixture_raises_its_own_concerns():
    flags = flags_for(graded_class())
    assert concerns(flags, MEMBERS[0].key) == []
    assert Concern.FORBIDDEN in concerns(flags, MEMBERS[1].key)
    # the others were graded with some check groups only: checks left out are not set-up faults
    assert not any(Concern.RERUN in concerns(flags, member.key) for member in MEMBERS)
    reference = graded_class()[0]
    report = copy.deepcopy(dict(reference.report))
    report["summary"]["needs_rerun"] = ["api.train"]
    assert concerns(flags_for([replace(reference, report=report)]), reference.key) == [Concern.RERUN]


def test_a_block_passed_only_through_the_adapter_is_flagged():
    reference = graded_class()[0]
    flags = flags_for([edited(reference, "blocks.conv2d", adapter=True)])
    assert [(flag.concern, flag.text) for flag in flags] == [
        (Concern.ADAPTED, "adapted API (half points): blocks.conv2d")
    ]


def test_other_points_for_the_same_inputs_are_nondeterministic():
    reference = graded_class()[0]
    earlier = replace(edited(reference, "api.predict", points=0.0, outcome="fail"), run_id=1)
    timing_only = replace(edited(reference, "timing.predict", points=0.0, outcome="fail"), run_id=2)
    other_bytes = replace(earlier, submission_sha256="0" * 64, run_id=3)
    current = replace(reference, run_id=4)
    flags = flags_for([current], history=[earlier, timing_only, other_bytes, current])
    assert [(flag.concern, flag.text) for flag in flags] == [
        (Concern.NONDETERMINISTIC, "same inputs, other points in run 1: api.predict")
    ]


def test_similar_pairs_are_listed_most_similar_first():
    graded = graded_class()
    similar = [SimilarTo(graded[0].key, "b", 70.0), SimilarTo(graded[0].key, "c", 91.0)]
    texts = [flag.text for flag in flags_for(graded[:1], similar=similar)]
    assert texts == ["code similar to c (91% of its code)", "code similar to b (70% of its code)"]
