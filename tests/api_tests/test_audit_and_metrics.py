"""The audit log (every request, denials too, flushed on shutdown) and the Prometheus metrics."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.audit import AuditRow, AuditWriter, api_audit
from api.main import create_app
from api_tests.conftest import sign_in
from indexer.db import make_engine


def _rows(engine) -> list:
    with engine.connect() as conn:
        return list(conn.execute(select(api_audit).order_by(api_audit.c.id)))


def test_every_request_is_audited_denials_included_and_flushed_on_shutdown(ledger, settings, actors):
    app = create_app(settings, ledger=ledger)
    n = 0
    with TestClient(app) as client:
        supplier = sign_in(client, actors.supplier)  # GET /auth/nonce, POST /auth/login
        n += 2
        for _ in range(25):
            assert client.get("/health").status_code == 200
        n += 25
        assert client.get("/auth/me", headers=supplier).status_code == 200
        assert client.get("/payables", headers=supplier).status_code == 403  # RoleRequired
        assert client.get("/auth/me").status_code == 401  # NotSignedIn
        assert client.get("/no/such/path").status_code == 404
        n += 4
    rows = _rows(app.state.engine)
    assert len(rows) == n
    by_path = {(r.method, r.path, r.status): r for r in rows}
    denied = by_path[("GET", "/payables", 403)]
    assert denied.caller == actors.supplier.address and denied.route == "/payables" and denied.duration_ms >= 0
    assert by_path[("GET", "/auth/me", 401)].caller is None
    assert by_path[("GET", "/no/such/path", 404)].route is None
    assert by_path[("GET", "/auth/me", 200)].caller == actors.supplier.address
    assert all(r.at > 0 for r in rows)


def test_rows_are_flushed_within_the_window_without_shutdown(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/audit.db")
    writer = AuditWriter(engine, batch_size=200, flush_seconds=0.2)
    writer.submit(AuditRow(at=time.time(), method="GET", path="/x", route="/x", status=200, caller=None,
                           duration_ms=1.0))
    deadline = time.monotonic() + 3
    while not _rows(engine) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(_rows(engine)) == 1
    writer.close()


def test_a_full_queue_applies_back_pressure_and_drops_nothing(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/audit.db")
    writer = AuditWriter(engine, batch_size=7, flush_seconds=0.05, max_queue=3)
    slow = writer._write

    def slow_write(batch):  # a slow database: producers must wait for room, not drop rows
        time.sleep(0.01)
        slow(batch)

    writer._write = slow_write

    def produce(k: int) -> None:
        for i in range(50):
            writer.submit(AuditRow(at=time.time(), method="GET", path=f"/{k}/{i}", route=None, status=200,
                                   caller=None, duration_ms=0.0))

    threads = [threading.Thread(target=produce, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(api_audit)).scalar_one() == 200
    assert writer.written == 200


def test_a_failing_database_is_retried_not_skipped(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/audit.db")
    writer = AuditWriter(engine, flush_seconds=0.01, retry_seconds=0.01)
    real, failures = writer.engine, []

    class Flaky:
        def begin(self):
            if len(failures) < 3:
                failures.append(1)
                raise RuntimeError("database is down")
            return real.begin()

    writer.engine = Flaky()
    writer.submit(AuditRow(at=1.0, method="GET", path="/", route=None, status=200, caller=None, duration_ms=0.0))
    writer.close()
    assert len(failures) == 3 and len(_rows(engine)) == 1


def test_metrics_by_route_template_and_status_without_firm_data(client, actors):
    supplier = sign_in(client, actors.supplier)
    client.get("/payables/12345", headers=supplier)  # 503 or 404: the mirror is empty
    client.get(f"/holdings?owner={actors.core.address}", headers=supplier)
    client.get("/health")
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'scf_api_requests_total{method="GET",route="/health",status="200"} 1.0' in text
    assert 'route="/payables/{slot}"' in text and "12345" not in text
    assert 'scf_api_request_duration_seconds_bucket{le="0.005",method="GET",route="/health",status="200"}' in text
    assert actors.core.address.lower() not in text.lower() and actors.supplier.address.lower() not in text.lower()
    client.get("/definitely/not/here")
    assert 'route="<unmatched>",status="404"' in client.get("/metrics").text


def test_the_audit_log_may_live_in_its_own_database(ledger, settings, tmp_path):
    app = create_app(replace(settings, audit_db_url=f"sqlite:///{tmp_path}/audit-only.db"), ledger=ledger)
    with TestClient(app) as client:
        client.get("/health")
        client.get("/organizations")  # 401
    assert [r.status for r in _rows(make_engine(f"sqlite:///{tmp_path}/audit-only.db"))] == [200, 401]
