"""contact_ref → the open WeChat session of that sender."""

import faust

from models.wechat import WeChatSession
from streams.app import app, settings


class SharedChangelogTable(faust.Table):
    """A table whose changelog is named after the app, not after the worker's stages.

    faust names a changelog after the app id, which here is the consumer group of the set
    of stages the worker runs (``hotline12345``, ``hotline12345-intake``, …). A centre
    that split its one worker into stage workers would then start the intake worker on an
    empty changelog and lose the open sessions; with one name for every arrangement they
    carry over (``streams/changelog_move.py`` moves a changelog of the former names).
    """

    def _changelog_topic_name(self) -> str:
        return shared_changelog_name(self.name)


def shared_changelog_name(table: str) -> str:
    """The changelog topic of ``table`` whatever stages the worker runs."""
    return f"{settings.topic_prefix}{settings.app_id}-{table}-changelog"


wechat_sessions = app.tables.add(
    SharedChangelogTable(
        app,
        name="wechat-sessions",
        default=None,
        beacon=app.tables.beacon,
        key_type=str,
        value_type=WeChatSession,
        partitions=settings.partitions,
    )
)
