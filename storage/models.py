"""SQLAlchemy 2.0 models. Every week-scoped table carries (team_id, week_id) and an index on it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    Unicode,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}



class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which keeps no zone) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


TZ = UtcDateTime()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class TeamRow(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(TZ)
    incident_seq: Mapped[int] = mapped_column(Integer, default=0)
    action_seq: Mapped[int] = mapped_column(Integer, default=0)  # action items are A1, A2, … per team


class PersonRow(Base):
    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("team_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    key: Mapped[str] = mapped_column(String(64))  # the team file's person id
    display_name: Mapped[str] = mapped_column(String(64))
    slack_user_id: Mapped[str | None] = mapped_column(String(32))
    feishu_open_id: Mapped[str | None] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(255))
    # The ids a platform gave for this person's email ({"slack": "U…"}), so a restart looks nobody up again;
    # forgotten when the email changes (sync_people) or the platform says the id is gone.
    platform_ids: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)


class WeekRow(Base):
    __tablename__ = "weeks"
    __table_args__ = (UniqueConstraint("team_id", "label"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    label: Mapped[str] = mapped_column(String(8))  # 2024-W26
    opened_at: Mapped[datetime | None] = mapped_column(TZ)


class PromptRow(Base):
    """A message the bot sent or will send; written before sending so a crash cannot double it."""

    __tablename__ = "prompts"
    __table_args__ = (
        UniqueConstraint("team_id", "week_id", "person_id", "kind", "platform"),
        Index("ix_prompts_team_week", "team_id", "week_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    week_id: Mapped[int] = mapped_column(ForeignKey("weeks.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    kind: Mapped[str] = mapped_column(String(24))  # prompt | remind:<n> | editor
    platform: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(128))
    item_keys: Mapped[list[str]] = mapped_column(JSON, default=list)  # numbered as in the prompt
    created_at: Mapped[datetime] = mapped_column(TZ)
    sent_at: Mapped[datetime | None] = mapped_column(TZ)


class AnswerMessageRow(Base):
    """Every message an owner sent about the report, as received; never deleted."""

    __tablename__ = "answer_messages"
    __table_args__ = (
        UniqueConstraint("team_id", "platform", "source_id"),
        Index("ix_answer_messages_team_week", "team_id", "week_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    week_id: Mapped[int] = mapped_column(ForeignKey("weeks.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    platform: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str] = mapped_column(String(128))  # the platform's message id
    thread_id: Mapped[str | None] = mapped_column(String(128))
    target_item: Mapped[str | None] = mapped_column(String(200))  # the item the platform said it answers
    via: Mapped[str] = mapped_column(String(16))  # message | form
    text: Mapped[str] = mapped_column(Text)  # current text
    received_at: Mapped[datetime] = mapped_column(TZ)
    edited_at: Mapped[datetime | None] = mapped_column(TZ)
    deleted_at: Mapped[datetime | None] = mapped_column(TZ)


class MessageTombstoneRow(Base):
    """A deletion (a recall) that arrived before its message: Slack and Feishu deliver out of order under
    retries. The message, when it comes, is not stored (issue 20, out-of-order delivery)."""

    __tablename__ = "message_tombstones"
    __table_args__ = (UniqueConstraint("team_id", "platform", "source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    platform: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str] = mapped_column(String(128))  # the platform's message id, as answer_messages keeps it
    deleted_at: Mapped[datetime] = mapped_column(TZ)


class AnswerRevisionRow(Base):
    __tablename__ = "answer_revisions"
    __table_args__ = (Index("ix_answer_revisions_team_week", "team_id", "week_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    week_id: Mapped[int] = mapped_column(ForeignKey("weeks.id"))
    message_id: Mapped[int] = mapped_column(ForeignKey("answer_messages.id"))
    change: Mapped[str] = mapped_column(String(8))  # create | edit | delete
    text: Mapped[str | None] = mapped_column(Text)  # NULL: the message's current text (storage/answers.py)
    at: Mapped[datetime] = mapped_column(TZ)


class ContributionRow(Base):
    """The part of one message that went to one item."""

    __tablename__ = "contributions"
    __table_args__ = (Index("ix_contributions_team_week", "team_id", "week_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    week_id: Mapped[int] = mapped_column(ForeignKey("weeks.id"))
    message_id: Mapped[int] = mapped_column(ForeignKey("answer_messages.id"))
    item_key: Mapped[str] = mapped_column(String(200))
    text: Mapped[str | None] = mapped_column(Text)  # NULL: the message's whole text (storage/answers.py)
    superseded_at: Mapped[datetime | None] = mapped_column(TZ)  # a later form submission replaced it


class EntryRow(Base):
    """The current answer per text item, derived from the live contributions."""

    __tablename__ = "entries"
    __table_args__ = (
        UniqueConstraint("team_id", "week_id", "item_key"),
        Index("ix_entries_team_week", "team_id", "week_id"),
        Index("ix_entries_team_item", "team_id", "item_key"),  # an item's page, a trend over weeks
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    week_id: Mapped[int] = mapped_column(ForeignKey("weeks.id"))
    item_key: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    progress: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    main_problem: Mapped[str | None] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    updated_at: Mapped[datetime] = mapped_column(TZ)


class BankStatusRow(Base):
    __tablename__ = "bank_statuses"
    __table_args__ = (
        UniqueConstraint("team_id", "week_id", "item_key"),
        Index("ix_bank_statuses_team_week", "team_id", "week_id"),
        Index("ix_bank_statuses_team_item", "team_id", "item_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    week_id: Mapped[int] = mapped_column(ForeignKey("weeks.id"))
    item_key: Mapped[str] = mapped_column(String(200))
    stage: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    updated_at: Mapped[datetime] = mapped_column(TZ)


class MetricValueRow(Base):
    __tablename__ = "metric_values"
    __table_args__ = (
        UniqueConstraint("team_id", "week_id", "item_key"),
        Index("ix_metric_values_team_week", "team_id", "week_id"),
        Index("ix_metric_values_team_item", "team_id", "item_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    week_id: Mapped[int] = mapped_column(ForeignKey("weeks.id"))
    item_key: Mapped[str] = mapped_column(String(200))
    value_text: Mapped[str] = mapped_column(String(64))
    value: Mapped[Decimal | None] = mapped_column(Numeric(18, 6))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    updated_at: Mapped[datetime] = mapped_column(TZ)


class IncidentRow(Base):
    __tablename__ = "incidents"
    __table_args__ = (
        UniqueConstraint("team_id", "number"),
        # covers the ORDER BY, so SQLite keeps to the (team, week) prefix instead of all history
        Index("ix_incidents_team_week", "team_id", "week_id", "started_at", "number"),
        Index("ix_incidents_team_started", "team_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    week_id: Mapped[int] = mapped_column(ForeignKey("weeks.id"))
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(TZ)
    recovered_at: Mapped[datetime | None] = mapped_column(TZ)
    system: Mapped[str] = mapped_column(String(128), default="")
    what: Mapped[str] = mapped_column(Text)
    cause: Mapped[str] = mapped_column(Text, default="")
    impact: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str | None] = mapped_column(String(16))
    weight: Mapped[Decimal] = mapped_column(Numeric(4, 2), default=Decimal("1"))
    counts_toward_availability: Mapped[bool] = mapped_column(Boolean, default=True)
    cause_class: Mapped[str] = mapped_column(String(32), default="")  # `归因`: own, bank, … ("" not said)
    cause_bank: Mapped[str] = mapped_column(String(64), default="")  # the bank's team-file name, for bank
    postmortem: Mapped[str | None] = mapped_column(Text)  # the postmortem's link, as written
    detected_at: Mapped[datetime | None] = mapped_column(TZ)  # when it was noticed (`发现：`), if said
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))  # a team member, if it was one
    reporter_user: Mapped[str | None] = mapped_column(String(128))  # platform:user id of whoever filed it
    reporter_name: Mapped[str | None] = mapped_column(String(128))  # their name when filed (the profile's)
    source: Mapped[str] = mapped_column(String(16))  # console | slack | feishu | cli
    source_ref: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(TZ)
    updated_at: Mapped[datetime] = mapped_column(TZ)
    deleted_at: Mapped[datetime | None] = mapped_column(TZ)


class ActionItemRow(Base):
    """A postmortem's action item (`/incident action N …`): an owner, a due date, open until done."""

    __tablename__ = "action_items"
    __table_args__ = (
        UniqueConstraint("team_id", "number"),
        Index("ix_action_items_team_owner", "team_id", "owner_id", "done_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    number: Mapped[int] = mapped_column(Integer)  # shown as A<number>
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    due: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(TZ)
    created_by: Mapped[str | None] = mapped_column(String(128))  # platform:user id
    done_at: Mapped[datetime | None] = mapped_column(TZ)


class ActionItemChangeRow(Base):
    """An action item's history: opened, postponed (to `due`, with why), done."""

    __tablename__ = "action_item_changes"
    __table_args__ = (Index("ix_action_item_changes_item", "action_item_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action_item_id: Mapped[int] = mapped_column(ForeignKey("action_items.id"))
    kind: Mapped[str] = mapped_column(String(16))  # opened | postponed | done
    due: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(TZ)
    by: Mapped[str | None] = mapped_column(String(128))


class IncidentAnswerRow(Base):
    """An owner's answer to the weekly prompt's incident question; the latest live one per person counts.

    kind: none (nothing to add), incident (filed as `incident_id`), unclear (kept and asked about).
    """

    __tablename__ = "incident_answers"
    __table_args__ = (
        UniqueConstraint("team_id", "platform", "source_id"),
        Index("ix_incident_answers_team_week", "team_id", "week_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    week_id: Mapped[int] = mapped_column(ForeignKey("weeks.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)  # as answered (empty for the one-click "nothing to add")
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    platform: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str] = mapped_column(String(128))  # the message or form submission it came from
    created_at: Mapped[datetime] = mapped_column(TZ)
    deleted_at: Mapped[datetime | None] = mapped_column(TZ)


class ReportRow(Base):
    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("team_id", "week_id"),
        Index("ix_reports_team_week", "team_id", "week_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    week_id: Mapped[int] = mapped_column(ForeignKey("weeks.id"))
    compiled_at: Mapped[datetime] = mapped_column(TZ)
    published_at: Mapped[datetime | None] = mapped_column(TZ)
    markdown: Mapped[str] = mapped_column(Text)
    slack: Mapped[str] = mapped_column(Text)
    feishu: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer, default=1)


class ReportPostRow(Base):
    """Where a report was posted, so publishing again edits instead of posting twice."""

    __tablename__ = "report_posts"
    __table_args__ = (UniqueConstraint("report_id", "platform", "part"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id"))
    platform: Mapped[str] = mapped_column(String(16))
    part: Mapped[int] = mapped_column(Integer, default=0)
    channel: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(128))
    posted_at: Mapped[datetime] = mapped_column(TZ)
    updated_at: Mapped[datetime | None] = mapped_column(TZ)


class JobRunRow(Base):
    """One run of one scheduled job at one fire time: the unique row is the claim, so it runs once."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("team_id", "job_id", "fire_time"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    job_id: Mapped[str] = mapped_column(String(64))
    fire_time: Mapped[datetime] = mapped_column(TZ)
    instance: Mapped[str] = mapped_column(String(128))  # host:pid:random of the claimer
    claimed_at: Mapped[datetime] = mapped_column(TZ)
    lease_until: Mapped[datetime] = mapped_column(TZ)  # past it, an unfinished run may be taken over
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    finished_at: Mapped[datetime | None] = mapped_column(TZ)
    outcome: Mapped[str | None] = mapped_column(Text)


class AwayRow(Base):
    """A person's time away (inclusive dates in the team's zone): no prompts, and 休假 in the report."""

    __tablename__ = "away"
    __table_args__ = (Index("ix_away_team_person", "team_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(TZ)


class SchedulerJobRow(Base):
    """APScheduler's SQLAlchemyJobStore table (its exact shape), created by our migrations, not at start."""

    __tablename__ = "zhoubao_scheduler_jobs"

    id: Mapped[str] = mapped_column(Unicode(191), primary_key=True)
    next_run_time: Mapped[float | None] = mapped_column(Float(25), index=True)
    job_state: Mapped[bytes] = mapped_column(LargeBinary)


class SignInNonceRow(Base):
    """A one-time sign-in link or OAuth state already used: presenting it again is refused."""

    __tablename__ = "signin_nonces"
    __table_args__ = (UniqueConstraint("purpose", "nonce"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))  # link | slack | feishu
    nonce: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime] = mapped_column(TZ)
    expires_at: Mapped[datetime] = mapped_column(TZ)  # past it, the row may be purged


class JournalRow(Base):
    """One inbound platform payload, stored before the platform is answered; processed once, in id order.

    `processed_at` set and `last_error` set means it was given up after repeated failures (logged)."""

    __tablename__ = "inbound_journal"
    __table_args__ = (
        UniqueConstraint("platform", "dedupe_key"),
        Index("ix_inbound_journal_pending", "processed_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)  # arrival order
    platform: Mapped[str] = mapped_column(String(16))
    dedupe_key: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)  # the platform's JSON, as received
    received_at: Mapped[datetime] = mapped_column(TZ)
    processed_at: Mapped[datetime | None] = mapped_column(TZ)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class WebSessionRow(Base):
    """A signed-in dashboard session; the cookie holds a token whose SHA-256 is `id`. No row, no session:
    signing out deletes it, and a person's removal or role change ends it on their next request."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # hex SHA-256 of the cookie's token
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    person_key: Mapped[str] = mapped_column(String(64))  # the team file's person id
    role: Mapped[str] = mapped_column(String(16))  # the role signed in with; another role ends the session
    created_at: Mapped[datetime] = mapped_column(TZ)
    expires_at: Mapped[datetime] = mapped_column(TZ, index=True)


class DigestRow(Base):
    """The week's key points (issue 24): the latest digest a model wrote and the check passed, the lines it
    dropped and why, what the editor approved, and what went out — with the model, its settings and the hash
    of the facts it was given, so a published digest can be explained later. One row per (team, week)."""

    __tablename__ = "digests"
    __table_args__ = (
        UniqueConstraint("team_id", "week_id"),
        Index("ix_digests_team_week", "team_id", "week_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    week_id: Mapped[int] = mapped_column(ForeignKey("weeks.id"))
    # ready: lines passed the check; too_few: fewer than the minimum passed; failed: the model did not answer
    # usefully (error says why); missing: publish found nothing prepared
    state: Mapped[str] = mapped_column(String(16))
    lines: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)  # {"text", "cites", "sources"}
    dropped: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)  # {"text", "cites", "reason"}
    error: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str] = mapped_column(String(255), default="")
    model: Mapped[str] = mapped_column(String(200), default="")
    settings: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    facts_hash: Mapped[str] = mapped_column(String(64), default="")
    tokens_in: Mapped[int | None] = mapped_column(Integer)
    tokens_out: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    prepared_at: Mapped[datetime] = mapped_column(TZ)
    off: Mapped[bool] = mapped_column(Boolean, default=False)  # the editor turned it off for the week
    approved: Mapped[list[dict[str, object]] | None] = mapped_column(JSON)  # the lines the editor approved
    approved_by: Mapped[str | None] = mapped_column(String(64))  # team-file person id
    approved_at: Mapped[datetime | None] = mapped_column(TZ)
    told_at: Mapped[datetime | None] = mapped_column(TZ)  # the editors were told the week has no digest
    published: Mapped[list[dict[str, object]] | None] = mapped_column(JSON)  # the lines that went out
    published_at: Mapped[datetime | None] = mapped_column(TZ)


class PublishedDocumentRow(Base):
    """A document a report was published into (a Feishu docx, a Slack canvas, a 多维表格 table), so a
    later publish of the same subject edits it instead of creating a second one."""

    __tablename__ = "published_documents"
    __table_args__ = (UniqueConstraint("team_id", "subject", "target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    subject: Mapped[str] = mapped_column(String(64))  # what is published: "week:2024-W26" (a roll-up later)
    target: Mapped[str] = mapped_column(String(160))  # where: "feishu_doc:<folder>", "slack_canvas:<channel>"
    document_id: Mapped[str] = mapped_column(String(128))  # the platform's document id or token
    url: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(TZ)
    updated_at: Mapped[datetime] = mapped_column(TZ)


class DocumentRecordRow(Base):
    """One row a report wrote into a table (a 多维表格 record), found again by its key when the report changes."""

    __tablename__ = "document_records"
    __table_args__ = (UniqueConstraint("team_id", "subject", "target", "row_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"))
    subject: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(160))
    row_key: Mapped[str] = mapped_column(String(255))  # report_rows.ReportRow.key
    record_id: Mapped[str] = mapped_column(String(64))
