"""Code similarity across a class, with copydetect's winnowed k-gram fingerprints of tokenised code.

Each submission's Python files are joined into one text (each file after a `# file: PATH` line) and
tokenised as copydetect's own filter does with pygments, by a regular-expression lexer of Python's
tokens (the reference's 77 kB in 0.1 s, against 2 s through pygments): names become `V` (`F` after
`def`, `O` after `class`), strings `S`, comments and white space vanish, so renaming or reformatting
does not hide a copy. copydetect then hashes every k-gram, winnows them, drops the fingerprints of the
course's template (`harness.exports.template`) and finds the copied slices of each pair. A side's share
is its copied tokens over its fingerprinted tokens (copydetect's similarity); a pair is listed when
either share reaches the threshold, with its longest fragments as line ranges of the original files,
side by side. A pair sharing fewer than half the threshold of the smaller side's fingerprints is not
measured further (the share follows that containment closely). Similarity flags a pair for a human;
it never changes a score.
"""

from __future__ import annotations

import bisect
import itertools
import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from copydetect.utils import get_copied_slices, get_document_fingerprints, get_token_coverage

from harness.exports import SIMILARITY_THRESHOLD
from harness.exports.attention import SimilarTo
from harness.exports.template import TEMPLATE_CODE

NOISE_TOKENS = 25
"""k: the shortest run of matching (tokenised) characters that counts as copied."""
GUARANTEE_TOKENS = 30
"""A run at least this long is always found (winnow window = guarantee - noise + 1)."""
DEFAULT_THRESHOLD = SIMILARITY_THRESHOLD
MAX_FRAGMENTS = 6
FILE_MARKER = "# file: "


@dataclass(frozen=True)
class Fragment:
    """One matching stretch: file and 1-based line range on each side, and the lines themselves."""

    file_a: str
    lines_a: tuple[int, int]
    text_a: str
    file_b: str
    lines_b: tuple[int, int]
    text_b: str


@dataclass(frozen=True)
class SimilarPair:
    """Two submissions whose code overlaps: the copied share of each side and the longest fragments."""

    key_a: str
    key_b: str
    share_a: float
    share_b: float
    fragments: tuple[Fragment, ...]

    @property
    def share(self) -> float:
        return max(self.share_a, self.share_b)

    def sides(self) -> tuple[SimilarTo, SimilarTo]:
        """The pair as one `SimilarTo` per side, for the attention list."""
        return (
            SimilarTo(self.key_a, self.key_b, 100 * self.share_a),
            SimilarTo(self.key_b, self.key_a, 100 * self.share_b),
        )


@dataclass(frozen=True)
class _Document:
    """One submission's joined text, its tokenised form and fingerprints."""

    key: str
    text: str
    file_starts: tuple[int, ...]
    file_names: tuple[str, ...]
    token_start: np.ndarray
    """Where in `text` the token behind each character of the tokenised form starts, and ends."""
    token_end: np.ndarray
    hashes: set[int]
    hash_idx: dict[int, list[int]]
    coverage: float


def read_sources(package_dir: Path) -> dict[str, str]:
    """The Python files under `package_dir` by POSIX relative path (undecodable bytes replaced)."""
    return {
        path.relative_to(package_dir).as_posix(): path.read_bytes().decode("utf-8", errors="replace")
        for path in sorted(Path(package_dir).rglob("*.py"))
        if path.is_file() and not path.is_symlink()
    }


def similar_pairs(
    sources: Mapping[str, Mapping[str, str]],
    threshold: float = DEFAULT_THRESHOLD,
    template: str = TEMPLATE_CODE,
) -> list[SimilarPair]:
    """Every pair of submissions (by key → {file: code}) sharing at least `threshold` of one side's
    code, the template excluded; most similar first."""
    template_document = _document("template", {"template.py": template}, np.array([], dtype=np.int64), 1)
    boilerplate = np.array(sorted(template_document.hashes), dtype=np.int64)
    documents = [_document(key, files, boilerplate) for key, files in sources.items()]
    pairs = []
    for first, second in itertools.combinations(documents, 2):
        common = first.hashes & second.hashes
        smaller = min(len(first.hashes), len(second.hashes))
        if not common or len(common) < threshold / 2 * smaller:
            continue
        share_a, share_b = _share(first, second, common), _share(second, first, common)
        if max(share_a, share_b) >= threshold:
            pairs.append(
                SimilarPair(first.key, second.key, share_a, share_b, _fragments(first, second, common))
            )
    return sorted(pairs, key=lambda pair: (-pair.share, pair.key_a, pair.key_b))


