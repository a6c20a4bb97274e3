"""The catalog file format: YAML parsed with line numbers, validated with pydantic.

Nothing here touches the database: `load_catalog` turns files into a `Catalog` or raises
`CatalogError` whose lines read `FILE:LINE: what is wrong`. The importer writes a `Catalog`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

SHIPPED_CATALOG_DIR = Path(__file__).parent / "catalog"

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
CATEGORY_SEPARATOR = " > "
METRICS = ("stacks", "followers", "votes", "github_stars", "github_forks")

ShortText = Annotated[str, Field(min_length=1, max_length=100)]
Slug = Annotated[str, Field(pattern=SLUG_PATTERN, max_length=64)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SourceSpec(_Strict):
    """Where imported figures came from, and the day they were true."""

    name: ShortText
    url: str | None = None
    as_of: date


class StatSpec(_Strict):
    source: Slug
    metric: Literal[METRICS]  # type: ignore[valid-type]
    value: int = Field(ge=0)


class ReasonSpec(_Strict):
    """A pro or a con; `count` is the vote count imported from `source`, never members' votes."""

    text: ShortText
    count: int = Field(default=0, ge=0)
    source: Slug | None = None


class ToolSpec(_Strict):
    slug: Slug
    name: ShortText
    description: Annotated[str, Field(min_length=1, max_length=1000)]
    category: Annotated[str, Field(min_length=1, max_length=200)]
    website: str | None = None
    repository: str | None = None
    language: Annotated[str, Field(max_length=50)] | None = None
    license: Annotated[str, Field(max_length=50)] | None = None
    first_release: int | None = Field(default=None, ge=1950, le=2100)
    aliases: list[ShortText] = Field(default_factory=list)
    features: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list
    )
    alternatives: list[Slug] = Field(default_factory=list)
    integrations: list[Slug] = Field(default_factory=list)
    stats: list[StatSpec] = Field(default_factory=list)
    pros: list[ReasonSpec] = Field(default_factory=list)
    cons: list[ReasonSpec] = Field(default_factory=list)

    @field_validator("website", "repository")
    @classmethod
    def _absolute_https_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https://[^\s/]+\.[^\s]+$", value):
            raise ValueError("must be an https:// URL")
        return value

    @field_validator("category")
    @classmethod
    def _category_path(cls, value: str) -> str:
        parts = value.split(CATEGORY_SEPARATOR)
        if any(not part.strip() or part != part.strip() or ">" in part for part in parts):
            raise ValueError('must be names joined by " > ", e.g. "Application & Data > Databases"')
        return value


class CatalogFileSpec(_Strict):
    sources: dict[Slug, SourceSpec] = Field(default_factory=dict)
    tools: list[ToolSpec]


@dataclass(frozen=True)
class LocatedTool:
    spec: ToolSpec
    file: Path
    line: int
    sources: dict[str, SourceSpec]

    def line_of(self, key: str, index: int | None = None) -> int:
        return self.spec_lines.get((key, index), self.spec_lines.get((key, None), self.line))

    spec_lines: dict[tuple[str, int | None], int] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Catalog:
    tools: list[LocatedTool]

    @property
    def slugs(self) -> set[str]:
        return {tool.spec.slug for tool in self.tools}


class CatalogError(Exception):
    """One or more problems, each as `FILE:LINE: what is wrong`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping and list item."""


class _LineDict(dict):
    line: int = 0
    key_lines: dict[str, int]


class _LineList(list):
    item_lines: list[int]


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    mapping = _LineDict()
    mapping.line = node.start_mark.line + 1
    mapping.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise yaml.MarkedYAMLError(
                problem=f"duplicate key {key!r}", problem_mark=key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.key_lines[key] = key_node.start_mark.line + 1
    return mapping


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> _LineList:
    items = _LineList(loader.construct_object(child, deep=True) for child in node.value)
    items.item_lines = [child.start_mark.line + 1 for child in node.value]
    return items


def _construct_date_as_string(loader: _LineLoader, node: yaml.ScalarNode) -> str:
    # Left to pydantic so that a bad date is reported like any other bad value.
    return loader.construct_scalar(node)


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_date_as_string)


def _line_for(document: Any, loc: tuple[int | str, ...]) -> int:
    """The line of the deepest node along a pydantic error location."""
    line = getattr(document, "line", 1)
    node = document
    for step in loc:
        if isinstance(node, _LineDict) and step in node:
            line = node.key_lines.get(step, line)
            node = node[step]
            line = getattr(node, "line", line)
        elif isinstance(node, _LineList) and isinstance(step, int) and step < len(node):
            line = node.item_lines[step]
            node = node[step]
        else:
            break
    return line


