"""Evidence of copying between answers, weighed by how much answers to the exercise could differ.

A fingerprint that every answer has (the loop over the layers that everyone writes) is no evidence;
one that only two answers share is. Each fingerprint ``h`` of an answer weighs, in bits,

    w(h) = log2((D - 1 + C) / (others(h) + C * P0))

where ``D`` counts the answers to the exercise (the class's and a bank's of independent solutions)
and ``others(h)`` how many *other* answers have ``h``: ``-log2`` of the chance that another answer has
it, estimated from the class with ``C`` pseudo-answers that each have it with probability ``P0`` (so that a
small class does not make every fingerprint look rare, nor a fingerprint seen nowhere else infinitely so).

For a pair of answers, the **evidence** is the sum of the weights of the fingerprints they share,
leaving out those a public source also has (the reference, the course's solution, the known
solutions): a match to a public source is reported as that, once per answer, not as a web of pairs.
The **coverage** is the evidence over the weight of the smaller answer (leaving out the same): the
share of what that answer wrote on its own that the other answer has too. Pairs are ranked by
``evidence * coverage`` (long answers that share everything first), and flagged when coverage is at
least :data:`FLAG_COVERAGE` and evidence at least :data:`FLAG_BITS`. An exercise whose typical answer has
fewer than :data:`MIN_FINGERPRINTS` fingerprints beyond the scaffold is too short to tell: everyone
writes ``np.maximum(Z, 0)``.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .answers import Answer

C, P0 = 10.0, 0.05  # the pseudo-answers of the weights (see the module's docstring)
FLAG_BITS = 80.0  # a flagged pair shares at least this much evidence ...
FLAG_COVERAGE = 0.5  # ... and at least this share of the smaller answer's own content
MIN_FINGERPRINTS = 6  # a typical answer with fewer fingerprints than this (about two lines) is too short to tell
COMMON_POSTINGS = 64  # fingerprints in more answers than this go through a matrix product, not pair lists


@dataclass
class Match:
    """What two answers share: ``a`` and ``b`` index the exercise's class answers (a pair), or ``a`` a class
    answer and ``b`` a public source (a match with a source)."""

    a: int
    b: int
    evidence: float
    coverage: float
    flagged: bool

    @property
    def score(self) -> float:
        """What pairs are ranked by: evidence, discounted by how little of the answers it covers."""
        return self.evidence * self.coverage


@dataclass
class ExerciseScores:
    """Everything the report says about one exercise."""

    pairs: list[Match]  # ranked, strongest first (only pairs sharing something)
    matches: list[Match]  # ranked, a class answer and a public source
    clusters: list[list[int]]  # answers joined by flagged pairs, largest first
    too_short: str | None  # why the exercise is too short to tell, or None
    weights: dict[int, float]
    typical_fingerprints: float
    answered: int


def fingerprint_weights(documents: list[Answer]) -> dict[int, float]:
    """``{hash: weight in bits}`` over ``documents`` (the class's answers and the bank's)."""
    counts = Counter(h for doc in documents for h in doc.prints)
    total = sum(1 for doc in documents if not doc.empty)
    return {h: math.log2((total - 1 + C) / (count - 1 + C * P0)) for h, count in counts.items()}


def _pair_evidence(answers: list[Answer], weights: dict[int, float], public: set[int]) -> np.ndarray:
    """The (n, n) matrix of evidence between class answers (upper triangle), public fingerprints left out."""
    n = len(answers)
    postings: dict[int, list[int]] = {}
    for index, answer in enumerate(answers):
        for h in answer.prints:
            if h not in public:
                postings.setdefault(h, []).append(index)
    keys, values, common = [], [], []
    for h, docs in postings.items():
        if len(docs) < 2:
            continue
        if len(docs) > COMMON_POSTINGS:
            common.append(h)
            continue
        docs_array = np.array(docs)
        first, second = np.triu_indices(len(docs), 1)
        keys.append(docs_array[first] * n + docs_array[second])
        values.append(np.full(len(first), weights[h]))
    evidence = np.zeros(n * n)
    if keys:
        evidence = np.bincount(np.concatenate(keys), np.concatenate(values), minlength=n * n).astype(float)
    evidence = evidence.reshape(n, n)
    if common:  # fingerprints many share: one weighted product of the (answer, fingerprint) incidence
        column = {h: j for j, h in enumerate(common)}
        incidence = np.zeros((n, len(common)))
        for h in common:
            incidence[postings[h], column[h]] = 1.0
        w = np.array([weights[h] for h in common])
        evidence += np.triu((incidence * w) @ incidence.T, 1)
    return evidence


def _clusters(pairs: list[Match]) -> list[list[int]]:
    parent: dict[int, int] = {}

    def root(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for pair in pairs:
        if pair.flagged:
            parent[root(pair.a)] = root(pair.b)
    groups: dict[int, list[int]] = {}
    for member in list(parent):
        groups.setdefault(root(member), []).append(member)
    return sorted((sorted(group) for group in groups.values() if len(group) > 1), key=lambda g: (-len(g), g))


def score_exercise(answers: list[Answer], sources: list[Answer], bank: list[Answer] = ()) -> ExerciseScores:
    """Rank the pairs of ``answers`` (a class, one answer per student) and their matches with ``sources``
    (public answers: the reference, the course's solution, known solutions); ``bank`` (independent
    solutions) only helps say how rare a fingerprint is."""
    weights = fingerprint_weights(list(answers) + list(bank))
    public = {h for source in sources for h in source.prints}
    answered = [answer for answer in answers if not answer.empty]
    typical = statistics.median(len(answer.prints) for answer in answered) if answered else 0.0
    too_short = None
    if typical < MIN_FINGERPRINTS:
        too_short = (f"too short to tell: a typical answer has {typical:g} fingerprint(s) beyond what the release "
                     f"gave (fewer than {MIN_FINGERPRINTS}, about two lines), so that independent answers come out "
                     "the same and an exact copy is no evidence")

    own = np.array([sum(weights[h] for h in answer.prints if h not in public) for answer in answers])
    whole = np.array([sum(weights[h] for h in answer.prints) for answer in answers])
    pairs: list[Match] = []
    if len(answers) > 1:
        evidence = _pair_evidence(answers, weights, public)
        first, second = np.nonzero(evidence > 0)
        smaller = np.minimum(own[first], own[second])
        coverage = np.divide(evidence[first, second], smaller, out=np.zeros(len(first)), where=smaller > 0)
        for a, b, e, c in zip(first.tolist(), second.tolist(), evidence[first, second].tolist(), coverage.tolist()):
            pairs.append(Match(a, b, e, c, flagged=not too_short and c >= FLAG_COVERAGE and e >= FLAG_BITS))
        pairs.sort(key=lambda p: (-p.score, p.a, p.b))

    matches: list[Match] = []
    for index, answer in enumerate(answers):
        if answer.empty or whole[index] <= 0:
            continue
        for source_index, source in enumerate(sources):
            shared = sum(weights[h] for h in answer.prints if h in source.prints)
            if shared > 0:
                share = shared / whole[index]
                matches.append(Match(index, source_index, shared, share,
                                           flagged=not too_short and share >= FLAG_COVERAGE and shared >= FLAG_BITS))
    matches.sort(key=lambda m: (-m.score, m.a, m.b))
    return ExerciseScores(pairs, matches, _clusters(pairs), too_short, weights, typical, len(answered))
