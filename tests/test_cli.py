"""The `scf` CLI: deploy with an encrypted keystore; errors are one line and exit code 1."""

from __future__ import annotations

import json

import pytest
from eth_account import Account
from typer.testing import CliRunner

from ledger.anvil import dev_accounts
from ledger.cli import app

runner = CliRunner()


def test_deploy_with_keystore_writes_manifest(anvil, chain, tmp_path, monkeypatch):
    key = dev_accounts(20)[19]
    keystore = tmp_path / "deployer.json"
    keystore.write_text(json.dumps(Account.encrypt(key.key, "pw")))
    monkeypatch.setenv("SCF_KEY_PASSWORD", "pw")
    snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]
    try:
        result = runner.invoke(app, ["deploy", "--rpc", anvil.url, "--keystore", str(keystore),
                                     "--data-dir", str(tmp_path)])
        assert result.exit_code == 0, result.output
        manifest = json.loads((tmp_path / "deployments.json").read_text())
        record = manifest[str(chain.chain_id)]
        assert record["deployer"] == key.address
        for name in ("Participants", "InvoiceRegistry", "ReceivableToken", "TestStablecoin"):
            assert chain.w3.eth.get_code(record["contracts"][name]["address"]) != b""
    finally:
        chain.w3.provider.make_request("evm_revert", [snapshot])


def test_wrong_password_is_one_line_error(tmp_path, monkeypatch):
    keystore = tmp_path / "k.json"
    keystore.write_text(json.dumps(Account.encrypt(Account.create().key, "right")))
    monkeypatch.setenv("SCF_KEY_PASSWORD", "wrong")
    result = runner.invoke(app, ["deploy", "--rpc", "http://127.0.0.1:9", "--keystore", str(keystore)])
    assert result.exit_code == 1
    assert result.output.strip().startswith("error: cannot decrypt")
    assert len(result.output.strip().splitlines()) == 1


def test_unreachable_endpoint_is_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setenv("SCF_KEY_PASSWORD", "pw")
    keystore = tmp_path / "k.json"
    result = runner.invoke(app, ["key", "new", str(keystore)])
    assert result.exit_code == 0 and result.output.strip().startswith("0x")
    result = runner.invoke(app, ["deploy", "--rpc", "http://127.0.0.1:9", "--keystore", str(keystore)])
    assert result.exit_code == 1
    assert "cannot reach JSON-RPC endpoint" in result.output
    assert oct(keystore.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_answers_health_and_ready(anvil, chain, deployed, tmp_path, workers):
    """`scf serve` over the session deployment and its indexed mirror: a real HTTP server on loopback, in one
    process or several."""
    import os
    import subprocess
    import sys
    import time

    import requests

    from indexer import Indexer
    from ledger.anvil import free_port
    from ledger.deployment import save_manifest

    save_manifest(tmp_path / "deployments.json", deployed.deployment)
    Indexer(anvil.url, f"sqlite:///{tmp_path}/index.db", deployed.deployment, confirmations=0).sync()
    port = free_port()
    env = {**os.environ, "SCF_RPC_URL": anvil.url, "SCF_MANIFEST": str(tmp_path / "deployments.json"),
           "SCF_DB_URL": f"sqlite:///{tmp_path}/index.db"}
    server = subprocess.Popen([sys.executable, "-m", "ledger.cli", "serve", "--port", str(port), "--workers",
                               str(workers)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(300):
            try:
                ready = requests.get(f"http://127.0.0.1:{port}/ready", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert ready.status_code == 200 and ready.json()["chain_id"] == chain.chain_id
        assert requests.get(f"http://127.0.0.1:{port}/health", timeout=1).json() == {"status": "ok"}
        assert requests.get(f"http://127.0.0.1:{port}/auth/me", timeout=1).status_code == 401
    finally:
        server.terminate()
        server.wait(timeout=10)
