"""Fixtures of the portal suites (imported with ``from portal_fixtures import *``; a conftest.py here would
clash with tests/conftest.py): an app over the session deployment with a mirror, portal sign-in as any
key, and (in portal_browser.py) the browser stack."""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import uvicorn
from conftest import CONSORTIUM_KEY, DAY, ONE, Actors, funded_desk, issue_claim, make_invoice, now
from eth_account.messages import encode_defunct, encode_typed_data
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from api.config import Settings
from api.main import create_app
from indexer import Indexer
from ledger.anvil import Anvil, dev_accounts, free_port
from ledger.chain import Chain
from ledger.client import InvoiceRegistration, Ledger
from ledger.deployment import deploy_system
from ledger.evidence import anchor_batch
from ledger.financing import Kind, Offer
from ledger.merkle import StandardMerkleTree
from ledger.roles import Role
from risk.models import upgrade as upgrade_risk_tables

__all__ = ["DOCUMENT", "Stack", "Visit", "browser", "portal_client", "portal_sign_in", "stack", "visitor", "world"]


@pytest.fixture
def portal_client(ledger, anvil, tmp_path) -> TestClient:  # type: ignore[no-untyped-def]
    settings = Settings(rpc_url=anvil.url, manifest=Path("unused.json"), secret=b"portal-test-secret-0123456789abc",
                        db_url=f"sqlite:///{tmp_path}/mirror.db")
    return TestClient(create_app(settings, ledger=ledger), follow_redirects=False)


def portal_sign_in(client: TestClient, account) -> None:  # type: ignore[no-untyped-def]
    """Sign in the way the page script does: portal message, wallet signature, /auth/login, session cookie."""
    client.cookies.clear()
    message = client.post("/portal/signin/message", json={"address": account.address}).json()["message"]
    signature = account.sign_message(encode_defunct(text=message)).signature.to_0x_hex()
    login = client.post("/auth/login", json={"message": message, "signature": signature})
    assert login.status_code == 200, login.text
    opened = client.post("/portal/session", json={"token": login.json()["token"]})
    assert opened.status_code == 200, opened.text


@pytest.fixture
def world(portal_client, ledger, actors) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """A payable of core to supplier split on to supplier3, one of core2 to supplier2; indexed."""
    slot, token = issue_claim(ledger, actors, 1000 * ONE)
    slot2, token2 = issue_claim(ledger, actors, 300 * ONE, holder=actors.supplier2, core=actors.core2)
    t2, _ = ledger.as_member(actors.supplier).split(token, actors.supplier3.address, 100 * ONE)
    settings = portal_client.app.state.settings
    Indexer(settings.rpc_url, settings.db_url, ledger.deployment, confirmations=0,
            engine=portal_client.app.state.engine).sync()
    upgrade_risk_tables(portal_client.app.state.engine)  # empty risk tables, as after a first scoring run
    return {"slot": slot, "token": token, "slot2": slot2, "token2": token2, "t2": t2}


# ---------------------------------------------------------------------------------------------- browser stack

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "portal-screenshots"
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
BLOCKING = {"serious", "critical"}
DOCUMENT = b"%PDF-1.4 INV-PORTAL-0001 Tier-1 Parts -> Core Motors, 120,000.00 CNY\n"  # the notarized file


@dataclass
class Stack:
    """A chain, the system deployed with a short scenario on it, its SQL mirror and the API serving the portal."""

    anvil: Anvil
    ledger: Ledger
    actors: Actors
    indexer: Indexer
    url: str
    server: uvicorn.Server
    thread: threading.Thread
    tokens: dict[str, int] = field(default_factory=dict)
    slots: dict[str, int] = field(default_factory=dict)

    def sync(self) -> None:
        """Mirror what the browser did on the chain."""
        self.indexer.sync()

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.indexer.close()
        self.anvil.stop()


