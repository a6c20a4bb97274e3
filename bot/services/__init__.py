"""One service per feature, each the single owner of its data: it opens the transactions,
calls `db/` queries and returns plain data. No service imports discord.

The bot reaches them through one typed container, `bot.services` (`bot.services.advice`, …),
built here in one place."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.services.advice import AdviceService
from bot.services.catalog import CatalogService
from bot.services.community import CommunityService
from bot.services.compare import CompareService
from bot.services.decisions import DecisionService
from bot.services.digest import DigestService
from bot.services.external_stats import ExternalStatsService
from bot.services.follows import FollowService
from bot.services.github_api import GitHubApi
from bot.services.guild_settings import GuildSettingsService
from bot.services.meta import MetaService
from bot.services.privacy import PrivacyService
from bot.services.pros_cons import ProsConsService
from bot.services.schedule import ScheduleService
from bot.services.status import StatusService
from bot.services.votes import BatchResult, VoteService
from bot.settings import Settings
from db.engine import SessionFactory


@dataclass(frozen=True)
class Services:
    catalog: CatalogService
    meta: MetaService
    compare: CompareService
    advice: AdviceService
    guild_settings: GuildSettingsService
    pros_cons: ProsConsService
    decisions: DecisionService
    community: CommunityService
    follows: FollowService
    votes: VoteService
    schedule: ScheduleService
    digests: DigestService
    external_stats: ExternalStatsService | None
    status: StatusService
    privacy: PrivacyService

    @classmethod
    def build(
        cls,
        settings: Settings,
        sessions: SessionFactory,
        *,
        clock: Callable[[], datetime],
        version: str,
        on_votes_applied: Callable[[BatchResult], None],
        on_votes_failed: Callable[[Iterable[int]], None],
    ) -> Services:
        advice = AdviceService(sessions, clock=clock)
        external_stats = None
        if settings.github_stats:
            token = settings.github_token.get_secret_value() if settings.github_token else None
            external_stats = ExternalStatsService(
                sessions,
                GitHubApi(settings.github_api_url, token, user_agent=f"Stackup/{version}"),
                clock=clock,
                refresh_after=timedelta(hours=settings.stats_refresh_hours),
            )
        return cls(
            catalog=CatalogService(sessions),
            meta=MetaService(sessions),
            compare=CompareService(sessions, clock=clock),
            advice=advice,
            guild_settings=GuildSettingsService(sessions, clock=clock),
            pros_cons=ProsConsService(sessions, clock=clock),
            decisions=DecisionService(sessions, clock=clock),
            community=CommunityService(sessions),
            follows=FollowService(sessions),
            votes=VoteService(
                sessions, clock=clock, on_applied=on_votes_applied, on_failed=on_votes_failed
            ),
            schedule=ScheduleService(
                sessions,
                advice,
                shard_ids=settings.shard_ids,
                shard_count=settings.shard_count or 1,
                clock=clock,
            ),
            digests=DigestService(sessions),
            external_stats=external_stats,
            status=StatusService(sessions),
            privacy=PrivacyService(
                sessions,
                shard_ids=settings.shard_ids,
                shard_count=settings.shard_count or 1,
                clock=clock,
            ),
        )
