"""`scf zk`: a bureau issues a report, a lender writes its policy and a nonce, the firm proves and
discloses, the lender submits the proof and the desk finances once; errors are one line."""

from __future__ import annotations

import json
import re

from zk_fixtures import *  # noqa: F403 - fixtures
from zk_fixtures import ONE, gated_desk

from ledger.financing import Offer
from zk.report import CreditReport, Disclosure

FIELDS = {"credit_score": 742, "court_judgments": 0, "tax_grade": 1, "annual_revenue_cents": 8_000_000_00,
          "overdue_count": 0, "registered_capital_cents": 5_000_000_00, "social_insurance_headcount": 40,
          "patents": 3, "report_serial": 17}


def test_the_credit_proof_flow_through_the_cli(cli, ledger, actors, zk_actors, credit, tmp_path):
    fields = tmp_path / "fields.json"
    fields.write_text(json.dumps(FIELDS))
    report_file, policy_file, proof_file = tmp_path / "report.json", tmp_path / "policy.json", tmp_path / "proof.json"
    out = cli(zk_actors.bureau, "zk", "issue", str(fields), "--subject", actors.supplier.address,
              "--out", str(report_file))
    report = CreditReport.from_json(json.loads(report_file.read_text()))
    assert f"report root {hex(report.root)} registered" in out
    assert credit.is_valid(report.root, actors.supplier.address)
    assert report.values["credit_score"] == 742 and report.values["subject_address"] == int(actors.supplier.address,
                                                                                             16)

    policy_hash = int(re.search(r"policy (0x[0-9a-f]+)", cli(
        actors.lender, "zk", "policy", "--min-score", "700", "--max-judgments", "0", "--tax", "A", "--tax", "B",
        "--max-age-days", "30", "--out", str(policy_file))).group(1), 16)
    assert credit.gate.functions.policyOf(actors.lender.address).call() == policy_hash  # --keystore set it
    nonce = int(cli(actors.lender, "zk", "nonce").strip())
    cli(None, "zk", "prove", str(report_file), "--policy", str(policy_file), "--lender", actors.lender.address,
        "--nonce", str(nonce), "--out", str(proof_file))
    proof = json.loads(proof_file.read_text())
    assert proof["subject"] == actors.supplier.address and proof["policy"]["min_score"] == 700
    assert set(proof) == {"proof", "publicSignals", "policy", "subject"}  # nothing of the report itself
    assert len(proof["publicSignals"]) == 5 and "742" not in proof["publicSignals"]

    disclosure_file = tmp_path / "disclosure.json"
    cli(None, "zk", "disclose", str(report_file), "--field", "tax_grade", "--field", "patents",
        "--out", str(disclosure_file))
    revealed = Disclosure.from_json(json.loads(disclosure_file.read_text())).verify(report.root)
    assert revealed == {"tax_grade": 1, "patents": 3}
    out = cli(None, "zk", "verify", str(disclosure_file))
    assert f"valid disclosure about {actors.supplier.address}" in out and "tax_grade = 1; patents = 3" in out
    out = cli(None, "zk", "verify", str(proof_file))
    assert "valid groth16" in out and "credit_score ge 700; court_judgments le 0; tax_grade in A, B" in out
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps({**proof, "policy": {**proof["policy"], "min_score": 600}}))
    assert "does not hold: policy_mismatch" in cli.fail(None, "zk", "verify", str(tampered))

    desk, token = gated_desk(ledger, actors, credit)
    assert "pass granted to" in cli(actors.lender, "zk", "submit", str(proof_file))
    offer = Offer(lender=actors.lender.address, token_id=token, value=100 * ONE, rate_bps=800,
                  expiry=ledger.chain.w3.eth.get_block("latest")["timestamp"] + 86400, nonce=1)
    financed = desk.take_offer(actors.supplier, offer, token, desk.sign(actors.lender, offer))
    assert financed.event("Financed")["holder"] == actors.supplier.address
    # the nonce is spent: the same proof again is refused by the gate, in one line
    assert "CreditGate" in cli.fail(actors.lender, "zk", "submit", str(proof_file))


def test_zk_cli_errors_are_one_line(cli, actors, zk_actors, tmp_path):
    fields = tmp_path / "fields.json"
    fields.write_text(json.dumps({k: v for k, v in FIELDS.items() if k != "court_judgments"}))
    out = tmp_path / "r.json"
    assert "missing ['court_judgments']" in cli.fail(zk_actors.bureau, "zk", "issue", str(fields), "--subject",
                                                     actors.supplier.address, "--out", str(out))
    fields.write_text(json.dumps({**FIELDS, "credit_score": 5000}))
    assert "credit_score=5000 outside 0..1000" in cli.fail(zk_actors.bureau, "zk", "issue", str(fields),
                                                          "--subject", actors.supplier.address, "--out", str(out))
    fields.write_text(json.dumps(FIELDS))
    assert "CreditUnauthorizedBureau" in cli.fail(actors.lender, "zk", "issue", str(fields), "--subject",
                                                  actors.supplier.address, "--out", str(out))
    assert not out.exists()  # nothing written for a refused report
    garbage = tmp_path / "garbage.json"
    garbage.write_text("not json")
    assert "is not JSON" in cli.fail(actors.lender, "zk", "submit", str(garbage))
    assert "tax grade Z is not one of" in cli.fail(actors.lender, "zk", "policy", "--tax", "Z", "--out",
                                                   str(tmp_path / "p.json"))
