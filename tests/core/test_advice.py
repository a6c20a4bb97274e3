"""Who may close an advice post: a plain rule, tested with plain asserts."""

from __future__ import annotations

from bot.core.advice import may_close

ASKER, OTHER, HELPERS, MODS = 1, 2, 30, 40


def test_the_asker_and_thread_managers_may_close():
    assert may_close(asker_id=ASKER, closer_id=ASKER, may_manage_threads=False)
    assert may_close(asker_id=ASKER, closer_id=OTHER, may_manage_threads=True)
    assert not may_close(asker_id=ASKER, closer_id=OTHER, may_manage_threads=False)


def test_a_member_holding_the_closer_role_may_close():
    held = (MODS, HELPERS)
    assert may_close(
        asker_id=ASKER,
        closer_id=OTHER,
        may_manage_threads=False,
        closer_role_ids=held,
        closer_role_id=HELPERS,
    )
    assert not may_close(
        asker_id=ASKER,
        closer_id=OTHER,
        may_manage_threads=False,
        closer_role_ids=(MODS,),
        closer_role_id=HELPERS,
    )
    # Without a closer role, no role lets a member close.
    assert not may_close(
        asker_id=ASKER, closer_id=OTHER, may_manage_threads=False, closer_role_ids=held
    )