def _scenario(ledger: Ledger, a: Actors) -> tuple[dict[str, int], dict[str, int]]:
    """Core issues to Tier-1 (supplier); value split to tiers 2 and 3, discounted by a lender, part frozen; a
    second claim pledged; two claims left to accept; a notarized invoice document; an anchored batch."""
    slot, token = issue_claim(ledger, a, 1000 * ONE)
    t2, _ = ledger.as_member(a.supplier).split(token, a.supplier2.address, 300 * ONE)
    t3, _ = ledger.as_member(a.supplier2).split(t2, a.supplier3.address, 100 * ONE)
    desk = funded_desk(ledger, a.lender, amount=10_000 * ONE)
    ledger.as_member(a.supplier).set_approval_for_all(desk.contract.address, True)
    expiry = now(ledger.chain) + DAY
    discount = Offer(lender=a.lender.address, token_id=token, value=200 * ONE, rate_bps=600, fee=ONE, expiry=expiry,
                     nonce=1)
    desk.take_offer(a.supplier, discount, token, desk.sign(a.lender, discount))
    ledger.as_regulator(a.regulator).set_frozen(token, 50 * ONE, "court order")
    slot_b, pledged = issue_claim(ledger, a, 500 * ONE, maturity_in=150 * DAY)
    pledge = Offer(lender=a.lender.address, token_id=pledged, value=500 * ONE, kind=Kind.PLEDGE,
                   fixed_price=400 * ONE, rate_bps=800, penalty_bps=1200, expiry=expiry, nonce=2)
    desk.take_offer(a.supplier, pledge, pledged, desk.sign(a.lender, pledge))
    waiting = [issue_claim(ledger, a, 400 * ONE, accept=False, maturity_in=days * DAY) for days in (30, 45)]
    ledger.as_supplier(a.supplier).register_invoice(InvoiceRegistration(
        make_invoice(a.supplier.address, a.core.address, 120_000 * ONE, number="INV-PORTAL-0001"),
        document_hash=hashlib.sha256(DOCUMENT).digest()), CONSORTIUM_KEY)
    tree = StandardMerkleTree.of([[hashlib.sha256(DOCUMENT).digest()]], ["bytes32"])
    anchor_batch(ledger, ledger.address("EvidenceLedger"), a.supplier, tree, "local://portal-test")
    return ({"main": token, "tier2": t2, "tier3": t3, "pledged": pledged, "waiting0": waiting[0][1],
             "waiting1": waiting[1][1]}, {"main": slot, "pledged": slot_b, "waiting0": waiting[0][0],
                                          "waiting1": waiting[1][0]})


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:  # type: ignore[no-untyped-def]
    node = Anvil(accounts=12)
    try:
        chain = Chain(node.url)
        actors = Actors(*dev_accounts(12))
        ledger = Ledger(chain, deploy_system(chain, actors.admin, kyc_registrars=(actors.registrar.address,)))
        registrar = ledger.as_registrar(actors.registrar)
        for account, role in ((actors.core, Role.CORE_ENTERPRISE), (actors.core2, Role.CORE_ENTERPRISE),
                              (actors.supplier, Role.SUPPLIER), (actors.supplier2, Role.SUPPLIER),
                              (actors.supplier3, Role.SUPPLIER), (actors.lender, Role.LENDER),
                              (actors.regulator, Role.REGULATOR), (actors.auditor, Role.AUDITOR)):
            registrar.admit(account.address, f"org-{account.address[-6:]}", [role], now(chain) + 3650 * DAY)
        tokens, slots = _scenario(ledger, actors)
        db_url = f"sqlite:///{tmp_path_factory.mktemp('portal')}/mirror.db"
        indexer = Indexer(node.url, db_url, ledger.deployment, confirmations=0)
        indexer.sync()
        settings = Settings(rpc_url=node.url, manifest=Path("unused.json"), secret=secrets.token_bytes(32),
                            db_url=db_url, consortium_key=CONSORTIUM_KEY)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(settings, ledger=ledger), host="127.0.0.1", port=port,
                                               log_level="warning", lifespan="on"))
        thread = threading.Thread(target=server.run, name="portal-uvicorn", daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
    except BaseException:
        node.stop()
        raise
    running = Stack(node, ledger, actors, indexer, f"http://127.0.0.1:{port}", server, thread, tokens, slots)
    yield running
    running.stop()


class InjectedWallet:
    """An injected EIP-1193 provider backed by a local key. ``sign_only=False`` behaves like MetaMask:
    it refuses ``eth_signTransaction`` (4200) and sends with ``eth_sendTransaction`` instead."""

    QUANTITIES = ("value", "chainId", "gas", "nonce", "maxFeePerGas", "maxPriorityFeePerGas", "gasPrice", "type")

    def __init__(self, ledger: Ledger, account: LocalAccount) -> None:
        self.ledger = ledger
        self.account = account
        self.sign_only = True
        self.calls: list[str] = []

    def request(self, method: str, params: list) -> dict:  # type: ignore[type-arg]
        self.calls.append(method)
        w3 = self.ledger.chain.w3
        if method in ("eth_requestAccounts", "eth_accounts"):
            return {"result": [self.account.address.lower()]}
        if method == "eth_chainId":
            return {"result": hex(self.ledger.chain.chain_id)}
        if method == "personal_sign":
            message, address = params
            assert address.lower() == self.account.address.lower()
            return {"result": self.account.sign_message(encode_defunct(hexstr=message)).signature.to_0x_hex()}
        if method == "eth_signTypedData_v4":  # EIP-712, as MetaMask: [address, typed data as JSON]
            address, typed = params
            assert address.lower() == self.account.address.lower()
            data = json.loads(typed) if isinstance(typed, str) else typed
            return {"result": self.account.sign_message(encode_typed_data(full_message=data)).signature.to_0x_hex()}
        if method == "eth_signTransaction" and not self.sign_only:
            return {"error": {"code": 4200, "message": "this wallet does not support eth_signTransaction"}}
        if method in ("eth_signTransaction", "eth_sendTransaction"):
            tx = {k: int(v, 16) if k in self.QUANTITIES else v for k, v in params[0].items() if k != "from"}
            tx.pop("type", None)  # implied by the fee fields
            raw = self.account.sign_transaction(tx).raw_transaction
            if method == "eth_signTransaction":
                return {"result": raw.to_0x_hex()}
            return {"result": w3.eth.send_raw_transaction(raw).to_0x_hex()}
        return {"error": {"code": 4200, "message": f"unsupported method {method}"}}


WALLET_SCRIPT = """
window.ethereum = {
  isScfInjectedWallet: true,
  async request({method, params}) {
    const answer = await window.scfInjectedWallet(method, params || []);
    if (answer.error) throw Object.assign(new Error(answer.error.message), {code: answer.error.code});
    return answer.result;
  },
  on() {}, removeListener() {},
};
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM,
                                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield launched
        launched.close()


@dataclass
class Visit:
    """One person at the portal: a browser page with a wallet, visiting pages checked by axe and photographed."""

    page: Page
    wallet: InjectedWallet
    stack: Stack
    lang: str
    journey: str  # the screenshots' prefix: the journey's name and language
    shots: list[Path] = field(default_factory=list)

    def visit(self, path: str, name: str, *, status: int = 200) -> None:
        response = self.page.goto(self.stack.url + path)
        assert response is not None and response.status == status, (path, response and response.status)
        self.check(name)

    def check(self, name: str) -> None:
        """axe-core on the page as it is now (serious or critical issues fail), then a screenshot."""
        assert self._settled_lang() == self.lang
        self.page.add_script_tag(path=str(AXE))
        violations = self.page.evaluate("""async () => (await axe.run(document, {resultTypes: ["violations"]}))
            .violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target)}))""")
        blocking = [v for v in violations if v["impact"] in BLOCKING]
        assert not blocking, f"{name} ({self.lang}): {blocking}"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / f"{self.journey}-{len(self.shots) + 1:02d}-{name}-{self.lang}.png"
        self.page.screenshot(path=str(shot), full_page=True)
        self.shots.append(shot)

    def _settled_lang(self) -> str | None:
        """The page's language once its document has loaded (a navigation may still be replacing it)."""
        for _ in range(100):
            try:
                lang = self.page.evaluate("document.readyState === 'complete' && document.documentElement"
                                          " ? document.documentElement.lang : null")
            except PlaywrightError:  # the execution context went away with a navigation
                lang = None
            if lang is not None:
                return lang
            self.page.wait_for_timeout(100)
        return None

    def sign_in(self, path: str) -> None:
        """Open a member page signed out, sign in with the wallet there, and land back on it."""
        self.visit(f"{path}?lang={self.lang}", "signin")
        self.page.click("#signin-button")
        self.page.wait_for_url(lambda url: urlsplit(url).path == path, timeout=15_000)
        assert "personal_sign" in self.wallet.calls


@pytest.fixture
def visitor(browser, stack) -> Iterator[Callable[[LocalAccount, str, str], Visit]]:  # type: ignore[no-untyped-def]
    """A factory of signed-out browser sessions: ``visitor(account, lang, journey)``."""
    contexts = []

    def make(account: LocalAccount, lang: str, journey: str) -> Visit:
        context = browser.new_context(locale=lang, viewport={"width": 1280, "height": 900})
        contexts.append(context)
        wallet = InjectedWallet(stack.ledger, account)
        context.expose_function("scfInjectedWallet", wallet.request)
        context.add_init_script(WALLET_SCRIPT)
        for stale in SCREENSHOTS.glob(f"{journey}-{lang}-*.png"):
            stale.unlink()
        return Visit(context.new_page(), wallet, stack, lang, f"{journey}-{lang}")

    yield make
    for context in contexts:
        context.close()
