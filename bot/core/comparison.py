"""What a comparison is made of, as plain data, and the differences computed from it.

No Discord and no database here: services build these objects, renderers draw them, and the
differences are pure functions tested with plain asserts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from bot.core.resolver import normalize

# Where a language's libraries come from: the "ecosystem" half of "language and ecosystem".
ECOSYSTEMS = {
    "javascript": "npm",
    "typescript": "npm",
    "python": "PyPI",
    "ruby": "RubyGems",
    "php": "Packagist",
    "java": "Maven Central",
    "kotlin": "Maven Central",
    "scala": "Maven Central",
    "clojure": "Clojars",
    "go": "Go modules",
    "rust": "crates.io",
    "c#": "NuGet",
    "f#": "NuGet",
    "elixir": "Hex",
    "erlang": "Hex",
    "dart": "pub.dev",
    "swift": "Swift Package Index",
    "haskell": "Hackage",
    "perl": "CPAN",
    "r": "CRAN",
    "lua": "LuaRocks",
    "julia": "Julia General",
    "ocaml": "opam",
    "crystal": "shards",
    "nim": "Nimble",
    "c++": "vcpkg / Conan",
    "c": "vcpkg / Conan",
}


@dataclass(frozen=True)
class Reason:
    """A pro or con with its votes: members' (up/down) and an imported, labelled figure."""

    id: int
    text: str
    up: int = 0
    down: int = 0
    imported: int = 0
    imported_source: str | None = None
    imported_as_of: date | None = None

    @property
    def members(self) -> int:
        return self.up - self.down

    @property
    def total(self) -> int:
        return self.imported + self.members


def ranked(reasons: Sequence[Reason]) -> list[Reason]:
    """Most votes first; ties keep the older reason first."""
    return sorted(reasons, key=lambda reason: (-reason.total, reason.id))


@dataclass(frozen=True)
class ExternalFigure:
    """A figure from outside, e.g. GitHub stars, with where and when it was true."""

    source: str
    metric: str
    value: int
    as_of: date
    source_url: str | None = None


@dataclass(frozen=True)
class MemberFigures:
    """Members' stacks, followers and pro/con votes: in this server and everywhere."""

    stacks_here: int = 0
    stacks_everywhere: int = 0
    followers_here: int = 0
    followers_everywhere: int = 0
    votes_here: int = 0
    votes_everywhere: int = 0

    @property
    def here(self) -> tuple[int, int, int]:
        """Stacks, followers and votes in this server."""
        return self.stacks_here, self.followers_here, self.votes_here

    @property
    def everywhere(self) -> tuple[int, int, int]:
        """Stacks, followers and votes in every server together."""
        return self.stacks_everywhere, self.followers_everywhere, self.votes_everywhere


@dataclass(frozen=True)
class ToolRef:
    id: int
    slug: str
    name: str


@dataclass(frozen=True)
class Alternative:
    tool: ToolRef
    description: str


@dataclass(frozen=True)
class ToolCard:
    id: int
    slug: str
    name: str
    description: str
    category: str
    category_path: str
    website: str | None = None
    repository: str | None = None
    language: str | None = None
    license: str | None = None
    first_release: int | None = None
    features: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    integrations: tuple[str, ...] = ()
    alternatives: tuple[ToolRef, ...] = ()
    external: tuple[ExternalFigure, ...] = ()
    pros: tuple[Reason, ...] = ()  # ranked
    cons: tuple[Reason, ...] = ()  # ranked
    figures: MemberFigures = field(default_factory=MemberFigures)

    @property
    def ref(self) -> ToolRef:
        return ToolRef(self.id, self.slug, self.name)

    @property
    def ecosystem(self) -> str | None:
        if self.language is None:
            return None
        return ECOSYSTEMS.get(self.language.casefold())


@dataclass(frozen=True)
class RelatedComparison:
    tools: tuple[ToolRef, ...]
    runs: int
    asks: int


@dataclass(frozen=True)
class Comparison:
    tools: tuple[ToolCard, ...]
    today: date  # tools' ages are reckoned from it; the service's clock says what day it is
    related: tuple[RelatedComparison, ...] = ()


