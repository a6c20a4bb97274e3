"""Autocomplete benchmark: `CatalogIndex` against a full `rapidfuzz` scan of the same names.

Measures, at 1k, 10k and 100k tool names (the shipped catalog first, then generated tool-like
names, some with aliases):

* build time of `bot.resolver.CatalogIndex`;
* p50/p99 latency per query of `CatalogIndex.complete(query)`;
* p50/p99 of a full `rapidfuzz.process.extract` scan of the same labels (same scorer and
  processor) and the ratio full scan / index;
* agreement: how often the index's best label (`CatalogIndex.best_label`) is as good as the
  full scan's best (`process.extractOne`): the same label, or another label with the same
  top score (a tie is equally correct). The strict same-label rate is printed too.

The query set (prefixes, one typo, case changes, spacing and punctuation changes) is
deterministic and printed. Targets: p99 under 3 ms at 100k, agreement of at least 95% at 100k.
It always exits 0: it is a benchmark, not a test; the PASS/FAIL lines report the targets.

Run from the repository root with `make bench` or `.venv/bin/python bench/autocomplete.py`.
"""

from __future__ import annotations

import math
import random
import statistics
import sys
import textwrap
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rapidfuzz import fuzz, process, utils

from bot.core.resolver import CatalogIndex, ToolEntry, normalize
from db.catalog_format import SHIPPED_CATALOG_DIR, load_catalog

SEED = 20240611
SIZES = (1_000, 10_000, 100_000)
REPEATS = 3  # the query set is timed this many times against the index
WARMUP = 20
# Full scans cost ~100 ms each at 100k names: time a sample there (agreement uses every query).
SCAN_SAMPLE = {1_000: None, 10_000: None, 100_000: 100}
TARGET_P99_MS = 3.0
TARGET_AGREEMENT = 95.0
TARGET_SIZE = 100_000
DISAGREEMENTS_SHOWN = 10
SLOWEST_SHOWN = 10

# ---------------------------------------------------------------------------------- names

HEADS = (
    "fast", "py", "flux", "hyper", "nano", "micro", "open", "quick", "deep", "neo", "auto",
    "cloud", "data", "go", "rust", "swift", "snap", "bolt", "zen", "astro", "nova", "terra",
    "vector", "graph", "stream", "pixel", "sky", "iron", "blue", "meta", "omni", "poly", "uni",
    "mono", "tiny", "super", "ultra", "smart", "light", "solid", "next", "fire", "ice", "star",
    "echo", "rapid", "pure", "true", "jet", "atom", "quantum", "sonic", "turbo", "lumen",
    "orbit", "prism", "ember", "cobalt", "cedar", "maple", "koi", "lynx", "raven", "otter",
    "panda", "falcon", "hawk", "wolf", "fox", "bee", "ant", "type", "react", "vue", "node",
    "java", "kotlin", "elm", "ruby", "php", "sql", "mongo", "redis", "kafka", "spark", "edge",
)  # fmt: skip
PARTS = (
    "db", "kit", "ql", "router", "ify", "js", "hub", "stack", "flow", "base", "forge", "lab",
    "ly", "io", "ops", "dash", "mesh", "grid", "pipe", "sync", "cache", "store", "queue", "log",
    "auth", "form", "test", "lint", "pack", "build", "bench", "scope", "wave", "core", "verse",
    "sense", "spark", "beam", "craft", "works", "box", "cast", "map", "view", "wind", "press",
    "bot", "deploy", "ship", "vault", "gate", "proxy", "mail", "chart", "trace", "watch",
    "socket", "shell", "script", "server", "query", "table", "sheet", "doc", "note", "task",
    "jobs", "cron", "rpc", "api", "orm", "cms", "ui", "css", "ml", "ai", "vm", "fs", "net",
)  # fmt: skip
SUFFIXES = (
    ".js", "-cli", " Cloud", "DB", " Pro", ".io", " UI", "-rs", " Studio", " Lite", "JS",
    " Server", " Engine", ".py", " Framework", "-go", " SDK", " Hub", " Labs", "X",
)  # fmt: skip
ONSETS = (
    "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br",
    "cr", "dr", "fl", "gl", "kr", "pl", "pr", "sk", "sl", "st", "tr", "th", "ch", "qu",
)  # fmt: skip
VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "io", "ou", "y")
CODAS = ("", "", "", "n", "r", "x", "k", "l", "m", "s", "t", "nd", "rk", "st")


