"""Deploying the contract system and the deployment manifest (chain id -> addresses, blocks)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from eth_account.signers.local import LocalAccount

from ledger.chain import Chain
from ledger.errors import ConfigurationError
from ledger.roles import Role

DEFAULT_ADMIN_DELAY = 3 * 24 * 3600
SYSTEM_CONTRACTS = (
    "Participants",
    "InvoiceRegistry",
    "ReceivableToken",
    "SettlementVault",
    "FinancingDesk",
    "EvidenceLedger",
    "CreditVerifier",
    "CreditRegistry",
    "CreditGate",
)


@dataclass(frozen=True)
class DeployedContract:
    address: str
    block_number: int
    tx_hash: str


@dataclass(frozen=True)
class Deployment:
    """Where one deployment of the system lives on one chain."""

    chain_id: int
    contracts: dict[str, DeployedContract]
    settlement_asset: str
    deployer: str
    compiler: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def address(self, name: str) -> str:
        try:
            return self.contracts[name].address
        except KeyError:
            raise ConfigurationError(f"contract {name} is not in the deployment manifest") from None

    @property
    def start_block(self) -> int:
        return min(c.block_number for c in self.contracts.values())

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> Deployment:
        return cls(
            chain_id=int(data["chain_id"]),
            contracts={k: DeployedContract(**v) for k, v in data["contracts"].items()},
            settlement_asset=data["settlement_asset"],
            deployer=data["deployer"],
            compiler=data.get("compiler", ""),
            extra=data.get("extra", {}),
        )


def save_manifest(path: Path, deployment: Deployment) -> None:
    """Write ``deployment`` under its chain id into the manifest at ``path`` (atomically)."""
    manifest = json.loads(path.read_text()) if path.exists() else {}
    manifest[str(deployment.chain_id)] = deployment.to_json()
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def load_manifest(path: Path, chain_id: int) -> Deployment:
    """The deployment for ``chain_id`` recorded in the manifest at ``path``."""
    if not path.exists():
        raise ConfigurationError(f"no deployment manifest at {path}: run `scf deploy` first")
    manifest = json.loads(path.read_text())
    if str(chain_id) not in manifest:
        raise ConfigurationError(f"manifest {path} has no deployment for chain id {chain_id}")
    return Deployment.from_json(manifest[str(chain_id)])


def deploy_system(
    chain: Chain,
    deployer: LocalAccount,
    *,
    admin: str | None = None,
    admin_delay: int = DEFAULT_ADMIN_DELAY,
    settlement_asset: str | None = None,
    kyc_registrars: tuple[str, ...] = (),
    credit_pass_lifetime: int = 86400,
) -> Deployment:
    """Deploy the whole system (and a test stablecoin when no settlement asset is given) and grant
    SYSTEM_ROLE to the contracts that need it (token, vault, desk). The credit contracts (Groth16
    verifier, CreditRegistry, CreditGate) come with it; a CreditGate pass lasts ``credit_pass_lifetime``
    seconds. ``deployer`` is the initial default admin; with ``admin`` given it grants the registrars
    first and then starts the two-step admin transfer (``admin`` accepts after the delay).
    """
    records: dict[str, DeployedContract] = {}

    def deploy(name: str, *args: object):
        contract, receipt = chain.deploy(deployer, name, *args)
        tx_hash = receipt["transactionHash"].to_0x_hex()
        records[name] = DeployedContract(contract.address, int(receipt["blockNumber"]), tx_hash)
        return contract

    # Any ERC-20 with decimals() settles; the test stablecoin's ABI covers what we call.
    asset = deploy("TestStablecoin") if settlement_asset is None else chain.contract("TestStablecoin", settlement_asset)
    decimals = chain.call(asset.functions.decimals())
    participants = deploy("Participants", admin_delay, deployer.address)
    registry = deploy("InvoiceRegistry", participants.address)
    token = deploy("ReceivableToken", participants.address, registry.address, decimals)
    vault = deploy("SettlementVault", participants.address, token.address, registry.address)
    desk = deploy("FinancingDesk", participants.address, token.address, vault.address)
    deploy("EvidenceLedger", participants.address)
    verifier = deploy("CreditVerifier")
    reports = deploy("CreditRegistry", participants.address)
    deploy("CreditGate", participants.address, reports.address, verifier.address, desk.address, credit_pass_lifetime)
    for system_contract in (token, vault, desk):
        chain.send(deployer, participants.functions.grantRole(Role.SYSTEM.id, system_contract.address))
    for registrar in kyc_registrars:
        chain.send(deployer, participants.functions.grantRole(Role.KYC_REGISTRAR.id, registrar))
    if admin is not None and admin.lower() != deployer.address.lower():
        chain.send(deployer, participants.functions.beginDefaultAdminTransfer(admin))
    return Deployment(
        chain_id=chain.chain_id,
        contracts=records,
        settlement_asset=asset.address,
        deployer=deployer.address,
        compiler=participants_compiler(),
    )


def participants_compiler() -> str:
    from ledger.artifacts import load_artifact

    return load_artifact("Participants").compiler
