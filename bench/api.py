"""API load bench: Debian's ``wrk`` on loopback against the API served by uvicorn, for ``--seconds``
per endpoint: score lookup ``GET /scores/{address}`` (as a lender, over every scored firm in turn),
the holding tree ``GET /payables/{slot}`` (as an auditor, the simulated payables with the most tokens)
and ``GET /evidence/proof`` (as a lender, leaves of a 1,024-document batch anchored on the chain).
Every request is authenticated (bearer token from a real SIWE sign-in), authorized by the access
table, audit-logged and read from the SQL mirror. Prints one JSON line: req/s, p50 and p99 per endpoint.

The mirror: a simulated economy written in bulk mode (risk/simulate.py), scored by the scorecard, plus
the chain's own records (members, the evidence batch) indexed from a fresh anvil.

Run: `.venv/bin/python bench/api.py [--seconds 30] [--workers 2] [--connections 8] [--firms 2000]`
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from importlib.util import find_spec
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # risk/ is not in the editable install yet

import pandas as pd
import requests
from eth_account.messages import encode_defunct

from api.auth import SiweMessage
from indexer import Indexer
from indexer.db import make_engine
from ledger import evidence
from ledger.anvil import Anvil, dev_accounts, free_port
from ledger.chain import Chain
from ledger.client import Ledger
from ledger.deployment import deploy_system, save_manifest
from ledger.roles import Role
from risk import data, score
from risk.simulate import simulate, write_bulk

LEAVES = 1024
SECRET = "bench-secret-0123456789abcdef0123"


def build_mirror(directory: Path, firms: int, seed: int) -> tuple[str, Anvil, dict]:
    """Anvil with the system deployed, a lender and an auditor admitted, an evidence batch anchored;
    the mirror with a scored simulated economy and the chain indexed. Returns the db URL, the node
    and what to request."""
    node = Anvil(accounts=4)
    chain = Chain(node.url)
    admin, lender, auditor = dev_accounts(3)
    deployment = deploy_system(chain, admin, kyc_registrars=(admin.address,))
    save_manifest(directory / "deployments.json", deployment)
    ledger = Ledger(chain, deployment)
    until = int(time.time()) + 365 * 86400
    ledger.as_registrar(admin).admit(lender.address, "bench-lender", [Role.LENDER], until)
    ledger.as_registrar(admin).admit(auditor.address, "bench-auditor", [Role.AUDITOR], until)
    leaves = [evidence.draft_leaf(os.urandom(256), "invoice", auditor.address, submitted_at=until - 86400 * 300)
              for _ in range(LEAVES)]
    tree = evidence.evidence_tree(leaves)
    evidence.anchor_batch(ledger, deployment.address(evidence.EVIDENCE_LEDGER), auditor, tree, "bench://batch")

    url = f"sqlite:///{directory}/mirror.db"
    engine = make_engine(url)
    economy = simulate(seed, firms)
    write_bulk(economy, engine)
    mirror = data.load(engine)
    x = score.features(mirror)
    model = score.fit(x, pd.Series([economy.truth.default.get(a, 0) for a in x.index], index=x.index))
    scored = score.score_firms(model, mirror, x)
    score.store_scores(engine, model, scored, mirror.as_of_block)
    Indexer(node.url, url, deployment, confirmations=0, engine=engine).sync()

    slots = _widest_slots(engine, 64)
    root = "0x" + tree.root.hex()
    proofs = []
    for i in range(0, LEAVES, LEAVES // 64):
        query = "&".join([f"root={root}", f"leaf=0x{tree.leaf_hash_at(i).hex()}"]
                         + [f"proof=0x{p.hex()}" for p in tree.get_proof(i)])
        proofs.append(f"/evidence/proof?{query}")
    return url, node, {
        "accounts": {"lender": lender, "auditor": auditor},
        "paths": {
            "score": [f"/scores/{a}" for a in scored.frame.index],
            "tree": [f"/payables/{s}" for s in slots],
            "evidence_proof": proofs,
            "health": ["/health"],  # the floor: no sign-in, no database (still audited and counted)
        },
        "rows": {"firms": len(economy.firms), "scores": len(scored.frame), "transfers": economy.transfers},
        "tree_tokens": _tokens(engine, slots),
    }


def _widest_slots(engine, count: int) -> list[int]:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    with engine.connect() as conn:
        return [int(r[0]) for r in conn.execute(text(
            "SELECT slot FROM holding GROUP BY slot ORDER BY count(*) DESC, slot LIMIT :n"), {"n": count})]


def _tokens(engine, slots: list[int]) -> dict:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    with engine.connect() as conn:
        counts = [int(r[0]) for r in conn.execute(text(
            f"SELECT count(*) FROM holding WHERE slot IN ({','.join(map(str, slots))}) GROUP BY slot"))]
    return {"min": min(counts), "max": max(counts), "mean": round(sum(counts) / len(counts), 1)}


def serve(directory: Path, rpc_url: str, db_url: str, workers: int, env: dict[str, str], *, loop: str,
          http: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.main:create_app", "--factory", "--host", "127.0.0.1", "--port",
         str(port), "--workers", str(workers), "--loop", loop, "--http", http, "--log-level", "warning",
         "--no-access-log"],
        cwd=ROOT, env={**os.environ, "SCF_RPC_URL": rpc_url, "SCF_DB_URL": db_url, "SCF_API_SECRET": SECRET,
                       "SCF_MANIFEST": str(directory / "deployments.json"), "PYTHONPATH": str(ROOT), **env})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"uvicorn exited with code {process.returncode}")
        try:
            if requests.get(f"{base}/health", timeout=1).ok:
                return process, base
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("uvicorn did not answer /health within 60 s")


def sign_in(base: str, account) -> str:  # type: ignore[no-untyped-def]
    """A bearer token by SIWE (the nonce from one worker, the login at any: they share the secret and database)."""
    with requests.Session() as http:
        nonce = http.get(f"{base}/auth/nonce", timeout=10).json()
        text = SiweMessage(domain=nonce["domain"], address=account.address, uri=f"http://{nonce['domain']}/login",
                           version="1", chain_id=nonce["chain_id"], nonce=nonce["nonce"],
                           issued_at=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                           statement="Sign in to scf-ledger").prepare_message()
        signature = account.sign_message(encode_defunct(text=text)).signature.to_0x_hex()
        response = http.post(f"{base}/auth/login", json={"message": text, "signature": signature}, timeout=30)
    if response.status_code != 200:
        raise SystemExit(f"sign-in failed: {response.text}")
    return response.json()["token"]


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU time of the server process and its children (the uvicorn workers), from /proc."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # a process that ended meanwhile
            continue
        if int(stat.parent.name) == pid or int(fields[1]) == pid:  # fields[1]: the parent pid
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def wrk(base: str, token: str, paths: list[str], directory: Path, server: int, *, seconds: int,
        connections: int, threads: int) -> dict:
    listing = directory / "paths.txt"
    listing.write_text("\n".join(paths) + "\n")
    # the first request of each path pays for cold caches: warm up briefly, then measure
    for path in paths[:50]:
        requests.get(base + path, headers={"Authorization": f"Bearer {token}"}, timeout=30).raise_for_status()
    cpu, load = server_cpu_seconds(server), os.getloadavg()[0]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s",
         str(ROOT / "bench" / "api.lua"), base],
        env={**os.environ, "SCF_BENCH_TOKEN": token, "SCF_BENCH_PATHS": str(listing)},
        capture_output=True, text=True, check=True)
    cpu = server_cpu_seconds(server) - cpu
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
    raw = json.loads(result.stdout.strip().splitlines()[-1])
    errors = sum(raw[k] for k in ("bad_status", "connect_errors", "read_errors", "write_errors", "timeouts"))
    return {"rps": round(raw["requests"] / (raw["duration_us"] / 1e6), 1), "p50_ms": raw["p50_us"] / 1000,
            "p99_ms": raw["p99_us"] / 1000, "max_ms": raw["max_us"] / 1000, "requests": raw["requests"],
            "errors": errors, "server_cpu_ms_per_request": round(cpu * 1000 / max(raw["requests"], 1), 3),
            "wrk_cpu_ms_per_request": round(wrk_cpu * 1000 / max(raw["requests"], 1), 3),
            "load_avg_1m": [round(load, 2), round(os.getloadavg()[0], 2)]}  # before, after: a shared machine


def _pick(option: str, fast: str, fallback: str) -> str:
    """What uvicorn runs for ``--loop``/``--http`` ``option`` (auto: the fast one when it is installed)."""
    return option if option != "auto" else fast if find_spec(fast) else fallback


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (8 keep 2 workers busy)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--firms", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--endpoints", default="score,tree,evidence_proof")
    parser.add_argument("--loop", default="auto", choices=("auto", "asyncio", "uvloop"))
    parser.add_argument("--http", default="auto", choices=("auto", "h11", "httptools"))
    parser.add_argument("--member-refresh", type=float, default=None,
                        help="SCF_MEMBER_REFRESH_SECONDS for the server (0: read roles from the chain per request)")
    args = parser.parse_args()
    out: dict = {"bench": "api", "seconds": args.seconds, "workers": args.workers, "connections": args.connections,
                 "wrk_threads": args.threads, "cores": os.cpu_count(),
                 "uvicorn": {"loop": _pick(args.loop, "uvloop", "asyncio"),
                             "http": _pick(args.http, "httptools", "h11")}}
    env = {} if args.member_refresh is None else {"SCF_MEMBER_REFRESH_SECONDS": str(args.member_refresh)}
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        t = time.perf_counter()
        db_url, node, plan = build_mirror(directory, args.firms, args.seed)
        out["setup_s"] = round(time.perf_counter() - t, 1)
        out["mirror"] = plan["rows"] | {"tree_tokens": plan["tree_tokens"]}
        server = None
        try:
            server, base = serve(directory, node.url, db_url, args.workers, env, loop=args.loop, http=args.http)
            tokens = {role: sign_in(base, account) for role, account in plan["accounts"].items()}
            callers = {"score": "lender", "tree": "auditor", "evidence_proof": "lender", "health": "lender"}
            out["endpoints"] = {}
            for name in args.endpoints.split(","):
                out["endpoints"][name] = wrk(base, tokens[callers[name]], plan["paths"][name], directory, server.pid,
                                             seconds=args.seconds, connections=args.connections, threads=args.threads)
            audited = make_engine(db_url)
            from sqlalchemy import text

            time.sleep(1.0)  # the audit writers' flush window
            with audited.connect() as conn:
                out["audit_rows"] = conn.execute(text("SELECT count(*) FROM api_audit")).scalar_one()
        finally:
            if server is not None:
                server.terminate()
                server.wait(30)
            node.stop()
    goal = out["endpoints"].get("score")
    if goal:
        out["goal_met"] = goal["rps"] >= 1500 and goal["p99_ms"] < 50 and goal["errors"] == 0
    print(json.dumps(out))


if __name__ == "__main__":
    main()
