"""POST /feishu/events: only sealed, signed, fresh requests from Feishu change anything."""

from __future__ import annotations

import json

from bot.domain.weeks import IsoWeek
from tests.feishu import payloads
from tests.feishu.conftest import World, open_id_of


def _stored(world: World, key_part: str) -> str | None:
    report = world.bot.week_report.compile(IsoWeek.of(world.clock.now))
    return next((line for line in world.bot.ctx.renderer.markdown(report).split("\n") if key_part in line), None)


def test_url_verification_is_answered_with_the_challenge(world: World) -> None:
    resp = world.post(payloads.url_verification("ch-123"), signed=False)
    assert resp.status_code == 200 and resp.json() == {"challenge": "ch-123"}


def test_url_verification_with_a_wrong_token_is_refused(world: World) -> None:
    resp = world.post(payloads.url_verification("ch-123", token="forged"), signed=False)
    assert resp.status_code == 401 and "challenge" not in resp.text


def _zhoujie_says(world: World, text: str, **kw: object) -> dict:
    return payloads.message(open_id_of("zhoujie"), text, world.clock.now, **kw)  # type: ignore[arg-type]


def test_a_sealed_signed_fresh_message_is_stored_and_answered(world: World) -> None:
    payload = _zhoujie_says(world, "机房迁移：整体进度达到了80%", message_id="om_u1")
    resp = world.post(payload)
    assert resp.status_code == 200
    assert "整体进度达到了80%" in (_stored(world, "机房迁移") or "")
    assert any("已记录" in t for t in world.replies_to("om_u1"))


def test_forged_unsigned_stale_and_undecryptable_requests_change_nothing(world: World) -> None:
    text = "机房迁移：伪造的内容"
    forged = payloads.message(open_id_of("zhoujie"), text, world.clock.now)
    forged["header"]["token"] = "not-the-token"
    answers = [
        world.post(forged).status_code,
        world.post(_zhoujie_says(world, text), signed=False).status_code,
        world.post(_zhoujie_says(world, text), age=301).status_code,
        world.post(_zhoujie_says(world, text), age=-301).status_code,
        world.post(_zhoujie_says(world, text), key="another-key").status_code,
        world.post(_zhoujie_says(world, text), encrypted=False).status_code,
    ]
    assert answers == [401, 401, 401, 401, 400, 401]
    body = payloads.seal(_zhoujie_says(world, text))
    ts = str(int(world.clock.now.timestamp()))
    headers = payloads.sign(body, ts, "nonce")
    tampered = body.replace(b'"}', b'A"}')
    assert world.http.post("/feishu/events", content=tampered, headers=headers).status_code == 401
    assert "伪造" not in (_stored(world, "机房迁移") or "")
    assert world.standin.sent(msg_type="text") == []


def test_a_redelivered_event_id_is_handled_once(world: World) -> None:
    first = _zhoujie_says(world, "机房迁移：第一次", message_id="om_a", event_id="ev-1")
    again = _zhoujie_says(world, "机房迁移：第一次", message_id="om_a", event_id="ev-1")
    assert world.post(first).status_code == 200
    assert world.post(again).status_code == 200
    assert len(world.replies_to("om_a")) == 1


def test_a_slightly_old_request_within_five_minutes_is_accepted(world: World) -> None:
    resp = world.post(_zhoujie_says(world, "机房迁移：四分钟前"), age=240)
    assert resp.status_code == 200 and "四分钟前" in (_stored(world, "机房迁移") or "")


def test_an_unsubscribed_event_type_is_refused_without_effect(world: World) -> None:
    payload = payloads.event("drive.file.created_v1", {"file_token": "x"}, world.clock.now)
    resp = world.post(payload)
    assert resp.status_code == 400 and json.loads(resp.text)["msg"].startswith("unhandled")


def test_a_body_over_the_limit_is_refused_before_any_check_and_changes_nothing(world: World) -> None:
    payload = _zhoujie_says(world, "机房迁移：" + "很长" * (1 << 20), message_id="om_big")
    body = payloads.seal(payload)
    assert len(body) > 2 << 20
    headers = payloads.sign(body, str(int(world.clock.now.timestamp())), "nonce")
    resp = world.http.post("/feishu/events", content=body, headers={"Content-Type": "application/json", **headers})
    assert resp.status_code == 413
    assert "很长" not in (_stored(world, "机房迁移") or "")
    assert world.replies_to("om_big") == []


def test_an_unknown_path_is_404_and_health_answers(world: World) -> None:
    assert world.http.post("/feishu/event", content=b"{}").status_code == 404
    assert world.http.get("/healthz").status_code == 503, "not started: the scheduler is not running"
    assert world.http.get("/readyz").status_code == 503
    world.runtime.start()
    ready = world.http.get("/readyz")
    assert world.http.get("/healthz").status_code == 200
    assert ready.status_code == 200 and ready.json()["database"] == "ok"