def _describe(error: dict[str, Any]) -> str:
    field_path = ".".join(str(step) for step in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    return f"{field_path}: {message}" if field_path else message


def parse_file(path: Path, text: str | None = None) -> tuple[list[LocatedTool], list[str]]:
    """Parse one file; returns its tools and its problems (never both partial and silent)."""
    problems: list[str] = []
    try:
        text = path.read_text(encoding="utf-8") if text is None else text
        document = yaml.load(text, Loader=_LineLoader)
    except OSError as exc:
        return [], [f"{path}:1: cannot read file: {exc.strerror or exc}"]
    except UnicodeDecodeError:
        return [], [f"{path}:1: not UTF-8 text"]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        return [], [f"{path}:{line}: invalid YAML: {exc.problem or exc.context}"]
    except yaml.YAMLError as exc:
        return [], [f"{path}:1: invalid YAML: {exc}"]
    if not isinstance(document, dict):
        return [], [f"{path}:1: expected a mapping with a 'tools' list"]
    try:
        spec = CatalogFileSpec.model_validate(document)
    except ValidationError as exc:
        for error in exc.errors():
            problems.append(f"{path}:{_line_for(document, error['loc'])}: {_describe(error)}")
        return [], problems

    raw_tools = document["tools"]
    located: list[LocatedTool] = []
    for index, tool in enumerate(spec.tools):
        raw = raw_tools[index]
        lines: dict[tuple[str, int | None], int] = {}
        for key, key_line in raw.key_lines.items():
            lines[(key, None)] = key_line
            value = raw[key]
            if isinstance(value, _LineList):
                for item_index, item_line in enumerate(value.item_lines):
                    lines[(key, item_index)] = item_line
        located.append(
            LocatedTool(spec=tool, file=path, line=raw.line, sources=spec.sources, spec_lines=lines)
        )
        for kind in ("stats", "pros", "cons"):
            for item_index, item in enumerate(getattr(tool, kind)):
                if item.source is not None and item.source not in spec.sources:
                    problems.append(
                        f"{path}:{located[-1].line_of(kind, item_index)}: {tool.slug}: "
                        f"{kind}[{item_index}] names source {item.source!r}, "
                        "which the file's 'sources' does not define"
                    )
                if kind != "stats" and item.count and item.source is None:
                    problems.append(
                        f"{path}:{located[-1].line_of(kind, item_index)}: {tool.slug}: "
                        f"an imported count needs a source"
                    )
    return located, problems


def catalog_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in {".yaml", ".yml"}))
        else:
            files.append(path)
    return files


def load_catalog(paths: Iterable[Path], known_slugs: Iterable[str] = ()) -> Catalog:
    """Parse and cross-check files as one catalog; raises `CatalogError` listing every problem.

    `known_slugs` are tools already in the database, which alternatives may name too.
    """
    known = set(known_slugs)
    problems: list[str] = []
    tools: list[LocatedTool] = []
    for file in catalog_files(paths):
        file_tools, file_problems = parse_file(file)
        tools.extend(file_tools)
        problems.extend(file_problems)

    first_seen: dict[str, LocatedTool] = {}
    names: dict[str, LocatedTool] = {}
    for tool in tools:
        slug = tool.spec.slug
        if slug in first_seen:
            other = first_seen[slug]
            problems.append(
                f"{tool.file}:{tool.line}: duplicate slug {slug!r} "
                f"(first at {other.file}:{other.line})"
            )
            continue
        first_seen[slug] = tool
        for label in (tool.spec.name, *tool.spec.aliases):
            key = label.casefold()
            owner = names.get(key)
            if owner is not None and owner.spec.slug != slug:
                problems.append(
                    f"{tool.file}:{tool.line}: {slug}: name or alias {label!r} "
                    f"is already used by {owner.spec.slug!r} ({owner.file}:{owner.line})"
                )
            names.setdefault(key, tool)

    for tool in tools:
        for kind in ("alternatives", "integrations"):
            for index, target in enumerate(getattr(tool.spec, kind)):
                if target not in first_seen and target not in known:
                    problems.append(
                        f"{tool.file}:{tool.line_of(kind, index)}: {tool.spec.slug}: "
                        f"{kind[:-1]} {target!r} is not a tool in the catalog"
                    )
                elif target == tool.spec.slug:
                    problems.append(
                        f"{tool.file}:{tool.line_of(kind, index)}: {tool.spec.slug}: "
                        f"a tool cannot be its own {kind[:-1]}"
                    )
    if problems:
        raise CatalogError(problems)
    return Catalog(tools=[first_seen[slug] for slug in first_seen])


def main(argv: list[str] | None = None) -> int:
    """`python -m db.catalog_format [PATH ...]`: check catalog files without a database."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    paths = [Path(arg) for arg in args] or [SHIPPED_CATALOG_DIR]
    try:
        catalog = load_catalog(paths)
    except CatalogError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"ok: {len(catalog.tools)} tools")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