def _invented_word(rng: random.Random) -> str:
    syllables = rng.choice((1, 2, 2, 2, 3))
    word = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(syllables))
    return word + rng.choice(CODAS)


def _styled(words: list[str], rng: random.Random) -> str:
    """Join words the way tool names are written: "FastKit", "fastkit", "Fast Kit", "fast-kit"."""
    style = rng.random()
    if style < 0.45:
        return "".join(w.capitalize() for w in words)
    if style < 0.60:
        return "".join(words)
    if style < 0.80:
        return " ".join(w.capitalize() for w in words)
    if style < 0.92:
        return "-".join(words)
    return words[0].capitalize() + "".join(words[1:])


def _generated_name(rng: random.Random) -> str:
    shape = rng.random()
    if shape < 0.40:
        words = [rng.choice(HEADS), rng.choice(PARTS)]
    elif shape < 0.65:
        words = [rng.choice(HEADS), rng.choice(PARTS), rng.choice(PARTS)]
    elif shape < 0.85:
        words = [_invented_word(rng)]
    else:
        words = [_invented_word(rng), rng.choice(PARTS)]
    name = _styled(words, rng)
    if rng.random() < 0.35:
        name += rng.choice(SUFFIXES)
    return name


def _generated_aliases(name: str, rng: random.Random) -> tuple[str, ...]:
    """About a quarter of generated tools get an alias or two, like the real catalog's."""
    if rng.random() >= 0.25:
        return ()
    lowered = name.lower()
    options = {
        lowered.replace(" ", ""),
        lowered.replace(".", " ").replace("-", " "),
        lowered.replace(".js", "js").replace(" cloud", "").replace(" ui", ""),
        lowered + " framework" if " " not in lowered else lowered.split(" ")[0],
    }
    options.discard(lowered)
    options.discard(name)
    options = {option.strip() for option in options if option.strip()}
    return tuple(sorted(options)[: rng.choice((1, 1, 2))])


@dataclass(frozen=True)
class Source:
    name: str
    aliases: tuple[str, ...]
    origin: str  # "catalog" or "generated"


def build_sources(total: int, rng: random.Random) -> list[Source]:
    """The shipped catalog, then generated tools with unique normalized names, `total` in all."""
    sources = [
        Source(tool.spec.name, tuple(tool.spec.aliases), "catalog")
        for tool in load_catalog([SHIPPED_CATALOG_DIR]).tools
    ]
    seen = {normalize(source.name) for source in sources}
    for source in sources:
        seen.update(normalize(alias) for alias in source.aliases)
    while len(sources) < total:
        name = _generated_name(rng)
        key = normalize(name)
        if len(key) < 3 or key in seen:
            continue
        aliases = tuple(a for a in _generated_aliases(name, rng) if normalize(a) not in seen)
        seen.add(key)
        seen.update(normalize(alias) for alias in aliases)
        sources.append(Source(name, aliases, "generated"))
    return sources


def to_entries(sources: list[Source]) -> list[ToolEntry]:
    return [
        ToolEntry(tool_id=i + 1, slug=f"tool-{i + 1}", name=s.name, aliases=s.aliases)
        for i, s in enumerate(sources)
    ]


# ---------------------------------------------------------------------------------- queries

KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _neighbour(ch: str, rng: random.Random) -> str:
    """A key next to `ch` on a QWERTY keyboard (a letter), the likeliest slip of the finger."""
    lower = ch.lower()
    for row_index, row in enumerate(KEYBOARD_ROWS):
        column = row.find(lower)
        if column < 0:
            continue
        near = [row[c] for c in (column - 1, column + 1) if 0 <= c < len(row)]
        for other in (row_index - 1, row_index + 1):
            if 0 <= other < len(KEYBOARD_ROWS):
                near += [KEYBOARD_ROWS[other][c] for c in (column, column + 1)
                         if c < len(KEYBOARD_ROWS[other])]  # fmt: skip
        return rng.choice(near)
    return rng.choice("etaoinsr")


