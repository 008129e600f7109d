"""Credit reports: issuing (bureau), the Poseidon commitment tree and selective disclosure.

Every field is a leaf ``Poseidon(key, value, salt)`` with its own 248-bit random salt; the slots
without a field hold random decoys; the tree is a 4-ary depth-2 Poseidon tree (inner node = Poseidon of its four
children, left to right) and its root is what
the bureau registers in ``CreditRegistry``. The firm receives the whole :class:`CreditReport`
(values and salts) and can reveal any subset of fields with :class:`Disclosure` proofs that a
lender checks against the registered root: the hidden fields' values and salts never leave it.

Bureau retention policy (see ``zk/RETENTION.md``): the bureau keeps the field values it scored
(its own business record) but not the salts and decoys after delivering the report to the firm;
without the salts it cannot open the commitment for anyone, so disclosure is the firm's choice.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from zk.poseidon import FIELD, poseidon
from zk.schema import ARITY, BY_NAME, DECOY_SLOTS, FIELDS, SLOTS, TREE_DEPTH

SALT_BITS = 248


def random_salt() -> int:
    return secrets.randbits(SALT_BITS)


def random_decoy() -> int:
    return secrets.randbelow(FIELD)


def leaf_hash(key: int, value: int, salt: int) -> int:
    return poseidon([key, value, salt])


def tree_levels(leaves: list[int]) -> list[list[int]]:
    """All levels of the Poseidon tree, leaves first, root last."""
    if len(leaves) != SLOTS:
        raise ValueError(f"expected {SLOTS} leaves")
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        prev = levels[-1]
        levels.append([poseidon(prev[i : i + ARITY]) for i in range(0, len(prev), ARITY)])
    return levels


def path_siblings(levels: list[list[int]], slot: int) -> tuple[int, ...]:
    """The ARITY - 1 siblings at each level below the root, bottom up, in left-to-right order."""
    siblings: list[int] = []
    index = slot
    for level in levels[:TREE_DEPTH]:
        group = index - index % ARITY
        siblings.extend(level[j] for j in range(group, group + ARITY) if j != index)
        index //= ARITY
    return tuple(siblings)


def root_from_path(leaf: int, slot: int, siblings: Iterable[int]) -> int:
    sibs = list(siblings)
    if len(sibs) != TREE_DEPTH * (ARITY - 1):
        raise ValueError("wrong number of siblings")
    node, index = leaf, slot
    for level in range(TREE_DEPTH):
        others = sibs[level * (ARITY - 1) : (level + 1) * (ARITY - 1)]
        position = index % ARITY
        node = poseidon([*others[:position], node, *others[position:]])
        index //= ARITY
    return node


@dataclass(frozen=True)
class CreditReport:
    """A full report as the firm holds it: values, salts and decoys (secret material)."""

    values: dict[str, int]
    salts: dict[str, int]
    decoys: dict[int, int]  # slot -> random leaf

    @classmethod
    def issue(cls, values: Mapping[str, int]) -> CreditReport:
        """The bureau's step: validate the values, draw a salt per field and the decoys."""
        missing = [f.name for f in FIELDS if f.name not in values]
        unknown = [n for n in values if n not in BY_NAME]
        if missing or unknown:
            raise ValueError(f"report fields: missing {missing}, unknown {unknown}")
        for f in FIELDS:
            v = int(values[f.name])
            if not 0 <= v <= f.max_value:
                raise ValueError(f"{f.name}={v} outside 0..{f.max_value}")
        return cls(
            values={f.name: int(values[f.name]) for f in FIELDS},
            salts={f.name: random_salt() for f in FIELDS},
            decoys={slot: random_decoy() for slot in DECOY_SLOTS},
        )

    def leaves(self) -> list[int]:
        leaves = [0] * SLOTS
        for f in FIELDS:
            leaves[f.slot] = leaf_hash(f.key, self.values[f.name], self.salts[f.name])
        for slot, decoy in self.decoys.items():
            leaves[slot] = decoy
        return leaves

    @property
    def root(self) -> int:
        return tree_levels(self.leaves())[-1][0]

    @property
    def root_bytes(self) -> bytes:
        return self.root.to_bytes(32, "big")

    def document_hash(self) -> bytes:
        """sha256 of the canonical JSON of the values (the bureau's human-readable document)."""
        return hashlib.sha256(json.dumps(self.values, sort_keys=True).encode()).digest()

    def disclose(self, names: Iterable[str]) -> Disclosure:
        """Reveal the named fields with Merkle paths; nothing else about the report."""
        levels = tree_levels(self.leaves())
        items = []
        for name in names:
            f = BY_NAME[name]
            siblings = path_siblings(levels, f.slot)
            items.append(DisclosedField(name, self.values[name], self.salts[name], siblings))
        return Disclosure(root=levels[-1][0], fields=tuple(items))

    def to_json(self) -> dict:
        return {
            "values": self.values,
            "salts": {k: hex(v) for k, v in self.salts.items()},
            "decoys": {str(k): hex(v) for k, v in self.decoys.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping) -> CreditReport:
        return cls(
            values={k: int(v) for k, v in data["values"].items()},
            salts={k: int(v, 16) for k, v in data["salts"].items()},
            decoys={int(k): int(v, 16) for k, v in data["decoys"].items()},
        )


@dataclass(frozen=True)
class DisclosedField:
    name: str
    value: int
    salt: int
    siblings: tuple[int, ...]


@dataclass(frozen=True)
class Disclosure:
    """Revealed fields of one report, each provable against ``root``."""

    root: int
    fields: tuple[DisclosedField, ...] = field(default_factory=tuple)

    def verify(self, root: int) -> dict[str, int]:
        """The revealed values, if every field opens to ``root`` (the registered root); raises
        ValueError otherwise."""
        if self.root != root:
            raise ValueError("disclosure is for another root")
        seen = set()
        out: dict[str, int] = {}
        for item in self.fields:
            f = BY_NAME.get(item.name)
            if f is None or item.name in seen or len(item.siblings) != TREE_DEPTH * (ARITY - 1):
                raise ValueError(f"malformed disclosed field {item.name!r}")
            seen.add(item.name)
            if not 0 <= item.value <= f.max_value:
                raise ValueError(f"{item.name} value out of range")
            if not (0 <= item.salt < FIELD and all(0 <= s < FIELD for s in item.siblings)):
                raise ValueError(f"{item.name}: salt or sibling is not a field element")
            if root_from_path(leaf_hash(f.key, item.value, item.salt), f.slot, item.siblings) != root:
                raise ValueError(f"{item.name} does not open to the registered root")
            out[item.name] = item.value
        return out

    def to_json(self) -> dict:
        return {
            "root": hex(self.root),
            "fields": [
                {"name": i.name, "value": i.value, "salt": hex(i.salt), "siblings": [hex(s) for s in i.siblings]}
                for i in self.fields
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping) -> Disclosure:
        return cls(
            root=int(data["root"], 16),
            fields=tuple(
                DisclosedField(i["name"], int(i["value"]), int(i["salt"], 16), tuple(int(s, 16) for s in i["siblings"]))
                for i in data["fields"]
            ),
        )