def _document(
    key: str,
    files: Mapping[str, str],
    boilerplate: np.ndarray,
    window: int = GUARANTEE_TOKENS - NOISE_TOKENS + 1,
) -> _Document:
    """The fingerprints of one submission's code, winnowed over `window` k-grams, less `boilerplate`.

    The template is fingerprinted with a window of 1 (every k-gram, as copydetect does for boilerplate):
    which k-grams winnowing keeps depends on the process's string hash seed, so a winnowed template
    would leave some of its own k-grams in a submission on some seeds."""
    parts, starts, names, offset = [], [], [], 0
    for name, code in sorted(files.items()):
        part = f"{FILE_MARKER}{name}\n{code}\n"
        parts.append(part)
        starts.append(offset)
        names.append(name)
        offset += len(part)
    text = "".join(parts)
    tokens: list[str] = []
    begins: list[int] = []
    ends: list[int] = []
    for name, start in zip(names, starts, strict=True):
        body = start + len(FILE_MARKER) + len(name) + 1
        for symbol, begin, end in _tokens(files[name]):
            tokens.append(symbol)
            begins.append(body + begin)
            ends.append(body + end)
    filtered = "".join(tokens)
    lengths = np.fromiter((len(symbol) for symbol in tokens), dtype=np.int64, count=len(tokens))
    token_start, token_end = np.repeat(begins, lengths), np.repeat(ends, lengths)
    hashes, hash_idx = get_document_fingerprints(filtered, NOISE_TOKENS, window, boilerplate)
    return _Document(
        key=key,
        text=text,
        file_starts=tuple(starts),
        file_names=tuple(names),
        token_start=token_start.astype(np.int64),
        token_end=token_end.astype(np.int64),
        hashes=hashes,
        hash_idx=hash_idx,
        coverage=float(get_token_coverage(hash_idx, NOISE_TOKENS, len(filtered))),
    )


def _tokens(code: str) -> list[tuple[str, int, int]]:
    """`code` as copydetect's filter sees it: (symbol, start, end in `code`) per token, comments and
    white space left out. It never stops on broken code: a character it does not know is a token of
    its own."""
    symbols = []
    previous = ""
    for match in _TOKEN.finditer(code):
        kind, text = match.lastgroup, match.group()
        if kind in ("space", "comment"):
            continue
        if kind == "name" and not keyword.iskeyword(text):
            symbol = {"def": "F", "class": "O"}.get(previous, "V")
        elif kind == "string":
            symbol = "S"
        else:
            symbol = text
        symbols.append((symbol, match.start(), match.end()))
        previous = text
    return symbols


_TOKEN = re.compile(
    r"""
    (?P<space>[ \t\f\r\n]+|\\\n)
    |(?P<comment>\#[^\n]*)
    |(?P<string>[rRbBuUfF]{0,2}
        (?:'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''
        |\"\"\"[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*\"\"\"
        |'[^'\\\n]*(?:\\.[^'\\\n]*)*'
        |"[^"\\\n]*(?:\\.[^"\\\n]*)*"))
    |(?P<name>[^\W\d]\w*)
    |(?P<number>\d[\w.]*|\.\d\w*)
    |(?P<op>\*\*=?|//=?|>>=?|<<=?|->|:=|\.\.\.|[-+*/%@&|^=<>!]=|[-+*/%@&|^~<>()\[\]{},:;.=])
    |(?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


def _share(first: _Document, second: _Document, common: set[int]) -> float:
    """The share of `first`'s fingerprinted tokens that `second` also has (copydetect's similarity)."""
    positions = np.concatenate([np.array(first.hash_idx[value]) for value in common])
    starts, ends = get_copied_slices(positions, NOISE_TOKENS)
    return float(np.sum(ends - starts) / first.coverage) if first.coverage else 0.0


def _fragments(first: _Document, second: _Document, common: set[int]) -> tuple[Fragment, ...]:
    """The longest copied stretches of `first`, each with the stretch of `second` it matches: every
    shared fingerprint ties a position of one to a position of the other."""
    partner: dict[int, int] = {}
    for value in common:
        for position in first.hash_idx[value]:
            partner.setdefault(int(position), int(second.hash_idx[value][0]))
    starts, ends = get_copied_slices(np.array(sorted(partner)), NOISE_TOKENS)
    stretches = sorted(zip(starts.tolist(), ends.tolist(), strict=True), key=lambda s: s[0] - s[1])
    fragments = []
    for start, end in sorted(stretches[:MAX_FRAGMENTS]):
        matched = [partner[p] for p in partner if start <= p < end]
        file_a, lines_a, text_a = _locate(first, start, end)
        file_b, lines_b, text_b = _locate(second, min(matched), max(matched) + NOISE_TOKENS)
        fragments.append(Fragment(file_a, lines_a, text_a, file_b, lines_b, text_b))
    return tuple(fragments)


def _locate(document: _Document, start: int, end: int) -> tuple[str, tuple[int, int], str]:
    """File name, 1-based line range within it, and the whole original lines of a tokenised span
    (cut at the end of the file it starts in)."""
    raw_start = int(document.token_start[start])
    raw_end = int(document.token_end[min(end, len(document.token_end)) - 1])
    text = document.text
    index = max(0, bisect.bisect_right(document.file_starts, raw_start) - 1)
    if index + 1 < len(document.file_starts):  # a stretch running on into the next file stops at its end
        raw_end = min(raw_end, document.file_starts[index + 1] - 1)
    body_start = text.index("\n", document.file_starts[index]) + 1
    line_start = text.rfind("\n", 0, raw_start) + 1
    line_end = text.find("\n", max(raw_start, raw_end - 1))
    line_end = len(text) if line_end < 0 else line_end
    first_line = text.count("\n", body_start, line_start) + 1
    last_line = first_line + text.count("\n", line_start, line_end)
    return document.file_names[index], (first_line, last_line), text[line_start:line_end]