def _prefix(name: str, rng: random.Random) -> str | None:
    if len(normalize(name)) < 3:
        return None
    length = rng.randint(2, min(6, len(name) - 1))
    query = name[:length].rstrip(" .-")
    if len(normalize(query)) < 2:
        return None
    return query.lower() if rng.random() < 0.7 else query


def _typo(name: str, rng: random.Random) -> str | None:
    text = name.lower() if rng.random() < 0.7 else name
    letters = [i for i, ch in enumerate(text) if ch.isalpha()]
    if len(normalize(text)) < 4 or len(letters) < 4:
        return None
    kind = rng.choice(("deletion", "insertion", "substitution", "transposition"))
    position = rng.choice(letters[1:])  # people rarely get the first letter wrong
    if kind == "deletion":
        return text[:position] + text[position + 1 :]
    if kind == "insertion":
        return text[:position] + _neighbour(text[position], rng) + text[position:]
    if kind == "substitution":
        return text[:position] + _neighbour(text[position], rng) + text[position + 1 :]
    if position + 1 >= len(text) or text[position] == text[position + 1]:
        position = letters[1] if letters[1] + 1 < len(text) else letters[0]
    return text[:position] + text[position + 1] + text[position] + text[position + 2 :]


def _case(name: str, rng: random.Random) -> str | None:
    options = {name.upper(), name.lower(), name.swapcase(), name.title()}
    options.discard(name)
    return rng.choice(sorted(options)) if options else None


