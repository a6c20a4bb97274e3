"""Reads the facts off the StackShare page Stackup grew from (tests/fixtures/, a copy of
shared/seed/), so tests compare the database with the page rather than with typed-in values."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

PAGE = Path(__file__).parent / "fixtures" / "stackup-expressjs-flask-koa.txt"
STAT_LABELS = {
    "GitHub Stars": "github_stars",
    "GitHub Forks": "github_forks",
    "Stacks": "stacks",
    "Followers": "followers",
    "Votes": "votes",
}


@dataclass
class PageTool:
    name: str
    description: str = ""
    features: list[str] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    pros: list[tuple[str, int]] = field(default_factory=list)
    cons: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class SeedPage:
    category_path: str
    tools: dict[str, PageTool]
    alternatives: dict[str, str]


def figure(text: str) -> int | None:
    """ "35.7K" -> 35700, "812" -> 812, "-" -> None."""
    text = text.strip()
    if text == "-":
        return None
    match = re.fullmatch(r"([\d.]+)([KM]?)", text)
    assert match, text
    scale = {"": 1, "K": 1_000, "M": 1_000_000}[match.group(2)]
    return round(float(match.group(1)) * scale)


def _section(lines: list[str], start: str, end: str) -> list[str]:
    first = lines.index(start)
    last = lines.index(end, first + 1)
    return lines[first + 1 : last]


def read_seed_page(path: Path = PAGE) -> SeedPage:
    lines = [line.rstrip() for line in path.read_text(encoding="utf-8").splitlines()]

    first_crumb = next(n for n, line in enumerate(lines) if re.match(r"^\s+1\.\s", line))
    crumbs = []
    for line in lines[first_crumb:]:
        if not re.match(r"^\s+\d+\.\s", line):
            break
        crumbs.append(re.sub(r"^\s*\d+\.\s*", "", line))
    # "Stackups > Application & Data > Microframeworks > Microframeworks > X vs Y"
    category_path = " > ".join(dict.fromkeys(crumbs[1:-1]))

    detail = [line for line in _section(lines, "Detailed Comparison", "Statistics") if line.strip()]
    names = list(dict.fromkeys(detail[:6]))
    tools = {name: PageTool(name) for name in names}
    for name, text in zip(names, detail[6:9], strict=True):
        tools[name].description = text.strip()
    for name, text in zip(names, detail[9:12], strict=True):
        if text.strip() != "-":
            tools[name].features = [part.strip() for part in text.split(";") if part.strip()]

    stats = [line for line in _section(lines, "Statistics", "Pros & Cons") if line.strip()]
    for position in range(0, len(stats), 2):
        label, value = stats[position], stats[position + 1]
        tool = names[(position // 2) % len(names)]
        number = figure(value)
        if number is not None:
            tools[tool].stats[STAT_LABELS[label]] = number

    reasons = _section(lines, "Pros & Cons", "Integrations")
    tool_number, kind = -1, "pros"
    count: int | None = None
    for line in reasons:
        text = line.strip()
        if text == "Pros":
            tool_number, kind = tool_number + 1, "pros"
        elif text == "Cons":
            kind = "cons"
        elif text.startswith("•"):
            count = int(text.lstrip("• ").strip())
        elif text and count is not None:
            getattr(tools[names[tool_number]], kind).append((text, count))
            count = None

    question = next(line for line in lines if line.startswith("What are some alternatives to"))
    block = [line for line in _section(lines, question, "Related Comparisons") if line.strip()]
    alternatives = {block[i]: block[i + 2] for i in range(0, len(block), 3)}
    return SeedPage(category_path=category_path, tools=tools, alternatives=alternatives)
