"""``scf claim``: issue, accept, split, transfer, merge, finance, repay, deposit, redeem, show."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ledger import settlement
from ledger.client import IssueRequest
from ledger.commands.common import (
    DEFAULT_DATA_DIR,
    DEFAULT_RPC,
    DataDir,
    Keystore,
    Rpc,
    address,
    bytes32,
    connect,
    console,
    errors,
    format_amount,
    open_session,
    parse_amount,
)
from ledger.errors import ConfigurationError
from ledger.financing import FinancingDesk, Kind, Offer

app = typer.Typer(no_args_is_help=True, help="Receivable claims: the life of a payable and its tokens.")
DAY = 86400


def _date(text: str) -> int:
    try:
        return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp())
    except ValueError:
        raise ConfigurationError(f"{text!r} is not a YYYY-MM-DD date") from None


@app.command("issue")
def issue(
    holder: Annotated[str, typer.Option(help="The supplier the payable is owed to.")],
    face: Annotated[str, typer.Option(help="Face value in settlement units.")],
    maturity: Annotated[str, typer.Option(help="Due date, YYYY-MM-DD (UTC midnight).")],
    invoice: Annotated[list[str], typer.Option(help="Fingerprint of a confirmed invoice, repeatable.")],
    keystore: Keystore,
    grace_days: int = 7,
    default_days: int = 90,
    rpc: Rpc = DEFAULT_RPC,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Confirm a payable to a supplier as a receivable token (core enterprises)."""
    with errors():
        session = open_session(rpc, data_dir, keystore)
        request = IssueRequest(address(holder), parse_amount(face, session.decimals), _date(maturity),
                               [bytes32(f) for f in invoice], grace_days * DAY, default_days * DAY)
        slot, token, result = session.ledger.as_core(session.account).issue(request)
    console.print(f"payable {slot}: token {token} to {address(holder)}, awaiting acceptance (tx {result.tx_hash})")


