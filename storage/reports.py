"""Compiled reports and where they were posted."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import ReportPostRow, ReportRow, WeekRow


class Reports:
    def __init__(self, session: Session) -> None:
        self.s = session

    def get(self, team_id: int, week_id: int) -> ReportRow | None:
        return self.s.scalars(select(ReportRow).where(
            ReportRow.team_id == team_id, ReportRow.week_id == week_id)).first()

    def by_label(self, team_id: int, label: str) -> ReportRow | None:
        return self.s.scalars(select(ReportRow).join(WeekRow, WeekRow.id == ReportRow.week_id).where(
            ReportRow.team_id == team_id, WeekRow.label == label)).first()

    def published_at(self, team_id: int, label: str) -> datetime | None:
        """When the week's report was first published (None: not yet), without loading its renderings: asked
        after every answer until the week is published (bench/week.py, issue 21)."""
        return self.s.scalars(select(ReportRow.published_at).join(WeekRow, WeekRow.id == ReportRow.week_id).where(
            ReportRow.team_id == team_id, WeekRow.label == label)).first()

    def save(self, team_id: int, week_id: int, *, markdown: str, slack: str, feishu: str,
             at: datetime) -> ReportRow:
        row = self.get(team_id, week_id)
        if row is None:
            row = ReportRow(team_id=team_id, week_id=week_id, revision=0)
            self.s.add(row)
        row.markdown, row.slack, row.feishu, row.compiled_at = markdown, slack, feishu, at
        row.revision = (row.revision or 0) + 1
        self.s.flush()
        return row

    def set_published(self, row: ReportRow, at: datetime) -> None:
        """The report counts as published at `at` (an imported report keeps its file's time)."""
        row.published_at = at
        self.s.flush()

    def posts(self, report_id: int, platform: str) -> list[ReportPostRow]:
        return list(self.s.scalars(select(ReportPostRow).where(
            ReportPostRow.report_id == report_id, ReportPostRow.platform == platform).order_by(ReportPostRow.part)))

    def forget_posts(self, report_id: int, platform: str) -> None:
        """Drop where the report was posted on `platform` (the post is gone; a new one is recorded)."""
        for row in self.posts(report_id, platform):
            self.s.delete(row)
        self.s.flush()

    def record_post(self, report_id: int, platform: str, part: int, channel: str, message_id: str | None,
                    at: datetime) -> ReportPostRow:
        row = self.s.scalars(select(ReportPostRow).where(
            ReportPostRow.report_id == report_id, ReportPostRow.platform == platform,
            ReportPostRow.part == part)).first()
        if row is None:
            row = ReportPostRow(report_id=report_id, platform=platform, part=part, channel=channel,
                                message_id=message_id, posted_at=at)
            self.s.add(row)
        else:
            row.channel, row.message_id, row.updated_at = channel, message_id, at
        self.s.flush()
        return row
