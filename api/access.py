"""Who may call what: one table drives both the code (``deps.authorize``) and the tests.

An endpoint missing from the table is refused at run time and fails the test suite.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.roles import Role

ANY_MEMBER: frozenset[Role] = frozenset()  # any current member, whatever its roles


@dataclass(frozen=True)
class Rule:
    method: str
    path: str
    public: bool = False
    roles: frozenset[Role] = ANY_MEMBER  # with public False: the caller needs one of these (empty: any member)
    note: str = ""


ACCESS: tuple[Rule, ...] = (
    Rule("GET", "/health", public=True, note="liveness"),
    Rule("GET", "/ready", public=True, note="chain reachable, contracts deployed"),
    Rule("GET", "/auth/nonce", public=True, note="a single-use sign-in nonce"),
    Rule("POST", "/auth/login", public=True, note="EIP-4361 sign-in"),
    Rule("GET", "/auth/me", note="the caller's membership and roles"),
    Rule("POST", "/tx/build", note="an unsigned transaction of the caller's own action"),
    Rule("POST", "/tx/send", note="relay the caller's own signed transaction to our contracts"),
    Rule("GET", "/holdings", note="a firm's claims: its own; auditors and regulators: anyone's"),
    Rule("GET", "/metrics", public=True, note="Prometheus metrics; labels are method, route template and status "
         "only (no addresses, slots or fingerprints), so no firm's data; a scraper has no SIWE session"),
    Rule("GET", "/organizations", note="consortium members and their roles"),
    Rule("GET", "/invoices", note="invoices a firm sells or buys: its own; auditors and regulators: anyone's"),
    Rule("GET", "/invoices/{fingerprint}", note="an invoice: its seller and buyer, auditors and regulators"),
    Rule("GET", "/financings", note="financings a firm gave (lender) or got (holder); auditors and regulators: all"),
    Rule("GET", "/payables", roles=frozenset({Role.CORE_ENTERPRISE, Role.AUDITOR, Role.REGULATOR}),
         note="a core enterprise's payables as debtor; auditors and regulators: all"),
    Rule("GET", "/payables/{slot}/settlement", note="deposits, redemptions, write-offs and marks of a payable: its "
         "debtor, its holders, auditors and regulators"),
    Rule("GET", "/evidence/batches", note="anchored evidence batches (roots only, no contents)"),
    Rule("GET", "/evidence/proof", note="verify a leaf and its Merkle proof against the chain: any member (only "
         "holders of a document know its leaf)"),
    Rule("GET", "/scores/{address}", note="a firm's latest credit score: the firm, lenders, auditors, regulators"),
    Rule("GET", "/alerts", note="fraud alerts: regulators all; a firm those naming it; a lender also those naming "
         "its counterparties (holders of financings it gave)"),
    Rule("GET", "/payables/{slot}", note="a payable and how its value spread: its debtor, its holders, "
         "auditors and regulators"),
    Rule("GET", "/payables/{slot}/history", note="a payable's tree and every event that touched it, in chain "
         "order: its debtor, the firms that held or financed its value, auditors and regulators"),
    Rule("POST", "/evidence/verify", note="check a document and its receipt against the chain alone: any member "
         "(the document is hashed, never stored)"),
    Rule("GET", "/exposure", roles=frozenset({Role.LENDER, Role.AUDITOR, Role.REGULATOR}),
         note="lenders' exposure to each core enterprise's default, by supplier tier: a lender its own; auditors "
         "and regulators: anyone's"),
    Rule("GET", "/warnings", roles=frozenset({Role.AUDITOR, Role.REGULATOR}),
         note="the latest score of every firm with a red, yellow or blue warning"),
    Rule("GET", "/alerts/{alert_id}/evidence", note="an alert with its evidence rows: whoever may read the alert "
         "(regulators; the firms it names; their lenders)"),
    Rule("POST", "/proofs/verify", roles=frozenset({Role.LENDER, Role.AUDITOR, Role.REGULATOR}),
         note="verify a credit proof or disclosure against the chain: a lender the proofs addressed to it; "
         "auditors and regulators: any"),
    Rule("POST", "/offers", roles=frozenset({Role.LENDER}), note="a lender posts an offer it signed (EIP-712) on "
         "another firm's token"),
    Rule("GET", "/offers", note="the offer book: a lender its own offers; a holder those on its tokens, with the "
         "price now; auditors and regulators: all"),
    Rule("DELETE", "/offers/{offer_id}", roles=frozenset({Role.LENDER}), note="a lender withdraws its own open "
         "offer (optionally with the unsigned cancelNonce transaction)"),
    Rule("POST", "/profiles", roles=frozenset({Role.CREDIT_BUREAU, Role.REGULATOR}), note="a credit bureau or "
         "regulator records a firm's off-chain facts with provenance (source, submitter, time, document hash)"),
    Rule("GET", "/profiles/{address}", note="a firm's profile submissions: the firm, lenders, auditors, regulators "
         "and credit bureaus"),
    Rule("GET", "/credit/reports", note="credit-report commitments: a firm those about itself, a bureau those it "
         "issued; lenders, auditors and regulators: all"),
)

_BY_ROUTE = {(rule.method, rule.path): rule for rule in ACCESS}


def rule_for(method: str, path: str) -> Rule | None:
    return _BY_ROUTE.get((method, path))
