"""What one feature runs of another's: flow objects the bot builds in one place (`setup_hook`,
before any cog loads) and hands to every cog as `bot.flows`. No cog finds another by name
(`get_cog`), and the scheduler calls flows directly, not cog methods picked by name.

A flow owns the Discord side of a multi-step action and the in-memory state it needs
(debounced edits, drafts); the cogs stay thin adapters over commands and events.

Each feature's flows module imports `bot.bot` in turn, so this module is imported only once
`bot.bot` is loaded: by the bot's `setup_hook` (lazily) and by tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.advice.flows import AdvicePosts
from cogs.pros_cons.flows import ProsConsFlows
from cogs.schedule.flows import ScheduledWork
from cogs.votes.flows import Recounts

if TYPE_CHECKING:
    from bot.bot import StackupBot


class Flows:
    bot: StackupBot
    advice: AdvicePosts
    pros_cons: ProsConsFlows
    recounts: Recounts
    schedule: ScheduledWork

    def __init__(self, bot: StackupBot) -> None:
        self.bot = bot
        self.advice = AdvicePosts(bot)
        self.pros_cons = ProsConsFlows(bot)
        self.recounts = Recounts(bot)
        self.schedule = ScheduledWork(bot)

    async def close(self) -> None:
        """Pending debounced work is dropped when the bot closes: the advice posts' ranking
        edits, the pros and cons voting messages' count edits and recounts. (Recounts and
        scheduled work hold no debounced work.)"""
        self.advice.cancel()
        self.pros_cons.cancel()
