"""What one feature runs of another's: flow objects the bot builds in one place (`setup_hook`,
before any cog loads) and hands to every cog as `bot.flows`. No cog finds another by name
(`get_cog`), and the scheduler calls flows directly, not cog methods picked by name.

A flow owns the Discord side of a multi-step action and the in-memory state it needs
(debounced edits, drafts); the cogs stay thin adapters over commands and events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.bot import StackupBot


class Flows:
    def __init__(self, bot: StackupBot) -> None:
        # Imported here: each feature's flows module imports the bot's types in turn.
        self.bot = bot
        from cogs.advice.flows import AdvicePosts
        from cogs.pros_cons.flows import ProsConsFlows
        from cogs.schedule.flows import ScheduledWork
        from cogs.votes.flows import Recounts

        self.advice = AdvicePosts(bot)
        self.pros_cons = ProsConsFlows(bot)
        self.recounts = Recounts(bot)
        self.schedule = ScheduledWork(bot)

    async def close(self) -> None:
        """Pending debounced work is dropped when the bot closes."""
