"""What the client commands share: ``lists import``, ``suppression import`` and ``records
dialability`` talk to a running Dialstream over HTTP, like any client of the API.

Where it runs comes from ``--url`` or DIALSTREAM_URL, the API key from ``--api-key`` or
DIALSTREAM_API_KEY. Whatever goes wrong between the command and the server (nobody listening,
a refused request, a timeout, a dropped connection, an answer that is not Dialstream's) ends
the command with one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Callable
from typing import Any

import httpx

ERROR = 2
DEFAULT_URL = "http://127.0.0.1:8080"
ENVIRONMENT = (
    "environment: DIALSTREAM_URL (where Dialstream runs, default "
    f"{DEFAULT_URL}; --url overrides it), DIALSTREAM_API_KEY (the API key; --api-key overrides it)"
)


class CommandFailed(Exception):
    """The one line a client command ends with, and its exit status."""

    def __init__(self, line: str, status: int = ERROR):
        super().__init__(line)
        self.line = line
        self.status = status


Command = Callable[[argparse.Namespace], int]


def client_command(command: Command) -> Command:
    """``command``, ending in one line on stderr and exit 2 when the server cannot answer it."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except CommandFailed as failed:
            print(f"dialstream: {failed.line}", file=sys.stderr)
            return failed.status
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
            print(f"dialstream: --url {args.url!r}: {error}", file=sys.stderr)
            return ERROR
        except httpx.TransportError as error:
            print(f"dialstream: cannot reach Dialstream at {args.url}: {describe(error)}", file=sys.stderr)
            return ERROR

    return run


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    """``--url`` and ``--api-key``, and the environment variables behind them in ``--help``."""
    parser.add_argument(
        "--url",
        default=os.environ.get("DIALSTREAM_URL", DEFAULT_URL),
        help=f"where Dialstream runs (default: DIALSTREAM_URL, else {DEFAULT_URL})",
    )
    parser.add_argument("--api-key", help="API key (default: DIALSTREAM_API_KEY)")
    parser.epilog = ENVIRONMENT


def connect(args: argparse.Namespace, timeout: httpx.Timeout | float) -> httpx.Client:
    """An HTTP client for ``args.url`` that sends the API key."""
    key = args.api_key or os.environ.get("DIALSTREAM_API_KEY")
    if not key:
        raise CommandFailed("give --api-key or set DIALSTREAM_API_KEY")
    return httpx.Client(base_url=args.url, headers={"Authorization": f"Bearer {key}"}, timeout=timeout)


def json_of(response: httpx.Response) -> Any:
    """The JSON body of a successful answer, or one line saying it is not Dialstream's."""
    try:
        return response.json()
    except ValueError:
        raise CommandFailed(
            f"{response.request.url} answered {response.status_code} with something that is not "
            f"JSON (is --url a Dialstream?): {one_line(response.text)[:200]}"
        ) from None


def refusal(response: httpx.Response) -> str:
    """An error answer in one line: status, and the problem document's detail."""
    try:
        problem = response.json()
    except ValueError:
        problem = None
    detail = problem.get("detail") if isinstance(problem, dict) else None
    if isinstance(detail, str) and detail:
        field = problem.get("field") if isinstance(problem, dict) else None
        if field and str(field) not in detail:
            detail = f"{detail} (field {field})"
    else:
        detail = one_line(response.text)[:500] or response.reason_phrase
    return f"{response.status_code}: {one_line(detail)}"


def describe(error: httpx.TransportError) -> str:
    # Some transport errors (a read timeout, for one) carry an empty message.
    return one_line(str(error)).rstrip(".") or type(error).__name__


def one_line(text: str) -> str:
    return " ".join(text.split())
