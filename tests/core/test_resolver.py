"""Fuzzy resolution and autocomplete over the shipped catalog (pure: no bot, no database)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.resolver import AUTOCOMPLETE_LIMIT, CatalogIndex, ToolEntry, normalize
from db.catalog_format import SHIPPED_CATALOG_DIR, load_catalog


@pytest.fixture(scope="module")
def index() -> CatalogIndex:
    tools = load_catalog([SHIPPED_CATALOG_DIR]).tools
    return CatalogIndex(
        [
            ToolEntry(number, tool.spec.slug, tool.spec.name, tuple(tool.spec.aliases))
            for number, tool in enumerate(tools)
        ]
    )


@pytest.mark.parametrize(
    ("query", "slug", "how"),
    [
        ("ExpressJS", "expressjs", "exact"),
        ("express", "expressjs", "exact"),
        ("express.js", "expressjs", "exact"),
        ("expressjs", "expressjs", "normalized"),
        ("EXPRESS", "expressjs", "normalized"),
        ("Express-JS", "expressjs", "normalized"),
        ("  Flask ", "flask", "exact"),
        ("Koa.js", "koa", "normalized"),
        ("KOA", "koa", "normalized"),
        ("expres", "expressjs", "typo"),
        ("flaks", "flask", "typo"),
        ("fastfy", "fastify", "typo"),
        ("djnago", "django", "typo"),
        ("postgress", "postgresql", "typo"),
    ],
)
def test_names_resolve_as_people_type_them(index, query, slug, how):
    resolution = index.resolve(query)
    assert resolution.tool is not None, resolution.suggestions
    assert (resolution.tool.slug, resolution.how) == (slug, how)


def test_express_js_with_a_space_resolves(index):
    assert index.resolve("express js").tool.slug == "expressjs"
    assert index.resolve("Express JS").tool.slug == "expressjs"


def test_unknown_name_gets_no_guess_and_no_noise(index):
    resolution = index.resolve("qwzxv")
    assert resolution.tool is None
    assert resolution.suggestions == ()


def test_vague_name_gets_ranked_suggestions_instead_of_a_guess(index):
    resolution = index.resolve("sql")
    assert resolution.tool is None
    slugs = [tool.slug for tool in resolution.suggestions]
    assert 2 <= len(slugs) <= 5
    assert all(
        "sql" in normalize(index.by_slug(s).name + " ".join(index.by_slug(s).aliases))
        for s in slugs
    )


def test_a_name_shared_by_two_tools_is_ambiguous():
    shared = CatalogIndex(
        [
            ToolEntry(1, "spring-boot", "Spring Boot", ("spring",)),
            ToolEntry(2, "spring-framework", "Spring Framework", ("spring",)),
        ]
    )
    resolution = shared.resolve("Spring")
    assert resolution.tool is None
    assert [t.slug for t in resolution.suggestions] == ["spring-boot", "spring-framework"]


def test_empty_query_resolves_to_nothing(index):
    assert not index.resolve("  ").resolved
    assert not index.resolve("...").resolved


def test_autocomplete_gives_at_most_25_distinct_tools(index):
    choices = index.complete("s")
    assert len(choices) == AUTOCOMPLETE_LIMIT
    assert len({tool.slug for tool in choices}) == len(choices)
    assert len(index.complete("")) == AUTOCOMPLETE_LIMIT


def test_autocomplete_puts_the_typed_prefix_first(index):
    assert index.complete("expr")[0].slug == "expressjs"
    assert index.complete("fla")[0].slug == "flask"
    assert index.complete("koa")[0].slug == "koa"
    assert index.complete("postgre")[0].slug == "postgresql"


def test_autocomplete_tolerates_a_typo(index):
    assert "flask" in [tool.slug for tool in index.complete("flsk")[:3]]


def test_index_rebuilt_with_a_new_tool_finds_it(index):
    rebuilt = CatalogIndex([*index.tools, ToolEntry(10_000, "zest-kit", "ZestKit", ("zest",))])
    assert rebuilt.resolve("zestkit").tool.slug == "zest-kit"
    assert index.resolve("zestkit").tool is None


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_every_name_and_alias_resolves_to_its_tool(index, data):
    tool = data.draw(st.sampled_from(index.tools))
    label = data.draw(st.sampled_from([tool.name, *tool.aliases]))
    spelled = data.draw(st.sampled_from([label, label.upper(), label.lower(), f" {label} "]))
    assert index.resolve(spelled).tool == tool


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_any_text_resolves_or_suggests_without_error(index, text):
    resolution = index.resolve(text)
    assert resolution.tool is None or resolution.how is not None
    assert len(index.complete(text)) <= AUTOCOMPLETE_LIMIT
