"""``dialstream accounts create`` and ``dialstream api-keys issue``: open an account, or issue
an API key, straight into the data directory's event store (no server needed; it may run)
and print the key's secret once.
"""

from __future__ import annotations

import argparse
from typing import Any, get_args
from uuid import UUID

from dialstream.bootstrap import account_for_new_key, build
from dialstream.cli.common import CommandError, require_existing_store, settings_of
from domain.errors import NotFound
from schemas.settings import Role


def cmd_accounts_create(args: argparse.Namespace) -> int:
    runtime = build(settings_of(args))
    try:
        account_id = runtime.handlers.accounts.open_account(args.name).id
        issued = runtime.handlers.accounts.issue_api_key(account_id, "first admin", "admin")
        print(f"account {account_id} ({args.name})")
        print(f"admin API key (shown once): {issued.secret}")
    finally:
        runtime.stop()
    return 0


def cmd_api_keys_issue(args: argparse.Namespace) -> int:
    settings = settings_of(args)
    require_existing_store(settings)
    runtime = build(settings, relay=False, workers=[])
    try:
        account_id = _account_id(args.account) if args.account else account_for_new_key(runtime.store)
        issued = runtime.handlers.accounts.issue_api_key(account_id, args.name or f"{args.role} (command line)", args.role)
    except LookupError as error:
        raise CommandError(str(error)) from None
    except NotFound:
        raise CommandError(f"no account {args.account} in this event store") from None
    finally:
        runtime.stop()
    print(f"account {account_id}")
    print(f"{args.role} API key (shown once): {issued.secret}")
    return 0


def _account_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise CommandError(f"--account {text!r} is not an account id (a UUID)") from None


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    """``accounts create`` and ``api-keys issue``."""
    accounts = sub.add_parser(
        "accounts",
        help="manage accounts (tenants)",
        description="Accounts are tenants; API keys are scoped to one.",
    )
    accounts_sub = accounts.add_subparsers(dest="accounts_command", required=True, metavar="ACTION")
    create = accounts_sub.add_parser(
        "create", parents=[common], help="open an account and print its admin key"
    )
    create.add_argument("name")
    create.set_defaults(run=cmd_accounts_create)

    api_keys = sub.add_parser(
        "api-keys",
        help="manage API keys",
        description="API keys authenticate clients of the API; each belongs to one account.",
    )
    api_keys_sub = api_keys.add_subparsers(dest="api_keys_command", required=True, metavar="ACTION")
    issue = api_keys_sub.add_parser(
        "issue",
        parents=[common],
        help="issue an API key straight into the data directory and print it once",
        description="Issue a new API key in the event store of the data directory (the way back "
        "in when an account has no usable admin key) and print its secret once. Works "
        "whether or not `dialstream up` is running. Without --account: the default account, "
        "or the only account there is.",
    )
    issue.add_argument("--role", required=True, choices=get_args(Role), help="what the key may do")
    issue.add_argument("--account", metavar="ID", help="the account's id (default: see above)")
    issue.add_argument("--name", help="a name to recognise the key by in the key list")
    issue.set_defaults(run=cmd_api_keys_issue)
