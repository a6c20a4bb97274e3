"""Advice posts as plain data: rankings, verdicts and the rules on what members may write.
No Discord and no database here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.comparison import ToolRef
from bot.core.decisions import DecisionLine
from bot.core.text import one_line
from bot.errors import InvalidInput

TITLE_LIMIT = 100  # a thread name
QUESTION_LIMIT = 4000  # a modal's text input holds no more
CONTEXT_LIMIT = 1000
REASON_LIMIT = 1000
MAX_TOOLS = 5  # a forum post takes at most five tags
IDLE_DAYS_RANGE = (1, 90)
DEFAULT_IDLE_DAYS = 7
LIST_PAGE_SIZE = 5

OPEN = "open"
CLOSED = "closed"


@dataclass(frozen=True)
class GuildConfig:
    guild_id: int
    advice_forum_id: int | None = None
    digest_channel_id: int | None = None
    idle_days: int = DEFAULT_IDLE_DAYS
    digest_day: int | None = None
    digest_hour: int | None = None
    timezone: str = "UTC"
    closer_role_id: int | None = None


def may_close(
    *,
    asker_id: int,
    closer_id: int,
    may_manage_threads: bool,
    closer_role_ids: Sequence[int] = (),
    closer_role_id: int | None = None,
) -> bool:
    """Who may close an advice post: the member who asked, someone with Manage Threads, or a
    member holding the server's closer role (if it chose one)."""
    if closer_id == asker_id or may_manage_threads:
        return True
    return closer_role_id is not None and closer_role_id in closer_role_ids


@dataclass(frozen=True)
class RecommendationLine:
    id: int
    tool: ToolRef
    member_id: int
    reason: str
    up: int
    down: int
    created_at: datetime
    message_id: int | None = None

    @property
    def score(self) -> int:
        return self.up - self.down


def ranked(recommendations: Sequence[RecommendationLine]) -> list[RecommendationLine]:
    """Best first: score, then more 👍, then the earlier recommendation."""
    return sorted(recommendations, key=lambda r: (-r.score, -r.up, r.created_at, r.id))


def verdict_tool(accepted: ToolRef | None, ranking: Sequence[RecommendationLine]) -> ToolRef | None:
    """What a closed post's verdict names: the asker's accepted tool, else the best-ranked
    recommendation if members voted it above zero, else nothing."""
    if accepted is not None:
        return accepted
    if ranking and ranking[0].score > 0:
        return ranking[0].tool
    return None


@dataclass(frozen=True)
class AdviceSummary:
    id: int
    guild_id: int
    channel_id: int
    thread_id: int | None
    starter_message_id: int | None
    asker_id: int
    title: str
    question: str
    context: str
    status: str
    tools: tuple[ToolRef, ...]
    recommendations: tuple[RecommendationLine, ...]  # ranked
    created_at: datetime
    accepted: ToolRef | None = None
    verdict: ToolRef | None = None
    closed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    @property
    def accepted_recommendation(self) -> RecommendationLine | None:
        if self.accepted is None:
            return None
        return next((r for r in self.recommendations if r.tool.id == self.accepted.id), None)

    @property
    def others(self) -> tuple[ToolRef, ...]:
        """The post's tools the verdict's tool was chosen over."""
        chosen = self.verdict.id if self.verdict else None
        return tuple(tool for tool in self.tools if tool.id != chosen)


@dataclass(frozen=True)
class OpenedPost:
    """A new advice post, as the "stackup_advice_opened" event tells other cogs (followers of
    its tools are told)."""

    post_id: int
    guild_id: int
    channel_id: int
    thread_id: int
    asker_id: int
    title: str
    tools: tuple[ToolRef, ...]
    jump_url: str


@dataclass(frozen=True)
class AdviceListItem:
    id: int
    guild_id: int
    thread_id: int | None
    title: str
    asker_id: int
    created_at: datetime
    status: str
    recommendations: int
    tools: tuple[ToolRef, ...] = ()
    verdict: ToolRef | None = None


@dataclass(frozen=True)
class AdvicePage:
    items: tuple[AdviceListItem, ...]
    page: int
    pages: int
    total: int
    tool: ToolRef | None = None
    status: str | None = None


@dataclass(frozen=True)
class ToolAdvice:
    """A tool's advice figures in one guild: posts naming it, and verdicts naming it."""

    tool: ToolRef
    named: int = 0
    won: int = 0


@dataclass(frozen=True)
class AdviceFigures:
    """For /compare and /tool: per tool, the posts naming two or more of the tools, and the
    latest decisions choosing one of them."""

    tools: tuple[ToolAdvice, ...] = ()
    decisions: tuple[DecisionLine, ...] = ()
    together: int = 0  # posts naming at least two of the tools
    together_verdicts: tuple[tuple[ToolRef, int], ...] = field(default=())  # most wins first

    @property
    def leader(self) -> tuple[ToolRef, int] | None:
        """The tool that won most of the posts naming these tools together (no tie)."""
        if not self.together_verdicts:
            return None
        if len(self.together_verdicts) > 1 and (
            self.together_verdicts[0][1] == self.together_verdicts[1][1]
        ):
            return None
        return self.together_verdicts[0]


def _checked(text: str, limit: int, what: str, *, empty: str | None, more: str = "") -> str:
    """`text` if it fits: not empty (unless `empty` is None) and at most `limit` characters."""
    if not text and empty is not None:
        raise InvalidInput(empty)
    if len(text) > limit:
        raise InvalidInput(f"Keep the {what} to {limit} characters (it has {len(text)}){more}.")
    return text


def check_title(title: str) -> str:
    return _checked(one_line(title), TITLE_LIMIT, "title", empty="An advice post needs a title.")


def check_question(question: str) -> str:
    return _checked(
        question.strip(),
        QUESTION_LIMIT,
        "question",
        empty="Ask a question: what do you need to decide, and what matters to you?",
        more="; put the rest in the post once it is open",
    )


def check_context(context: str) -> str:
    return _checked(context.strip(), CONTEXT_LIMIT, "context", empty=None)


def check_reason(reason: str) -> str:
    return _checked(
        reason.strip(),
        REASON_LIMIT,
        "reason",
        empty="Say why you recommend it: that is what the asker needs.",
    )


def title_from(question: str) -> str:
    """A title for a post asked without one: the question's first line, cut at a word."""
    first = one_line(question.strip().splitlines()[0] if question.strip() else "")
    if len(first) <= TITLE_LIMIT:
        return first
    cut = first[: TITLE_LIMIT - 1].rsplit(" ", 1)[0]
    return (cut or first[: TITLE_LIMIT - 1]) + "…"


def split_tool_names(text: str) -> list[str]:
    """ "Django, Flask / FastAPI" -> ["Django", "Flask", "FastAPI"]."""
    for separator in ("/", ";", "|", "\n", " vs ", " or ", " and "):
        text = text.replace(separator, ",")
    return [name.strip() for name in text.split(",") if name.strip()]


@dataclass(frozen=True)
class NewPost:
    """An advice post whose thread Discord has just created, to be recorded."""

    guild_id: int
    channel_id: int
    thread_id: int
    starter_message_id: int
    asker_id: int
    title: str
    question: str
    context: str
    tool_ids: tuple[int, ...]
