"""A published report as a Slack canvas: translation only.

- canvases.create {title, document_content: {type: markdown, markdown}} -> canvas_id
  (https://docs.slack.dev/reference/methods/canvases.create; slack_sdk `WebClient.canvases_create`).
- canvases.edit {canvas_id, changes: [{operation: replace, document_content}]}: with no section_id,
  `replace` replaces the whole canvas (https://docs.slack.dev/reference/methods/canvases.edit).
- canvases.access.set {canvas_id, access_level: read, channel_ids}: the report channel may read it
  (https://docs.slack.dev/reference/methods/canvases.access.set).
- All three need the bot scope `canvases:write`; canvases.create is Tier 2 (20+ a minute), canvases.edit
  Tier 3 (50+), and a 429's Retry-After is honoured by the client's RetryAfterHandler (gateway.make_client).
- The link: a canvas opens at `<workspace url>docs/<team id>/<canvas id>`, the workspace url and team id as
  auth.test answers them (https://docs.slack.dev/reference/methods/auth.test: `url`, `team_id`).
"""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.domain.team import Team
from bot.services.documents import Destinations, DocumentError, DocumentRef

_TRANSIENT = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})
_GONE = frozenset({"canvas_not_found", "file_not_found", "canvas_deleted"})


def _error(exc: SlackApiError, method: str) -> DocumentError:
    error = str(exc.response.get("error") or "unknown_error")
    return DocumentError(error, str(exc.response.get("needed") or ""), method=method,
                         retryable=error in _TRANSIENT or exc.response.status_code >= 500)


class SlackCanvasTarget:
    """Each published report as one canvas, readable by the report channel."""

    kind = "slack_canvas"

    def __init__(self, client: WebClient, channel: str) -> None:
        self.client, self.channel = client, channel
        self.target = f"slack_canvas:{channel}"

    def publish(self, title: str, markdown: str, existing: DocumentRef | None,
                created: Callable[[DocumentRef], None]) -> DocumentRef:
        content = {"type": "markdown", "markdown": markdown}
        method = "canvases.edit"
        try:
            ref = existing
            if ref is not None:
                try:
                    self.client.canvases_edit(canvas_id=ref.document_id,
                                              changes=[{"operation": "replace", "document_content": content}])
                except SlackApiError as exc:
                    if exc.response.get("error") not in _GONE:
                        raise
                    ref = None  # deleted in Slack: written again as a new canvas
            if ref is None:
                method = "canvases.create"
                canvas_id = str(self.client.canvases_create(title=title, document_content=content)["canvas_id"])
                created(DocumentRef(canvas_id))  # stored before anything else can fail: a retry edits this one
                method = "auth.test"
                ref = DocumentRef(canvas_id, self._url(canvas_id))
                created(ref)
            # On every publish, so a canvas whose sharing failed before is shared by the retry.
            method = "canvases.access.set"
            self.client.canvases_access_set(canvas_id=ref.document_id, access_level="read",
                                            channel_ids=[self.channel])
            return ref
        except SlackApiError as exc:
            raise _error(exc, method) from None
        except (SlackClientError, OSError) as exc:
            raise DocumentError("connection_error", str(exc), method=method, retryable=True) from None

    def _url(self, canvas_id: str) -> str | None:
        me = self.client.auth_test()
        url, team_id = me.get("url"), me.get("team_id")
        return f"{str(url).rstrip('/')}/docs/{team_id}/{canvas_id}" if url and team_id else None


def destinations(client: WebClient, team: Team) -> Destinations:
    """The canvas, when the team file asks for it."""
    if not team.documents.slack_canvas:
        return Destinations()
    return Destinations(documents=(SlackCanvasTarget(client, team.team.report_channel),))
