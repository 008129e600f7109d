"""Hypothesis stateful test: random sequences of holder, regulator and system actions on one
payable, checked against a Python model after every step (values, locks, owners, ERC-721
balances, conservation of the face value), with the exact custom error the model predicts."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from conftest import ONE, issue_claim
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from ledger.errors import ContractRevertError

FACE = 1000 * ONE


@dataclass
class ModelToken:
    owner: str
    value: int
    frozen: int = 0
    encumbered: int = 0

    @property
    def free(self) -> int:
        return self.value - self.frozen - self.encumbered


def test_random_flows_match_model(ledger, actors):
    chain = ledger.chain
    holders = [actors.supplier, actors.supplier2, actors.supplier3]
    by_address = {a.address: a for a in holders}

    class ReceivableFlows(RuleBasedStateMachine):
        @initialize()
        def issue(self) -> None:
            self.snapshot = chain.w3.provider.make_request("evm_snapshot", [])["result"]
            self.slot, token = issue_claim(ledger, actors, FACE)
            self.tokens: dict[int, ModelToken] = {token: ModelToken(actors.supplier.address, FACE)}

        def teardown(self) -> None:
            if hasattr(self, "snapshot"):
                chain.w3.provider.make_request("evm_revert", [self.snapshot])

        def _pick(self, index: int) -> int:
            ids = sorted(self.tokens)
            return ids[index % len(ids)]

        def _expect(self, action, error: str | None):
            if error is None:
                return action()
            with pytest.raises(ContractRevertError) as raised:
                action()
            assert raised.value.name == error, f"model expected {error}, chain said {raised.value}"
            return None

        @staticmethod
        def _move_error(token: ModelToken, value: int) -> str | None:
            if value == 0 or value > token.value:
                return "ReceivableInvalidValue"
            if value > token.free:
                return "ReceivableValueLocked"
            return None

        @rule(index=st.integers(0, 50), to=st.integers(0, 2), share=st.integers(0, 110))
        def split(self, index: int, to: int, share: int) -> None:
            token_id = self._pick(index)
            token = self.tokens[token_id]
            value = token.value * share // 100
            receiver = holders[to].address
            error = self._move_error(token, value)
            actor = ledger.as_member(by_address[token.owner])
            out = self._expect(lambda: actor.split(token_id, receiver, value), error)
            if out is not None:
                new_id, _ = out
                assert new_id not in self.tokens
                token.value -= value
                self.tokens[new_id] = ModelToken(receiver, value)

        @rule(src=st.integers(0, 50), dst=st.integers(0, 50), share=st.integers(0, 110))
        def transfer_value(self, src: int, dst: int, share: int) -> None:
            from_id, to_id = self._pick(src), self._pick(dst)
            token = self.tokens[from_id]
            value = token.value * share // 100
            error = "ReceivableSameToken" if from_id == to_id else self._move_error(token, value)
            actor = ledger.as_member(by_address[token.owner])
            if self._expect(lambda: actor.transfer_value(from_id, to_id, value), error) is not None:
                token.value -= value
                self.tokens[to_id].value += value

        @rule(src=st.integers(0, 50), dst=st.integers(0, 50))
        def merge(self, src: int, dst: int) -> None:
            from_id, to_id = self._pick(src), self._pick(dst)
            token, target = self.tokens[from_id], self.tokens[to_id]
            if from_id == to_id:
                error: str | None = "ReceivableSameToken"
            elif target.owner != token.owner:
                error = "ReceivableUnauthorizedOperator"
            else:
                error = self._move_error(token, token.value)
            actor = ledger.as_member(by_address[token.owner])
            if self._expect(lambda: actor.merge(from_id, to_id), error) is not None:
                target.value += token.value
                del self.tokens[from_id]

        @rule(index=st.integers(0, 50), to=st.integers(0, 2))
        def transfer_token(self, index: int, to: int) -> None:
            token_id = self._pick(index)
            token = self.tokens[token_id]
            error = self._move_error(token, token.value)
            actor = ledger.as_member(by_address[token.owner])
            if self._expect(lambda: actor.transfer_token(token_id, holders[to].address), error) is not None:
                token.owner = holders[to].address

        @rule(index=st.integers(0, 50), share=st.integers(0, 110))
        def freeze(self, index: int, share: int) -> None:
            token_id = self._pick(index)
            token = self.tokens[token_id]
            frozen = token.value * share // 100
            error = "ReceivableInvalidLock" if frozen + token.encumbered > token.value else None
            regulator = ledger.as_regulator(actors.regulator)
            if self._expect(lambda: regulator.set_frozen(token_id, frozen), error) is not None:
                token.frozen = frozen

        @rule(index=st.integers(0, 50), share=st.integers(0, 110), lock=st.booleans())
        def encumber_or_release(self, index: int, share: int, lock: bool) -> None:
            token_id = self._pick(index)
            token = self.tokens[token_id]
            f = ledger.receivables.functions
            if lock:
                amount = token.value * share // 100
                error = "ReceivableValueLocked" if amount == 0 or amount > token.free else None
                call = f.encumber(token_id, amount)
            else:
                amount = token.encumbered * share // 100
                error = "ReceivableInvalidLock" if amount == 0 or amount > token.encumbered else None
                call = f.release(token_id, amount)
            if self._expect(lambda: ledger.execute(actors.system, call), error) is not None:
                token.encumbered += amount if lock else -amount

        @invariant()
        def chain_matches_model(self) -> None:
            if not hasattr(self, "tokens"):
                return
            for token_id, token in self.tokens.items():
                held = ledger.holding(token_id)
                assert (held.owner, held.value, held.frozen, held.encumbered, held.slot) == (
                    token.owner, token.value, token.frozen, token.encumbered, self.slot)
            assert sum(t.value for t in self.tokens.values()) + ledger.payable(self.slot).redeemed_value == FACE
            for holder in holders:
                owned = sum(1 for t in self.tokens.values() if t.owner == holder.address)
                assert ledger.receivables.functions.balanceOf(holder.address).call() == owned

    run_state_machine_as_test(ReceivableFlows, settings=settings(settings(), stateful_step_count=12))
