"""/readyz is anonymous (issue 20 item 16): with the database down it says which component is not ready,
never the database's host, port, name or user; the reason goes to the log."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from bot.runtime.health import Health

SECRETS = ("db-internal.example", "6543", "payroll_prod", "zhoubao_rw", "hunter2")


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://zhoubao_rw:hunter2@127.0.0.1:9/payroll_prod?connect_timeout=1",
    "postgresql+psycopg://zhoubao_rw:hunter2@db-internal.example.invalid:6543/payroll_prod?connect_timeout=1",
    "sqlite:////nonexistent-dir-payroll_prod/zhoubao_rw.db",
])
def test_readyz_with_the_database_down_names_the_component_only(url: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="zhoubao.health"):
        status, body = Health("支付技术部", sessionmaker(create_engine(url))).ready()
    assert (status, body) == (503, {"status": "not ready", "database": "unavailable"})
    shown = json.dumps(body, ensure_ascii=False)
    assert not [s for s in (*SECRETS, "127.0.0.1", "支付技术部") if s in shown]
    logged = [r for r in caplog.records if r.getMessage() == "not ready: database unavailable"]
    assert len(logged) == 1 and logged[0].reason  # type: ignore[attr-defined]