@dataclass(frozen=True)
class ToolReasons:
    """A tool's full pros and cons lists, for the "Pros & cons" button."""

    tool: ToolRef
    pros: tuple[Reason, ...]
    cons: tuple[Reason, ...]

    @property
    def name(self) -> str:
        return self.tool.name


@dataclass(frozen=True)
class ToolAlternatives:
    tool: ToolRef
    alternatives: tuple[Alternative, ...]


@dataclass(frozen=True)
class Difference:
    """One topic where the tools differ (or agree): `groups` pairs each distinct value with the
    tools that have it, in the order the tools were given."""

    topic: str
    groups: tuple[tuple[str, tuple[str, ...]], ...]
    note: str = ""

    @property
    def same(self) -> bool:
        return len(self.groups) == 1


def _grouped(
    tools: Sequence[ToolCard], value: Callable[[ToolCard], str | None]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    groups: dict[str, list[str]] = {}
    for tool in tools:
        groups.setdefault(value(tool) or "unknown", []).append(tool.name)
    return tuple((key, tuple(names)) for key, names in groups.items())


def _language_and_ecosystem(tool: ToolCard) -> str | None:
    if tool.language is None:
        return None
    ecosystem = tool.ecosystem
    return f"{tool.language} ({ecosystem})" if ecosystem else tool.language


def _age_note(tools: Sequence[ToolCard], today: date) -> str:
    known = [tool for tool in tools if tool.first_release is not None]
    if len(known) < 2:
        return ""
    oldest = min(known, key=lambda tool: tool.first_release or 0)
    newest = max(known, key=lambda tool: tool.first_release or 0)
    if oldest.first_release == newest.first_release:
        return "Released the same year."
    gap = (newest.first_release or 0) - (oldest.first_release or 0)
    years = today.year - (oldest.first_release or 0)
    return (
        f"{oldest.name} is the oldest ({years} years); "
        f"{newest.name} came {gap} year{'s' if gap != 1 else ''} later."
    )


def differences(tools: Sequence[ToolCard], *, today: date) -> list[Difference]:
    """Where the tools differ, from the data: language and ecosystem, category, licence and
    age. What each is praised and criticised for is shown as its top pros and cons instead."""
    found = [
        Difference("Language & ecosystem", _grouped(tools, _language_and_ecosystem)),
        # The category's own name: the whole path is on the overview, and a line of paths
        # would wrap mid-path.
        Difference("Category", _grouped(tools, lambda tool: tool.category)),
        Difference("License", _grouped(tools, lambda tool: tool.license)),
        Difference(
            "Age",
            _grouped(
                tools,
                lambda tool: (
                    f"since {tool.first_release}" if tool.first_release is not None else None
                ),
            ),
            note=_age_note(tools, today),
        ),
    ]
    return found


def shared_integrations(tools: Sequence[ToolCard]) -> tuple[str, ...]:
    """Integrations every compared tool has."""
    if not tools:
        return ()
    common = set(tools[0].integrations)
    for tool in tools[1:]:
        common &= set(tool.integrations)
    return tuple(name for name in tools[0].integrations if name in common)


def format_count(value: int) -> str:
    """StackShare's short form: 812, 1.6K, 35.1K, 2.3M."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value < 1000:
        return f"{sign}{value}"
    if value < 999_950:  # above that, one decimal of K would round to "1000.0K"
        return f"{sign}{value / 1000:.1f}K"
    return f"{sign}{value / 1_000_000:.1f}M"


def distinct_aliases(name: str, aliases: Sequence[str]) -> tuple[str, ...]:
    """The aliases that are other names, not spellings of the name the catalog keeps for
    search ("flask python", "koa.js"): "DRF" for Django REST framework. Short ones are
    acronyms, and read as such."""
    key = normalize(name)
    kept: dict[str, str] = {}
    for alias in aliases:
        alias_key = normalize(alias)
        if not alias_key or alias_key in key or key in alias_key:
            continue
        shown = alias.upper() if len(alias_key) <= 4 and alias.isalnum() else alias
        kept.setdefault(alias_key, shown)
    return tuple(kept.values())
