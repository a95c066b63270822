"""Winnowing (Schleimer, Wilkerson and Aiken, 2003, the method of MOSS) over normalised tokens.

Every ``K`` consecutive tokens (a k-gram) get a hash; in each window of ``WINDOW`` consecutive
k-gram hashes the smallest is kept (the rightmost, when several are smallest). Any stretch of at least
``K + WINDOW - 1`` tokens that two answers share gives them at least one kept hash in common, while
an answer keeps only about ``2 / (WINDOW + 1)`` of its k-grams. A text shorter than ``K`` tokens is
one k-gram of its own length, so that even a one-line answer has a fingerprint.

A fingerprint is ``hash -> (first line, last line)`` of the tokens of its k-gram in the answer's source
(the first place it occurs), which the side-by-side view highlights.
"""

from __future__ import annotations

import zlib

import numpy as np

K = 12  # tokens per k-gram: about one line of code (an assignment with a call is 8 to 15 tokens)
WINDOW = 4  # k-grams per window: every shared stretch of K + WINDOW - 1 = 15 tokens is found
_BASE = np.uint64(1_000_003)  # multiplier of the polynomial k-gram hash (wraps modulo 2**64)


def token_ids(tokens: list[str]) -> np.ndarray:
    """Each token as a stable 32-bit number (the same in every process and run, unlike ``hash``)."""
    return np.array([zlib.crc32(token.encode()) for token in tokens], dtype=np.uint64)


def kgram_hashes(ids: np.ndarray, k: int = K) -> np.ndarray:
    """The hash of every k-gram of ``ids`` (n,), shape (max(n - k + 1, 1),); one hash of all of them when n < k."""
    k = min(k, len(ids))
    if k == 0:
        return np.zeros(0, dtype=np.uint64)
    count = len(ids) - k + 1
    hashes = np.full(count, np.uint64(k), dtype=np.uint64)  # seeded with the length: short texts differ by it
    with np.errstate(over="ignore"):
        for offset in range(k):
            hashes = hashes * _BASE + ids[offset:offset + count]
    return hashes


def winnow(hashes: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """Positions of the kept hashes (sorted, each once): the rightmost minimum of every window."""
    if len(hashes) <= window:
        return np.arange(len(hashes)) if len(hashes) else np.zeros(0, dtype=np.int64)
    windows = np.lib.stride_tricks.sliding_window_view(hashes, window)
    # the rightmost minimum: argmin of each window reversed
    rightmost = window - 1 - np.argmin(windows[:, ::-1], axis=1)
    return np.unique(np.arange(len(windows)) + rightmost)


def fingerprints(tokens: list[tuple[str, int]], k: int = K, window: int = WINDOW) -> dict[int, tuple[int, int]]:
    """``{hash: (first line, last line)}`` of the winnowed k-grams of ``tokens`` ``[(token, line), ...]``."""
    if not tokens:
        return {}
    ids = token_ids([token for token, _ in tokens])
    lines = np.array([line for _, line in tokens])
    hashes = kgram_hashes(ids, k)
    span = min(k, len(tokens))
    found: dict[int, tuple[int, int]] = {}
    for position in winnow(hashes, window):
        covered = lines[position:position + span]
        found.setdefault(int(hashes[position]), (int(covered.min()), int(covered.max())))
    return found
