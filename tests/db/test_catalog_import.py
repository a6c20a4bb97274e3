"""The shipped catalog and the importer: the seed page's facts, idempotence, one transaction."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db import catalog_import
from db.catalog_format import SHIPPED_CATALOG_DIR, CatalogError, load_catalog, parse_file
from db.catalog_import import import_catalog
from db.models import (
    Category,
    ExternalStat,
    ProCon,
    Tool,
    ToolAlias,
    ToolAlternative,
    ToolIntegration,
)
from tests.seed_page import read_seed_page

SEED_PAGE = read_seed_page()
# Languages defined by a standard rather than one repository.
STANDARDS = {"c", "cpp", "javascript"}


async def tool_named(session, name: str) -> Tool:
    return (await session.exec(select(Tool).where(Tool.name == name))).scalars().one()


async def row_counts(sessions) -> dict[str, int]:
    models = (Tool, Category, ToolAlias, ToolAlternative, ToolIntegration, ExternalStat, ProCon)
    async with sessions() as session:
        return {
            model.__tablename__: (
                await session.exec(select(func.count()).select_from(model))
            ).scalar_one()
            for model in models
        }


@pytest.mark.parametrize("name", list(SEED_PAGE.tools))
async def test_every_fact_of_the_seed_page_is_in_the_database(sessions, name):
    page = SEED_PAGE.tools[name]
    async with sessions() as session:
        tool = await tool_named(session, name)
        category = await session.get(Category, tool.category_id)
        stats = (
            (await session.exec(select(ExternalStat).where(ExternalStat.tool_id == tool.id)))
            .scalars()
            .all()
        )
        reasons = (
            (await session.exec(select(ProCon).where(ProCon.tool_id == tool.id))).scalars().all()
        )

    assert " ".join(tool.description.split()) == page.description
    assert tool.features == page.features
    assert category.path == SEED_PAGE.category_path

    assert {stat.metric: stat.value for stat in stats} == page.stats
    assert {(stat.source, stat.as_of) for stat in stats} == {("StackShare", date(2025, 1, 1))}

    for kind, expected in (("pro", page.pros), ("con", page.cons)):
        imported = [(r.text, r.imported_count) for r in reasons if r.kind == kind]
        assert imported == expected
    # Imported counts are labelled with their source and never counted as members' votes.
    assert all(r.imported_source == "StackShare" and r.imported_as_of for r in reasons)
    assert all(r.up_count == 0 and r.down_count == 0 and r.author_id is None for r in reasons)


async def test_the_seed_pages_alternatives_are_linked_with_the_pages_descriptions(sessions):
    async with sessions() as session:
        trio = [(await tool_named(session, name)).id for name in SEED_PAGE.tools]
        linked = set(
            (
                await session.exec(
                    select(Tool.name)
                    .join(ToolAlternative, ToolAlternative.alternative_id == Tool.id)
                    .where(ToolAlternative.tool_id.in_(trio))
                )
            ).scalars()
        )
        assert set(SEED_PAGE.alternatives) <= linked
        for name, description in SEED_PAGE.alternatives.items():
            tool = await tool_named(session, name)
            assert " ".join(tool.description.split()) == description


async def test_express_and_koa_integrate_with_nodejs(sessions):
    async with sessions() as session:
        node = await tool_named(session, "Node.js")
        for name in ("ExpressJS", "Koa"):
            tool = await tool_named(session, name)
            assert await session.get(ToolIntegration, (tool.id, node.id)) is not None


async def test_shipped_catalog_is_large_and_complete():
    catalog = load_catalog([SHIPPED_CATALOG_DIR])
    assert len(catalog.tools) >= 250 + 3
    for located in catalog.tools:
        spec = located.spec
        assert spec.description and spec.category and spec.website, spec.slug
        # Figures and imported votes come only from the seed page, with their source.
        if spec.stats or spec.pros or spec.cons:
            assert located.file.name == "00-seed-stackshare.yaml", spec.slug
        assert spec.aliases and len(spec.alternatives) >= 2, spec.slug
        if spec.license and spec.license != "Proprietary" and spec.slug not in STANDARDS:
            assert spec.repository, f"{spec.slug} is open source but names no repository"


async def test_importing_twice_changes_nothing(sessions):
    before = await row_counts(sessions)
    revision = await catalog_import.catalog_revision(sessions)
    report = await import_catalog(sessions, load_catalog([SHIPPED_CATALOG_DIR]))
    assert (report.created, report.updated) == ([], [])
    assert len(report.unchanged) == before["tools"]
    assert await row_counts(sessions) == before
    assert await catalog_import.catalog_revision(sessions) == revision


def write_tool_file(path: Path, description: str, alternatives: str = "[flask]") -> Path:
    path.write_text(
        "tools:\n"
        "  - slug: expressjs\n"
        "    name: ExpressJS\n"
        f"    description: {description}\n"
        "    category: Application & Data > Microframeworks\n"
        "    aliases: [express]\n"
        f"    alternatives: {alternatives}\n"
    )
    return path


async def test_reimport_updates_by_slug_and_keeps_members_votes(sessions, tmp_path):
    async with sessions() as session, session.begin():
        express = await tool_named(session, "ExpressJS")
        simple = (
            (
                await session.exec(
                    select(ProCon).where(ProCon.tool_id == express.id, ProCon.text == "Simple")
                )
            )
            .scalars()
            .one()
        )
        simple.up_count = 3

    changed = write_tool_file(tmp_path / "express.yaml", "A changed description.")
    known = await catalog_import.known_slugs(sessions)
    revision = await catalog_import.catalog_revision(sessions)
    report = await import_catalog(sessions, load_catalog([changed], known_slugs=known))
    assert report.updated == ["expressjs"]
    assert await catalog_import.catalog_revision(sessions) == revision + 1

    async with sessions() as session:
        express = await tool_named(session, "ExpressJS")
        assert express.description == "A changed description."
        aliases = (
            (await session.exec(select(ToolAlias.alias).where(ToolAlias.tool_id == express.id)))
            .scalars()
            .all()
        )
        assert aliases == ["express"]
        simple = (
            (
                await session.exec(
                    select(ProCon).where(ProCon.tool_id == express.id, ProCon.text == "Simple")
                )
            )
            .scalars()
            .one()
        )
        assert (simple.up_count, simple.imported_count) == (3, 381)


async def test_a_failure_midway_rolls_back_the_whole_import(sessions, tmp_path, monkeypatch):
    before = await row_counts(sessions)
    catalog = load_catalog([SHIPPED_CATALOG_DIR])
    new_file = tmp_path / "new.yaml"
    new_file.write_text(
        "tools:\n"
        "  - {slug: new-one, name: New One, description: x, category: Brand New > Area}\n"
        "  - {slug: new-two, name: New Two, description: y, category: Brand New > Area}\n"
    )
    catalog.tools.extend(load_catalog([new_file]).tools)
    original = catalog_import._sync_related

    async def fail_on_second_new_tool(session, tool, located, tools, existing):
        if located.spec.slug == "new-two":
            raise RuntimeError("disk full")
        return await original(session, tool, located, tools, existing)

    monkeypatch.setattr(catalog_import, "_sync_related", fail_on_second_new_tool)
    with pytest.raises(RuntimeError, match="disk full"):
        await import_catalog(sessions, catalog)
    assert await row_counts(sessions) == before


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "tools:\n  - slug: a\n   name: [\n",
            ["{file}:3: invalid YAML: expected <block end>, but found '<block mapping start>'"],
        ),
        ("[1, 2]\n", ["{file}:1: expected a mapping with a 'tools' list"]),
        (
            "tools:\n  - slug: ok\n    name: OK\n    description: d\n    category: A > B\n    licence: MIT\n",
            ["{file}:6: tools.0.licence: Extra inputs are not permitted"],
        ),
        (
            "tools:\n  - slug: ok\n    name: OK\n    description: d\n    category: A > B\n    website: http://ok.example\n",
            ["{file}:6: tools.0.website: must be an https:// URL"],
        ),
        (
            "tools:\n  - slug: ok\n    name: OK\n    description: d\n    category: A>B\n",
            [
                '{file}:5: tools.0.category: must be names joined by " > ", e.g. "Application & Data > Databases"'
            ],
        ),
        (
            "tools:\n  - slug: ok\n    name: OK\n    description: d\n    category: A > B\n"
            "    pros:\n      - {text: Fast, count: 3}\n",
            ["{file}:7: ok: an imported count needs a source"],
        ),
        (
            "tools:\n  - {slug: a, name: A, description: d, category: A > B}\n"
            "  - {slug: a, name: B, description: d, category: A > B}\n",
            ["{file}:3: duplicate slug 'a' (first at {file}:2)"],
        ),
        (
            "tools:\n  - {slug: a, name: Same, description: d, category: A > B}\n"
            "  - {slug: b, name: same, description: d, category: A > B}\n",
            ["{file}:3: b: name or alias 'same' is already used by 'a' ({file}:2)"],
        ),
        (
            "tools:\n  - slug: Not A Slug\n    name: X\n    description: d\n    category: A > B\n",
            ["{file}:2: tools.0.slug: String should match pattern '^[a-z0-9]+(?:-[a-z0-9]+)*$'"],
        ),
    ],
)
def test_errors_name_the_file_and_line(tmp_path, text, expected):
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    with pytest.raises(CatalogError) as caught:
        load_catalog([path])
    assert caught.value.problems == [line.format(file=path) for line in expected]


def test_every_shipped_file_parses_on_its_own():
    for path in sorted(SHIPPED_CATALOG_DIR.glob("*.yaml")):
        tools, problems = parse_file(path)
        assert tools and not problems, (path, problems)
