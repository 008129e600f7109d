from conftest import ONE, issue_claim


def test_issue_accept_split(ledger, actors):
    slot, token = issue_claim(ledger, actors, 1000 * ONE)
    new_token, result = ledger.as_member(actors.supplier).split(token, actors.supplier2.address, 300 * ONE)
    assert ledger.holding(token).value == 700 * ONE
    held = ledger.holding(new_token)
    assert (held.owner, held.slot, held.value) == (actors.supplier2.address, slot, 300 * ONE)
    print("split gas", result.gas_used)