@app.command("accept")
def accept(token: int, keystore: Keystore, rpc: Rpc = DEFAULT_RPC, data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Accept a claim issued to you."""
    with errors():
        session = open_session(rpc, data_dir, keystore)
        result = session.ledger.as_member(session.account).accept(token)
    console.print(f"accepted token {token} (tx {result.tx_hash})")


@app.command("split")
def split(
    token: int,
    to: Annotated[str, typer.Option(help="Receiving member.")],
    value: Annotated[str, typer.Option(help="Value to split off, in settlement units.")],
    keystore: Keystore,
    rpc: Rpc = DEFAULT_RPC,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Split value off a claim into a new token for another member (e.g. your own supplier)."""
    with errors():
        session = open_session(rpc, data_dir, keystore)
        new, result = session.ledger.as_member(session.account).split(
            token, address(to), parse_amount(value, session.decimals))
    console.print(f"new token {new} for {address(to)} (tx {result.tx_hash})")


@app.command("transfer")
def transfer(
    token: int,
    keystore: Keystore,
    to: Annotated[str | None, typer.Option(help="Give the whole token to this member.")] = None,
    to_token: Annotated[int | None, typer.Option(help="Or move --value into this token of the same payable.")] = None,
    value: Annotated[str | None, typer.Option(help="Value to move with --to-token.")] = None,
    rpc: Rpc = DEFAULT_RPC,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Transfer a whole token (--to) or part of its value into another token (--to-token --value)."""
    with errors():
        if (to is None) == (to_token is None) or (to_token is not None and value is None):
            raise ConfigurationError("give either --to, or --to-token with --value")
        session = open_session(rpc, data_dir, keystore)
        member = session.ledger.as_member(session.account)
        if to is not None:
            result = member.transfer_token(token, address(to))
        else:
            result = member.transfer_value(token, to_token, parse_amount(value or "", session.decimals))
    console.print(f"transferred (tx {result.tx_hash})")


@app.command("merge")
def merge(from_token: int, to_token: int, keystore: Keystore, rpc: Rpc = DEFAULT_RPC,
          data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Merge one of your tokens into another of the same payable."""
    with errors():
        session = open_session(rpc, data_dir, keystore)
        result = session.ledger.as_member(session.account).merge(from_token, to_token)
    console.print(f"merged {from_token} into {to_token} (tx {result.tx_hash})")


@app.command("offer")
def offer(
    token: int,
    value: Annotated[str, typer.Option(help="Claim value to finance.")],
    out: Annotated[Path, typer.Option(help="Where to write the signed offer (JSON) for the holder.")],
    keystore: Keystore,
    rate_bps: Annotated[int, typer.Option(help="Discount or interest rate, basis points a year.")] = 600,
    fee: Annotated[str, typer.Option(help="Fee kept from the proceeds.")] = "0",
    pledge_principal: Annotated[str | None, typer.Option(help="Lend this much against a pledge instead of "
                                                         "buying at a discount.")] = None,
    recourse: bool = False,
    valid_hours: int = 24,
    nonce: Annotated[int | None, typer.Option(help="Offer nonce (default: the current time).")] = None,
    rpc: Rpc = DEFAULT_RPC,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Sign financing terms for a claim as a lender (EIP-712); the holder takes them with `finance`."""
    with errors():
        session = open_session(rpc, data_dir, keystore)
        d = session.decimals
        terms = Offer(
            lender=session.account.address, token_id=token, value=parse_amount(value, d),
            expiry=int(time.time()) + valid_hours * 3600, nonce=nonce if nonce is not None else time.time_ns(),
            kind=Kind.PLEDGE if pledge_principal else Kind.DISCOUNT, rate_bps=rate_bps,
            fixed_price=parse_amount(pledge_principal, d) if pledge_principal else 0,
            fee=parse_amount(fee, d) if fee != "0" else 0, recourse=recourse,
        )
        desk = FinancingDesk(session.ledger, session.ledger.address("FinancingDesk"))
        signature = desk.sign(session.account, terms)
        out.write_text(json.dumps({"offer": terms.as_message(), "signature": "0x" + signature.hex()}, indent=2))
    console.print(f"signed offer written to {out}")


@app.command("finance")
def finance(
    offer_file: Annotated[Path, typer.Argument(help="Signed offer from `scf claim offer`.")],
    keystore: Keystore,
    rpc: Rpc = DEFAULT_RPC,
    data_dir: DataDir = DEFAULT_DATA_DIR,
) -> None:
    """Take a lender's signed offer on your claim (approves the desk on your claims first)."""
    with errors():
        try:
            signed = json.loads(offer_file.read_text())
            m = signed["offer"]
            terms = Offer(lender=m["lender"], holder=m["holder"], token_id=m["tokenId"], slot=m["slot"],
                          value=m["value"], kind=Kind(m["kind"]), rate_bps=m["rateBps"],
                          penalty_bps=m["penaltyBps"], fixed_price=m["fixedPrice"], fee=m["fee"],
                          recourse=m["recourse"], expiry=m["expiry"], nonce=m["nonce"])
            signature = bytes.fromhex(signed["signature"].removeprefix("0x"))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigurationError(f"{offer_file} is not a signed offer: {exc}") from None
        session = open_session(rpc, data_dir, keystore)
        desk = FinancingDesk(session.ledger, session.ledger.address("FinancingDesk"))
        receivables = session.ledger.receivables.functions
        if not receivables.isApprovedForAll(session.account.address, desk.contract.address).call():
            session.ledger.as_member(session.account).set_approval_for_all(desk.contract.address, True)
        result = desk.take_offer(session.account, terms, terms.token_id, signature)
        financed = result.event("Financed")
    price = format_amount(financed["terms"]["price"], session.decimals)
    console.print(f"financing {financed['financingId']}: price {price} (tx {result.tx_hash})")


@app.command("repay")
def repay(loan: int, keystore: Keystore, rpc: Rpc = DEFAULT_RPC, data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Repay a pledge loan with interest (approves the desk for the amount due)."""
    with errors():
        session = open_session(rpc, data_dir, keystore)
        desk = FinancingDesk(session.ledger, session.ledger.address("FinancingDesk"))
        principal, interest = desk.amount_due(loan)
        asset = session.ledger.asset.functions
        due = principal + interest
        slack = max(1, due // 1000)  # interest keeps accruing until the repayment is mined
        session.ledger.execute(session.account, asset.approve(desk.contract.address, due + slack))
        result = desk.repay(session.account, loan)
    console.print(f"repaid loan {loan}: {format_amount(principal + interest, session.decimals)} (tx {result.tx_hash})")


@app.command("deposit")
def deposit(slot: int, amount: str, keystore: Keystore, rpc: Rpc = DEFAULT_RPC,
            data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Pay toward a payable (debtors; partial payments allowed)."""
    with errors():
        session = open_session(rpc, data_dir, keystore)
        units = parse_amount(amount, session.decimals)
        result = settlement.deposit(session.ledger, session.ledger.address("SettlementVault"), session.account,
                                    slot, units)
    console.print(f"deposited {format_amount(units, session.decimals)} toward payable {slot} (tx {result.tx_hash})")


@app.command("redeem")
def redeem(token: int, keystore: Keystore, rpc: Rpc = DEFAULT_RPC, data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """Collect what the debtor has paid on a matured claim (paid to the token's holder)."""
    with errors():
        session = open_session(rpc, data_dir, keystore)
        paid, result = settlement.redeem(session.ledger, session.ledger.address("SettlementVault"),
                                         session.account, token)
    console.print(f"paid {format_amount(paid, session.decimals)} on token {token} (tx {result.tx_hash})")


@app.command("show")
def show(token: int, rpc: Rpc = DEFAULT_RPC, data_dir: DataDir = DEFAULT_DATA_DIR) -> None:
    """A claim token and its payable."""
    with errors():
        ledger = connect(rpc, data_dir)
        held = ledger.holding(token)
        payable = ledger.payable(held.slot)
        d = int(ledger.receivables.functions.valueDecimals().call())
    table = Table(show_header=False)
    rows = [("token", str(token)), ("holder", held.owner), ("value", format_amount(held.value, d)),
            ("frozen", format_amount(held.frozen, d)), ("pledged/financed", format_amount(held.encumbered, d)),
            ("accepted", "yes" if held.accepted else "no"), ("payable", str(held.slot)), ("debtor", payable.debtor),
            ("face value", format_amount(payable.face_value, d)),
            ("maturity", time.strftime("%Y-%m-%d", time.gmtime(payable.maturity)))]
    for label, value in rows:
        table.add_row(label, value)
    console.print(table)
