"""Errors a decision raises; each names the field at fault where there is one."""

from __future__ import annotations


class DomainError(Exception):
    """A command that the rules refuse."""

    title = "Rule violated"

    def __init__(self, detail: str, *, field: str | None = None):
        super().__init__(detail)
        self.detail = detail
        self.field = field


class NotFound(DomainError):
    title = "Not found"


class NameTaken(DomainError):
    title = "Name already in use"


class InUse(DomainError):
    title = "Still in use"


class InvalidTransition(DomainError):
    title = "Invalid state transition"


class RuleViolation(DomainError):
    title = "Rule violated"


class StaleVersion(DomainError):
    """The client's copy (its If-Match version) is older than the aggregate."""

    title = "Precondition failed"
