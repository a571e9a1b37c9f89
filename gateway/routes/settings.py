"""/api/v1/settings: the account's settings page, its users' OpenPGP public keys, and the
public halves of the account's own SSH and OpenPGP key pairs (made on the first download)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from msgspec import Struct
from starlette.concurrency import run_in_threadpool

from domain.account import Account, SystemKey, SystemKeyKind, UpdateSettings
from gateway.deps import Admin, Caller, HandlersDep, IfMatch, Reader, RuntimeDep
from gateway.io import doc, read_body, respond
from gateway.views import fetch, settled, view
from processors.files import openpgp
from projections.catalogue import ACCOUNT
from schemas.settings import ComplianceSettings, DispositionSettings, PublicKey

router = APIRouter(prefix="/api/v1/settings", tags=["settings"])
PGP_KEYS = "application/pgp-keys"  # RFC 3156's media type of an armoured key


class ImportPublicKeyRequest(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    user_id: str
    armored: str


def _account(runtime: RuntimeDep, caller: Reader) -> Account:
    state: Account = fetch(runtime, caller.account_id, ACCOUNT, caller.account_id, "account")
    return state


def _settings_response(account: Account) -> Response:
    """The settings page; API keys are listed only at /api/v1/api-keys, for admins, and the
    private halves of the account's own key pairs, sealed as they are, never leave."""
    body = view(account)
    body.pop("api_keys", None)
    body.pop("sealed_private_keys", None)
    return respond(body, version=account.version)


@router.get("", **doc(response=Account))
def get_settings(runtime: RuntimeDep, caller: Reader) -> Response:
    return _settings_response(_account(runtime, caller))


@router.patch("", **doc(body=UpdateSettings, response=Account))
async def update_settings(
    request: Request, runtime: RuntimeDep, handlers: HandlersDep, caller: Admin, expected: IfMatch
) -> Response:
    command = await read_body(request, UpdateSettings)

    def update_and_settle() -> Response:
        settled(runtime, handlers.accounts.update_settings(caller.account_id, command, expected_version=expected))
        return _settings_response(_account(runtime, caller))

    return await run_in_threadpool(update_and_settle)


@router.get("/dispositions", **doc(response=DispositionSettings))
def get_disposition_settings(runtime: RuntimeDep, caller: Reader) -> Response:
    """The disposition codes agents give calls at wrap-up; the ETag is the account's version."""
    account = _account(runtime, caller)
    return respond(account.settings.dispositions, version=account.version)


@router.put("/dispositions", **doc(body=DispositionSettings, response=DispositionSettings))
async def change_disposition_settings(
    request: Request, runtime: RuntimeDep, handlers: HandlersDep, caller: Admin, expected: IfMatch
) -> Response:
    """Replace the disposition codes catalogue as a whole (code, label, final, do_not_call)."""
    dispositions = await read_body(request, DispositionSettings)

    def change_and_settle() -> Response:
        done = handlers.accounts.change_disposition_settings(
            caller.account_id, dispositions, expected_version=expected
        )
        settled(runtime, done)
        account = _account(runtime, caller)
        return respond(account.settings.dispositions, version=account.version)

    return await run_in_threadpool(change_and_settle)


@router.get("/compliance", **doc(response=ComplianceSettings))
def get_compliance_settings(runtime: RuntimeDep, caller: Reader) -> Response:
    """Calling hours and dates per region, and attempt rules; the ETag is the account's version."""
    account = _account(runtime, caller)
    return respond(account.settings.compliance, version=account.version)


@router.put("/compliance", **doc(body=ComplianceSettings, response=ComplianceSettings))
async def change_compliance_settings(
    request: Request, runtime: RuntimeDep, handlers: HandlersDep, caller: Admin, expected: IfMatch
) -> Response:
    """Replace the compliance settings as a whole; a field left out takes its default.
    Errors name the field relative to this body (``regions.US-FL.hours.daily``)."""
    compliance = await read_body(request, ComplianceSettings)

    def change_and_settle() -> Response:
        done = handlers.accounts.change_compliance_settings(caller.account_id, compliance, expected_version=expected)
        settled(runtime, done)
        account = _account(runtime, caller)
        return respond(account.settings.compliance, version=account.version)

    return await run_in_threadpool(change_and_settle)


@router.get("/public-keys", **doc(response=list[PublicKey]))
def list_public_keys(runtime: RuntimeDep, caller: Reader) -> Response:
    return respond(list(_account(runtime, caller).public_keys))


@router.post("/public-keys", **doc(body=ImportPublicKeyRequest, response=PublicKey, status=201))
async def import_public_key(
    request: Request, runtime: RuntimeDep, handlers: HandlersDep, caller: Admin
) -> Response:
    body = await read_body(request, ImportPublicKeyRequest)

    def import_and_settle() -> Response:
        key = openpgp.read_public_key(body.armored, user_id=body.user_id, now=handlers.clock())
        settled(runtime, handlers.accounts.import_public_key(caller.account_id, key))
        return respond(key, status=201)

    return await run_in_threadpool(import_and_settle)


@router.delete("/public-keys/{fingerprint}", status_code=204)
def remove_public_key(
    fingerprint: Annotated[str, Path(min_length=8, max_length=64)],
    runtime: RuntimeDep,
    handlers: HandlersDep,
    caller: Admin,
) -> Response:
    settled(runtime, handlers.accounts.remove_public_key(caller.account_id, fingerprint.upper()))
    return Response(status_code=204)


def _system_key(runtime: RuntimeDep, handlers: HandlersDep, caller: Caller, kind: SystemKeyKind) -> SystemKey:
    """The public half of the account's own ``kind`` key pair, made first if it has none (RSA
    4096: seconds; a route run in the thread pool, so the server goes on meanwhile)."""
    key = _account(runtime, caller).system_key(kind)
    if key is None:
        make = handlers.accounts.make_ssh_key if kind == "ssh" else handlers.accounts.make_pgp_key
        settled(runtime, make(caller.account_id))
        key = _account(runtime, caller).system_key(kind)
    assert key is not None, "the key pair is stored and the read models include it"
    return key


def _download(key: SystemKey, media_type: str, file_name: str) -> Response:
    return Response(
        key.public_key.rstrip("\n") + "\n",
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{file_name}"'},
    )


@router.get(
    "/ssh-public-key",
    response_class=Response,
    responses={200: {"description": "OpenSSH's one-line public key", "content": {"text/plain": {}}}},
)
def download_ssh_public_key(runtime: RuntimeDep, handlers: HandlersDep, caller: Reader) -> Response:
    """The account's SSH public key (RSA 4096, one line), for the ``authorized_keys`` of the SFTP
    servers its list automation jobs log in to with "SSH key" authentication."""
    return _download(_system_key(runtime, handlers, caller, "ssh"), "text/plain", "dialstream_rsa.pub")


@router.get(
    "/pgp-public-key",
    response_class=Response,
    responses={200: {"description": "An ASCII-armoured OpenPGP public key", "content": {PGP_KEYS: {}}}},
)
def download_pgp_public_key(runtime: RuntimeDep, handlers: HandlersDep, caller: Reader) -> Response:
    """The account's OpenPGP public key (RSA 4096, ASCII armour): encrypt the files sent to the
    account's list automation jobs to it. Separate from the SSH key, as the product requires."""
    return _download(_system_key(runtime, handlers, caller, "pgp"), PGP_KEYS, "dialstream.asc")
