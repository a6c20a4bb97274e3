"""Resolving tool names the way people type them, and autocomplete. Pure: no Discord, no database.

Order of resolution: the exact name or alias; then the same ignoring case, punctuation and
spacing ("Koa.js", "express js"); then typo-tolerant matching ("expres", "flaks"). A name that
fits several tools, or none well enough, returns ranked suggestions instead of a guess.

A full `rapidfuzz` scan of 100,000 names costs about 100 ms, which would stall the event loop,
so candidates come from a sorted prefix index and a trigram shortlist; only those are scored.
"""

from __future__ import annotations

import bisect
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import fuzz, process, utils
from rapidfuzz.distance import OSA

AUTOCOMPLETE_LIMIT = 25
SHORTLIST_SIZE = 400
PREFIX_CANDIDATES = 100
# Enough scored labels to fill 25 distinct tools even when some tools match by several aliases.
RANKED_LABELS = 100
# Posting lists are read rarest first until this many entries have been counted: common
# trigrams ("ing", " co") say little and cost the most, rare ones (a typo's among them) are cheap.
POSTING_BUDGET = 4_000

MatchKind = Literal["exact", "normalized", "typo", "fuzzy"]


@dataclass(frozen=True)
class ToolEntry:
    tool_id: int
    slug: str
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resolution:
    query: str
    tool: ToolEntry | None
    how: MatchKind | None
    suggestions: tuple[ToolEntry, ...] = ()

    @property
    def resolved(self) -> bool:
        return self.tool is not None


