"""`scf org|invoice|claim`: the business flow through the CLI, and its one-line errors."""

from __future__ import annotations

import hashlib
import re
from datetime import date

from conftest import CONSORTIUM_KEY, DAY, now, warp

from ledger.anvil import dev_accounts
from ledger.fingerprint import InvoiceFields, fingerprint


def test_business_flow_through_the_cli(cli, ledger, actors, tmp_path):
    newcomer = dev_accounts(20)[15]
    cli(actors.registrar, "org", "add", newcomer.address, "--name", "Newco", "--role", "supplier")
    assert ledger.member(newcomer.address).is_member

    document = tmp_path / "invoice.pdf"
    document.write_bytes(b"%PDF- invoice 42")
    out = cli(actors.supplier, "invoice", "notarize", str(document), "--buyer", actors.core.address,
              "--number", "INV-42", "--amount", "1,000.50", "--issued", "2026-11-01")
    fingerprint = re.search(r"fingerprint (0x[0-9a-f]{64})", out).group(1)
    cli(actors.core, "invoice", "confirm", fingerprint)
    maturity = "2027-03-01"
    out = cli(actors.core, "claim", "issue", "--holder", actors.supplier.address, "--face", "1000.5",
              "--maturity", maturity, "--invoice", fingerprint)
    token = int(re.search(r"token (\d+)", out).group(1))
    cli(actors.supplier, "claim", "accept", str(token))
    out = cli(actors.supplier, "claim", "split", str(token), "--to", newcomer.address, "--value", "200")
    new_token = int(re.search(r"new token (\d+)", out).group(1))
    cli(actors.supplier, "claim", "transfer", str(token), "--to-token", str(new_token), "--value", "0.5")
    assert ledger.holding(new_token).value == 200_500_000
    assert ledger.holding(token).value == 800_000_000

    offer_file = tmp_path / "offer.json"
    ledger.execute(actors.lender, ledger.asset.functions.mint(actors.lender.address, 10**12))
    ledger.execute(actors.lender, ledger.asset.functions.approve(ledger.address("FinancingDesk"), 2**256 - 1))
    cli(actors.lender, "claim", "offer", str(token), "--value", "300", "--out", str(offer_file), "--rate-bps", "500")
    out = cli(actors.supplier, "claim", "finance", str(offer_file))
    assert "financing 1: price" in out
    shown = cli(None, "claim", "show", str(token))
    assert actors.supplier.address in shown and "500.000000" in shown  # 300 of 800 sold to the lender


def test_cli_errors_are_one_line(cli, ledger, actors, tmp_path):
    assert "is not an amount" in cli.fail(actors.supplier, "claim", "split", "1", "--to", actors.supplier2.address,
                                          "--value", "lots")
    assert "at most 6 decimals" in cli.fail(actors.supplier, "claim", "split", "1", "--to",
                                            actors.supplier2.address, "--value", "0.0000001")
    assert "ReceivableNonexistentToken" in cli.fail(actors.supplier, "claim", "accept", "999")
    assert "ParticipantsAlreadyMember" in cli.fail(actors.registrar, "org", "add", actors.supplier.address,
                                                   "--name", "x", "--role", "SUPPLIER")
    assert "roles must be among" in cli.fail(actors.registrar, "org", "add", actors.outsider.address,
                                             "--name", "x", "--role", "KING")
    assert "is not 32 bytes of hex" in cli.fail(actors.core, "invoice", "confirm", "0x1234")
    assert "cannot read" in cli.fail(actors.supplier, "invoice", "notarize", str(tmp_path / "missing.pdf"),
                                     "--buyer", actors.core.address, "--number", "1", "--amount", "1",
                                     "--issued", "2026-01-01")


def test_redeem_after_maturity_through_the_cli(cli, ledger, actors):
    from conftest import issue_claim

    slot, token = issue_claim(ledger, actors, 100 * 10**6, maturity_in=10 * DAY)
    ledger.execute(actors.core, ledger.asset.functions.mint(actors.core.address, 100 * 10**6))
    cli(actors.core, "claim", "deposit", str(slot), "100")
    warp(ledger.chain, ledger.payable(slot).maturity - now(ledger.chain) + 1)
    out = cli(actors.supplier, "claim", "redeem", str(token))
    assert "paid 100.000000" in out


def test_notarize_a_batch_from_a_table(cli, ledger, actors, tmp_path):
    """Several documents in one transaction; a duplicate in the batch or on-chain is refused before sending,
    and nothing of a refused batch lands."""
    documents = tmp_path / "docs"
    documents.mkdir()
    for n in (1, 2, 3):
        (documents / f"inv-{n}.pdf").write_bytes(f"%PDF- invoice {n}".encode())
    table = documents / "invoices.csv"
    rows = [f"inv-{n}.pdf,{actors.core.address},B-{n},{n}00.25,2026-10-0{n}" for n in (1, 2, 3)]
    table.write_text("file,buyer,number,amount,issued\n" + "\n".join(rows) + "\n")

    out = cli(actors.supplier, "invoice", "notarize", str(documents / "inv-2.pdf"), "--table", str(table))
    assert "1 invoice(s) notarized" in out and "B-2" in out and "B-1" not in out
    assert "InvoiceAlreadyRegistered" in cli.fail(actors.supplier, "invoice", "notarize", "--table", str(table))
    first = fingerprint(InvoiceFields(actors.supplier.address, actors.core.address, "B-1", 100_250_000, "CNY",
                                      date(2026, 10, 1)), CONSORTIUM_KEY).full
    assert ledger.invoice(first).status.name == "NONE"  # the refused batch wrote nothing

    (documents / "again.csv").write_text(f"file,buyer,number,amount,issued\ninv-1.pdf,{actors.core.address},B-1,"
                                         f"100.25,2026-10-01\ninv-3.pdf,{actors.core.address},B-1,100.25,2026-10-01\n")
    assert "appears twice in the batch" in cli.fail(actors.supplier, "invoice", "notarize", "--table",
                                                    str(documents / "again.csv"))
    (documents / "rest.csv").write_text("\n".join(["file,buyer,number,amount,issued", rows[0], rows[2]]) + "\n")
    out = cli(actors.supplier, "invoice", "notarize", "--table", str(documents / "rest.csv"))
    assert "2 invoice(s) notarized" in out
    assert ledger.invoice(first).status.name == "REGISTERED"
    assert ledger.invoice(first).document_hash == hashlib.sha256(b"%PDF- invoice 1").digest()
    assert "not in" in cli.fail(actors.supplier, "invoice", "notarize", str(documents / "nope.pdf"), "--table",
                                str(table))
    one = str(documents / "inv-1.pdf")
    assert "missing --amount, --issued" in cli.fail(actors.supplier, "invoice", "notarize", one, "--buyer",
                                                    actors.core.address, "--number", "X")
