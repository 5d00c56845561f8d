"""Similarity: a renamed copy is found with its fragments, the template alone is not, broken code
is compared."""

from __future__ import annotations

from harness.exports.similarity import read_sources, similar_pairs
from harness.exports.template import TEMPLATE_CODE
from tests.class_fixtures import REFERENCE

DISTINCT = {
    "alpha": (
        "def scale(values, factor):\n"
        "    out = []\n"
        "    for v in values:\n"
        "        out.append(v * factor + 1)\n"
        "    return out\n"
    ),
    "beta": (
        "class Counter:\n"
        "    def __init__(self):\n"
        "        self.seen = {}\n"
        "\n"
        "    def add(self, word):\n"
        "        self.seen[word] = self.seen.get(word, 0) + 1\n"
        "        return len(self.seen)\n"
    ),
}


def renamed(files):
    """A copy with every `self` renamed and other names changed: what a student hides a copy with."""
    return {
        name: code.replace("self", "me").replace("weight", "kernel").replace("# ", "#  ")
        for name, code in files.items()
    }


def test_a_renamed_copy_is_flagged_with_matching_fragments():
    reference = read_sources(REFERENCE)
    other = read_sources(REFERENCE.parent / "tests" / "submissions" / "rules_numpy" / "Miniproject_2")
    pairs = similar_pairs({"original": reference, "copy": renamed(reference), "other": other})
    assert [(pair.key_a, pair.key_b) for pair in pairs] == [("original", "copy")]
    pair = pairs[0]
    assert pair.share_a > 0.9 and pair.share_b > 0.9
    copy = renamed(reference)
    for fragment in pair.fragments:
        # each side's fragment is those very lines of that side's file
        start, end = fragment.lines_a
        assert fragment.text_a == "\n".join(reference[fragment.file_a].splitlines()[start - 1 : end])
        start, end = fragment.lines_b
        assert fragment.text_b == "\n".join(copy[fragment.file_b].splitlines()[start - 1 : end])
        assert fragment.text_a.replace("self", "me").replace("weight", "kernel") == fragment.text_b.replace(
            "#  ", "# "
        )


def test_sharing_only_the_template_is_not_similar():
    sources = {key: {"model.py": TEMPLATE_CODE + "\n" + code} for key, code in DISTINCT.items()}
    assert similar_pairs(sources, threshold=0.2) == []
    without_boilerplate = similar_pairs(sources, threshold=0.2, template="")
    assert [(p.key_a, p.key_b) for p in without_boilerplate] == [("alpha", "beta")]


def test_code_that_does_not_tokenise_is_still_compared():
    broken = {"model.py": DISTINCT["beta"] + "if True:\n        a = 1\n    b = 2\n"}  # a bad dedent
    pairs = similar_pairs(
        {"a": broken, "b": dict(broken), "c": {"model.py": DISTINCT["alpha"]}}, threshold=0.5
    )
    assert [(pair.key_a, pair.key_b, pair.share_a) for pair in pairs] == [("a", "b", 1.0)]