def normalize(text: str) -> str:
    """Case-, punctuation- and spacing-free key: "Express.js " -> "expressjs", "C#" -> "csharp"."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("#", "sharp").replace("+", "plus")
    return "".join(ch for ch in text if ch.isalnum())


def _variants(key: str) -> list[str]:
    """Spellings that mean the same tool: "koajs" and "koa", "node" and "nodejs"."""
    if key.endswith("js") and len(key) > 4:
        return [key[:-2]]
    if len(key) >= 3:
        return [key + "js"]
    return []


def _trigrams(key: str) -> set[str]:
    padded = f" {key} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


@dataclass
class CatalogIndex:
    """In-memory index over every tool name and alias; rebuilt whole when the catalog changes."""

    tools: list[ToolEntry]
    labels: list[str] = field(init=False)
    label_tool: list[int] = field(init=False)
    revision: int = 0

    def __post_init__(self) -> None:
        self.labels = []
        self.label_tool = []
        self._exact: dict[str, set[int]] = {}
        self._normalized: dict[str, set[int]] = {}
        # "koa" <-> "koajs": each label is also filed under its variant spellings.
        self._variant: dict[str, set[int]] = {}
        self._keys: list[str] = []
        self._postings: dict[str, list[int]] = {}
        for tool_index, tool in enumerate(self.tools):
            for label in dict.fromkeys((tool.name, *tool.aliases)):
                label_index = len(self.labels)
                key = normalize(label)
                self.labels.append(label)
                self.label_tool.append(tool_index)
                self._keys.append(key)
                self._exact.setdefault(label.strip(), set()).add(tool_index)
                if key:
                    self._normalized.setdefault(key, set()).add(tool_index)
                    for variant in _variants(key):
                        self._variant.setdefault(variant, set()).add(tool_index)
                for gram in _trigrams(key):
                    self._postings.setdefault(gram, []).append(label_index)
        self._processed = [utils.default_process(label) for label in self.labels]
        self._sorted_keys = sorted((key, index) for index, key in enumerate(self._keys) if key)
        self._by_name = sorted(range(len(self.tools)), key=lambda i: self.tools[i].name.casefold())
        self._by_slug = {tool.slug: tool for tool in self.tools}

    def __len__(self) -> int:
        return len(self.tools)

    def by_slug(self, slug: str) -> ToolEntry | None:
        return self._by_slug.get(slug)

    # ------------------------------------------------------------------ candidates

    def _prefix_candidates(self, key: str) -> list[int]:
        start = bisect.bisect_left(self._sorted_keys, key, key=_first)
        found: list[int] = []
        for position in range(start, min(start + PREFIX_CANDIDATES, len(self._sorted_keys))):
            other, label_index = self._sorted_keys[position]
            if not other.startswith(key):
                break
            found.append(label_index)
        return found

    def _trigram_candidates(self, key: str) -> list[int]:
        # Sorted by (length, trigram) so that ties in the shortlist break the same way every run.
        grams = sorted((len(self._postings[g]), g) for g in _trigrams(key) if g in self._postings)
        lists = [self._postings[g] for _, g in grams]
        counts: Counter[int] = Counter()
        read = 0
        for number, posting in enumerate(lists):
            if number >= 2 and read + len(posting) > POSTING_BUDGET:
                break
            counts.update(posting)
            read += len(posting)
        if len(counts) <= SHORTLIST_SIZE:
            return list(counts)
        return [index for index, _ in counts.most_common(SHORTLIST_SIZE)]

    def _ranked(self, query: str, key: str) -> list[tuple[int, float]]:
        """Candidate labels for `query` (normalized: `key`) scored with WRatio, best first;
        ties go to labels the key prefixes, then to short labels."""
        processed = utils.default_process(query)
        if not processed or not key:
            return []
        label_indices = list(
            dict.fromkeys(self._prefix_candidates(key) + self._trigram_candidates(key))
        )
        matches = process.extract(
            processed,
            [self._processed[i] for i in label_indices],
            scorer=fuzz.WRatio,
            processor=None,
            limit=RANKED_LABELS,
        )
        matches.sort(
            key=lambda match: (
                -match[1],
                not self._keys[label_indices[match[2]]].startswith(key),
                len(self.labels[label_indices[match[2]]]),
            )
        )
        return [(label_indices[position], float(score)) for _, score, position in matches]

    # ------------------------------------------------------------------ public API

    def complete(self, query: str, limit: int = AUTOCOMPLETE_LIMIT) -> list[ToolEntry]:
        """Up to `limit` tools for an autocomplete box, best first, each tool once."""
        key = normalize(query)
        if not key:
            return [self.tools[i] for i in self._by_name[:limit]]
        seen: set[int] = set()
        result: list[ToolEntry] = []
        for label_index, _score in self._ranked(query, key):
            tool_index = self.label_tool[label_index]
            if tool_index not in seen:
                seen.add(tool_index)
                result.append(self.tools[tool_index])
                if len(result) == limit:
                    break
        return result

    def best_label(self, query: str) -> tuple[str, float] | None:
        """The best-scoring label and its score (what the benchmark compares to a full scan)."""
        ranked = self._ranked(query, normalize(query))
        return (self.labels[ranked[0][0]], ranked[0][1]) if ranked else None

    def resolve(self, query: str) -> Resolution:
        text = query.strip()
        key = normalize(text)
        if not key:
            return Resolution(query=query, tool=None, how=None)
        for how, hits in (
            ("exact", self._exact.get(text)),
            ("normalized", self._normalized.get(key)),
            ("normalized", self._variant.get(key)),
        ):
            if hits:
                if len(hits) == 1:
                    return Resolution(query, self.tools[next(iter(hits))], how)  # type: ignore[arg-type]
                ranked = sorted(hits, key=lambda i: self.tools[i].name.casefold())
                return Resolution(query, None, None, tuple(self.tools[i] for i in ranked))
        return self._resolve_fuzzy(query, key)

    def _resolve_fuzzy(self, query: str, key: str) -> Resolution:
        best_by_tool: dict[int, tuple[float, int]] = {}
        for label_index, score in self._ranked(query, key):
            tool_index = self.label_tool[label_index]
            if tool_index not in best_by_tool:
                typo = OSA.distance(key, self._keys[label_index])
                best_by_tool[tool_index] = (score, typo)
            if len(best_by_tool) >= 10:
                break
        if not best_by_tool:
            return Resolution(query, None, None)

        # One typo (two in long names) is a safe correction when only one tool is that close.
        allowed = 1 if len(key) < 8 else 2
        close = [i for i, (_s, typo) in best_by_tool.items() if typo <= allowed and len(key) >= 4]
        if len(close) == 1:
            return Resolution(query, self.tools[close[0]], "typo")

        ranked = sorted(best_by_tool.items(), key=lambda item: -item[1][0])
        best_index, (best_score, _) = ranked[0]
        runner_up = ranked[1][1][0] if len(ranked) > 1 else 0.0
        if not close and best_score >= 90 and best_score - runner_up >= 5:
            return Resolution(query, self.tools[best_index], "fuzzy")
        suggestions = tuple(self.tools[i] for i, (score, _) in ranked[:5] if score >= 60)
        return Resolution(query, None, None, suggestions)


def _first(item: tuple[str, int]) -> str:
    return item[0]
