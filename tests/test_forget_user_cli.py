"""`stackup forget-user ID`: a user's data deleted in every server at once, with what was
removed printed; a bad id or an unmigrated database is one line, never a traceback."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from db.engine import create_engine, create_session_factory
from db.models import ProCon
from tests.conftest import FakeClock, add_tools, sqlite_url
from tests.counters import counter_mismatches
from tests.db.test_privacy import ADA, BEN, G1, G2, guild_data, member_rows
from tests.test_cli import database

__all__ = ["database"]  # the fixture: DATABASE_URL pointing at a fresh file

T0 = datetime(2026, 11, 23, 10, tzinfo=UTC)


async def _in_database(path: Path, work) -> object:
    engine = create_engine(sqlite_url(path))
    try:
        return await work(create_session_factory(engine))
    finally:
        await engine.dispose()


async def _two_busy_servers(sessions) -> None:
    async with sessions() as session, session.begin():
        tools = await add_tools(session, "flask", "django")
        session.add(ProCon(tool_id=tools[0].id, kind="pro", text="Simple", imported_count=9))
    for guild_id in (G1, G2):
        await guild_data(sessions, FakeClock(T0), guild_id, tools)


async def _what_is_left(sessions) -> tuple[dict, dict, list[str]]:
    return (
        await member_rows(sessions, ADA),
        await member_rows(sessions, BEN),
        (await counter_mismatches(sessions)),
    )


def test_forget_user_deletes_a_users_data_in_every_server(database, capsys):
    assert main(["db", "upgrade"]) == 0
    asyncio.run(_in_database(database, _two_busy_servers))
    ben_before = asyncio.run(_in_database(database, member_rows_of(BEN)))
    capsys.readouterr()

    assert main(["forget-user", str(ADA)]) == 0

    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"forgot user {ADA} in every server: 29 rows removed"
    printed = dict(line.strip().rsplit(":", 1) for line in out[1:11])
    assert {kind: int(count) for kind, count in printed.items()} == {
        "votes": 3,  # the catalog pro in one server, a recommendation in each
        "tools in stacks": 4,
        "followed tools": 4,
        "preferences": 2,
        "decisions": 2,
        "recommendations": 2,
        "pros and cons added": 2,
        "votes of others on those": 6,
        "vote messages": 4,
        "advice posts kept, asked by a former member": 2,
    }
    assert "reactions of theirs are still on open vote messages" in out[-1]
    ada, ben, mismatches = asyncio.run(_in_database(database, _what_is_left))
    assert ada == {}
    # Ben's own rows stay; of his votes, those on what Ada wrote went, the catalog's stays.
    assert ben.pop("votes.member_id") == [G1]
    assert ben == ben_before
    assert mismatches == []

    # Forgotten already: nothing more to remove.
    assert main(["forget-user", str(ADA)]) == 0
    assert capsys.readouterr().out.startswith(f"forgot user {ADA} in every server: 0 rows")


def member_rows_of(member_id: int):
    async def read(sessions) -> dict:
        found = await member_rows(sessions, member_id)
        # His votes on what Ada wrote go with it.
        found.pop("votes.member_id", None)
        return found

    return read


@pytest.mark.parametrize("argv", [["forget-user", "0"], ["forget-user", "ada"]])
def test_forget_user_refuses_what_is_not_a_user_id(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert "is not a Discord user id" in capsys.readouterr().err


def test_forget_user_on_an_unmigrated_database_says_what_to_run(database, capsys):
    assert main(["forget-user", str(ADA)]) == 1
    err = capsys.readouterr().err
    assert "run `stackup db upgrade` first" in err
    assert "Traceback" not in err