def _split_camel(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if i and ch.isupper() and name[i - 1].islower():
            out.append(" ")
        out.append(ch)
    return "".join(out)


def _spacing(name: str, rng: random.Random) -> str | None:
    lowered = name.lower()
    options = {
        lowered.replace(".", " "),  # "next.js" -> "next js"
        lowered.replace(" ", ""),  # "django rest framework" -> "djangorestframework"
        lowered.replace(" ", "-"),
        lowered.replace("-", " "),
        _split_camel(name).lower(),  # "ExpressJS" -> "express js"
        _split_camel(name),  # "TypeORM" -> "Type ORM"
    }
    if lowered.endswith("js") and not lowered.endswith(".js"):
        options.add(lowered[:-2].rstrip(" ") + ".js")
    if not lowered.endswith("js") and len(lowered) >= 3 and " " not in lowered:
        options.update({name + ".js", lowered + " js"})  # "Koa" -> "Koa.js"
    options = {o for o in options if o != name and o.strip() and normalize(o)}
    return rng.choice(sorted(options)) if options else None


CATEGORIES = {"prefix": _prefix, "typo": _typo, "case": _case, "spacing": _spacing}


@dataclass(frozen=True)
class Query:
    text: str
    category: str
    target: str  # the name the query was made from
    origin: str


def build_queries(sources: list[Source], rng: random.Random, per_category: int) -> list[Query]:
    """Realistic queries from names present in every size: catalog names and the first
    generated ones (60% / 40%)."""
    catalog = [s for s in sources if s.origin == "catalog"]
    generated = [s for s in sources[: SIZES[0]] if s.origin == "generated"]
    queries: list[Query] = []
    seen: set[str] = set()
    for category, make in CATEGORIES.items():
        made = 0
        attempts = 0
        while made < per_category and attempts < per_category * 50:
            attempts += 1
            pool = catalog if made < per_category * 0.6 else generated
            source = rng.choice(pool)
            label = source.name
            if source.aliases and rng.random() < 0.2:
                label = rng.choice(source.aliases)
            text = make(label, rng)
            if text is None or text in seen or not normalize(text):
                continue
            seen.add(text)
            queries.append(Query(text, category, label, source.origin))
            made += 1
    return queries


# ---------------------------------------------------------------------------------- timing


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def time_calls(call, texts: list[str], repeats: int) -> list[float]:
    """Milliseconds per call, each timed alone with `perf_counter_ns`."""
    for text in texts[:WARMUP]:
        call(text)
    samples: list[float] = []
    for _ in range(repeats):
        for text in texts:
            start = time.perf_counter_ns()
            call(text)
            samples.append((time.perf_counter_ns() - start) / 1e6)
    return samples


@dataclass
class SizeResult:
    size: int
    labels: int
    build_s: float
    index_p50: float
    index_p99: float
    index_samples: int
    scan_p50: float
    scan_p99: float
    scan_samples: int
    agree: float
    strict: float
    by_category: dict[str, tuple[int, int]]
    disagreements: list[tuple[Query, tuple[str, float] | None, tuple[str, float]]]
    slowest: list[tuple[float, Query]]


def _print_latency(what: str, p50: float, p99: float, calls: int) -> None:
    print(f"{what:<16} p50 {p50:8.3f} ms  p99 {p99:8.3f} ms  ({calls} calls)")


def run_size(size: int, sources: list[Source], queries: list[Query]) -> SizeResult:
    entries = to_entries(sources[:size])
    start = time.perf_counter()
    index = CatalogIndex(entries)
    build_s = time.perf_counter() - start
    labels = index.labels
    texts = [q.text for q in queries]
    print(f"\n== {size:,} names ({len(labels):,} labels with aliases) ==")
    print(f"index build: {build_s:.2f} s")

    index_ms = time_calls(index.complete, texts, REPEATS)
    index_p50, index_p99 = percentile(index_ms, 0.50), percentile(index_ms, 0.99)
    _print_latency("index.complete", index_p50, index_p99, len(index_ms))
    # Per query: the median of its repeats, to name the slow queries behind the p99.
    per_query = [
        (statistics.median(index_ms[i :: len(texts)]), query) for i, query in enumerate(queries)
    ]
    slowest = sorted(per_query, key=lambda item: -item[0])[:SLOWEST_SHOWN]

    sample = SCAN_SAMPLE[size]
    scan_texts = texts if sample is None else random.Random(SEED + size).sample(texts, sample)

    def full_scan(text: str) -> object:
        return process.extract(
            text, labels, scorer=fuzz.WRatio, processor=utils.default_process, limit=25
        )

    scan_ms = time_calls(full_scan, scan_texts, 1)
    scan_p50, scan_p99 = percentile(scan_ms, 0.50), percentile(scan_ms, 0.99)
    _print_latency("full scan", scan_p50, scan_p99, len(scan_ms))
    print(f"ratio scan/index p50 {scan_p50 / index_p50:8.1f}x    p99 {scan_p99 / index_p99:8.1f}x")

    same = strict = 0
    by_category: dict[str, list[int]] = {category: [0, 0] for category in CATEGORIES}
    disagreements = []
    for query in queries:
        mine = index.best_label(query.text)
        found = process.extractOne(
            query.text, labels, scorer=fuzz.WRatio, processor=utils.default_process
        )
        theirs = (found[0], float(found[1])) if found else ("", 0.0)
        is_strict = mine is not None and mine[0] == theirs[0]
        is_same = is_strict or (mine is not None and mine[1] == theirs[1])
        strict += is_strict
        same += is_same
        by_category[query.category][0] += is_same
        by_category[query.category][1] += 1
        if not is_same:
            disagreements.append((query, mine, theirs))
    agree = 100 * same / len(queries)
    strict_rate = 100 * strict / len(queries)
    print(
        f"agreement        {agree:5.1f}% same best score ({same}/{len(queries)}), "
        f"{strict_rate:5.1f}% same label ({strict}/{len(queries)})"
    )
    print("  by category:  " + ", ".join(f"{c} {ok}/{n}" for c, (ok, n) in by_category.items()))
    return SizeResult(
        size=size,
        labels=len(labels),
        build_s=build_s,
        index_p50=index_p50,
        index_p99=index_p99,
        index_samples=len(index_ms),
        scan_p50=scan_p50,
        scan_p99=scan_p99,
        scan_samples=len(scan_ms),
        agree=agree,
        strict=strict_rate,
        by_category={c: (ok, n) for c, (ok, n) in by_category.items()},
        disagreements=disagreements,
        slowest=slowest,
    )


# ---------------------------------------------------------------------------------- report


def print_queries(queries: list[Query]) -> None:
    counts = Counter(q.category for q in queries)
    origins = Counter(q.origin for q in queries)
    print(
        f"Query set: {len(queries)} queries ("
        + ", ".join(f"{c} {n}" for c, n in counts.items())
        + "; from "
        + ", ".join(f"{o} names {n}" for o, n in origins.items())
        + ")"
    )
    for category in CATEGORIES:
        texts = ", ".join(repr(q.text) for q in queries if q.category == category)
        print(f"[{category}]")
        print(textwrap.fill(texts, width=100, initial_indent="  ", subsequent_indent="  "))


def print_summary(results: list[SizeResult]) -> None:
    print("\n== Summary ==")
    header = (
        f"{'names':>8} {'labels':>8} {'build s':>8} {'idx p50':>9} {'idx p99':>9} "
        f"{'scan p50':>9} {'scan p99':>9} {'x p50':>7} {'x p99':>7} {'agree':>7} {'strict':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.size:>8,} {r.labels:>8,} {r.build_s:>8.2f} {r.index_p50:>7.3f}ms "
            f"{r.index_p99:>7.3f}ms {r.scan_p50:>7.2f}ms {r.scan_p99:>7.2f}ms "
            f"{r.scan_p50 / r.index_p50:>6.0f}x {r.scan_p99 / r.index_p99:>6.0f}x "
            f"{r.agree:>6.1f}% {r.strict:>6.1f}%"
        )
    print(
        "(idx: CatalogIndex.complete; scan: rapidfuzz.process.extract over the same labels; "
        "x: scan / idx;\n agree: best label equal or equally scored; strict: best label equal)"
    )
    target = next(r for r in results if r.size == TARGET_SIZE)
    p99_ok = target.index_p99 < TARGET_P99_MS
    agree_ok = target.agree >= TARGET_AGREEMENT
    print(
        f"{'PASS' if p99_ok else 'FAIL'}: p99 at {TARGET_SIZE:,} names is "
        f"{target.index_p99:.3f} ms (target < {TARGET_P99_MS} ms)"
    )
    print(
        f"{'PASS' if agree_ok else 'FAIL'}: first result same as full scan at {TARGET_SIZE:,} "
        f"names for {target.agree:.1f}% of queries (target >= {TARGET_AGREEMENT:.0f}%; "
        f"strict same label {target.strict:.1f}%)"
    )


def main() -> int:
    rng = random.Random(SEED)
    sources = build_sources(max(SIZES), rng)
    queries = build_queries(sources, random.Random(SEED + 1), per_category=75)
    print_queries(queries)

    results = [run_size(size, sources, queries) for size in SIZES]

    worst = next(r for r in results if r.size == TARGET_SIZE)
    print(f"\nDisagreeing queries at {TARGET_SIZE:,} names ({len(worst.disagreements)} in all):")
    for query, mine, theirs in worst.disagreements[:DISAGREEMENTS_SHOWN]:
        mine_text = f"{mine[0]!r} ({mine[1]:.1f})" if mine else "nothing"
        intended = " <- the intended name" if mine and mine[0] == query.target else ""
        print(
            f"  [{query.category}] {query.text!r} (from {query.target!r}): "
            f"index {mine_text}{intended}; full scan {theirs[0]!r} ({theirs[1]:.1f})"
        )
    if not worst.disagreements:
        print("  none")
    print(f"\nSlowest index queries at {TARGET_SIZE:,} names (median of {REPEATS} runs):")
    for ms, query in worst.slowest:
        print(f"  {ms:7.3f} ms  [{query.category}] {query.text!r}")

    print_summary(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
