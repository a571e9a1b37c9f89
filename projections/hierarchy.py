"""hierarchy: which campaign groups hang under each template, which lists under each group,
and in what status? The campaigns dashboard shows one row per contact list under its group.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec

from projections.sql import Cursor, Database, dump_tables
from schemas import campaigns as c
from schemas import lists as ls
from schemas import topics
from schemas.base import Event

STATUS_AFTER: dict[type[Event], str] = {
    c.CampaignGroupStarted: "running",
    c.CampaignGroupPaused: "paused",
    c.CampaignGroupResumed: "running",
    c.CampaignGroupStopped: "stopped",
}

TABLES = ("hierarchy_templates", "hierarchy_groups", "hierarchy_group_lists", "hierarchy_lists")


class ListNode(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    channel: str


class GroupNode(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    status: str
    agent_group: str
    contact_lists: list[ListNode]


class TemplateNode(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    campaign_groups: list[GroupNode]


class Hierarchy(msgspec.Struct, frozen=True):
    templates: list[TemplateNode]
    unassigned_contact_lists: list[ListNode]


class CampaignHierarchy:
    name = "hierarchy"
    tables: tuple[str, ...] = TABLES
    topics: tuple[str, ...] = (topics.CAMPAIGNS, topics.LISTS)

    def create_tables(self, cursor: Cursor) -> None:
        for statement in (
            "CREATE TABLE IF NOT EXISTS hierarchy_templates (id TEXT PRIMARY KEY, "
            "account_id TEXT NOT NULL, name TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS hierarchy_groups (id TEXT PRIMARY KEY, "
            "account_id TEXT NOT NULL, template_id TEXT NOT NULL, name TEXT NOT NULL, "
            "status TEXT NOT NULL, agent_group TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS hierarchy_group_lists (group_id TEXT NOT NULL, "
            "list_id TEXT NOT NULL, ordinal INTEGER NOT NULL, PRIMARY KEY (group_id, list_id))",
            "CREATE TABLE IF NOT EXISTS hierarchy_lists (id TEXT PRIMARY KEY, "
            "account_id TEXT NOT NULL, name TEXT NOT NULL, channel TEXT NOT NULL)",
        ):
            cursor.execute(statement)

    def apply(self, cursor: Cursor, event: Event, position: int) -> None:
        key = str(event.originator_id)
        match event:
            case c.CampaignTemplateCreated():
                cursor.execute(
                    "INSERT INTO hierarchy_templates VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    (key, str(event.account_id), event.name),
                )
            case c.CampaignTemplateChanged():
                cursor.execute("UPDATE hierarchy_templates SET name = ? WHERE id = ?", (event.name, key))
            case c.CampaignTemplateDeleted():
                cursor.execute("DELETE FROM hierarchy_templates WHERE id = ?", (key,))
            case c.CampaignGroupCreated():
                cursor.execute(
                    "INSERT INTO hierarchy_groups VALUES (?, ?, ?, ?, 'loaded', ?) ON CONFLICT DO NOTHING",
                    (
                        key,
                        str(event.account_id),
                        str(event.template_id),
                        event.name,
                        event.agent_group,
                    ),
                )
                self._set_lists(cursor, key, event.contact_list_ids)
            case c.CampaignGroupChanged():
                cursor.execute(
                    "UPDATE hierarchy_groups SET name = ?, agent_group = ? WHERE id = ?",
                    (event.name, event.agent_group, key),
                )
                self._set_lists(cursor, key, event.contact_list_ids)
            case c.CampaignGroupDeleted():
                cursor.execute("DELETE FROM hierarchy_groups WHERE id = ?", (key,))
                cursor.execute("DELETE FROM hierarchy_group_lists WHERE group_id = ?", (key,))
            case ls.ContactListCreated():
                cursor.execute(
                    "INSERT INTO hierarchy_lists VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (key, str(event.account_id), event.name, event.settings.channel),
                )
            case ls.ContactListChanged():
                cursor.execute(
                    "UPDATE hierarchy_lists SET name = ?, channel = ? WHERE id = ?",
                    (event.name, event.settings.channel, key),
                )
            case ls.ContactListArchived():
                cursor.execute("DELETE FROM hierarchy_lists WHERE id = ?", (key,))
            case _ if type(event) in STATUS_AFTER:
                cursor.execute(
                    "UPDATE hierarchy_groups SET status = ? WHERE id = ?",
                    (STATUS_AFTER[type(event)], key),
                )

    @staticmethod
    def _set_lists(cursor: Cursor, group_id: str, list_ids: list[UUID]) -> None:
        cursor.execute("DELETE FROM hierarchy_group_lists WHERE group_id = ?", (group_id,))
        cursor.executemany(
            "INSERT INTO hierarchy_group_lists VALUES (?, ?, ?)",
            [(group_id, str(list_id), ordinal) for ordinal, list_id in enumerate(list_ids)],
        )


def dump_rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every hierarchy table, sorted: what replay-equals-live compares."""
    return dump_tables(db, TABLES)


class HierarchyQueries:
    def __init__(self, db: Database):
        self.db = db

    def tree(self, account_id: UUID) -> Hierarchy:
        account = str(account_id)
        with self.db.reading() as cursor:
            cursor.execute(
                "SELECT id, name FROM hierarchy_templates WHERE account_id = ? ORDER BY name, id",
                (account,),
            )
            templates = cursor.fetchall()
            cursor.execute(
                "SELECT id, template_id, name, status, agent_group FROM hierarchy_groups "
                "WHERE account_id = ? ORDER BY name, id",
                (account,),
            )
            groups = cursor.fetchall()
            cursor.execute(
                "SELECT id, name, channel FROM hierarchy_lists WHERE account_id = ? ORDER BY name, id",
                (account,),
            )
            contact_lists = {row[0]: ListNode(UUID(row[0]), row[1], row[2]) for row in cursor.fetchall()}
            cursor.execute(
                "SELECT gl.group_id, gl.list_id FROM hierarchy_group_lists gl "
                "JOIN hierarchy_groups g ON g.id = gl.group_id WHERE g.account_id = ? "
                "ORDER BY gl.group_id, gl.ordinal",
                (account,),
            )
            memberships = cursor.fetchall()
        lists_of: dict[str, list[ListNode]] = {}
        assigned: set[str] = set()
        for group_id, list_id in memberships:
            if list_id in contact_lists:
                lists_of.setdefault(group_id, []).append(contact_lists[list_id])
                assigned.add(list_id)
        groups_of: dict[str, list[GroupNode]] = {}
        for group_id, template_id, name, status, agent_group in groups:
            groups_of.setdefault(template_id, []).append(
                GroupNode(UUID(group_id), name, status, agent_group, lists_of.get(group_id, []))
            )
        return Hierarchy(
            templates=[
                TemplateNode(UUID(template_id), name, groups_of.get(template_id, []))
                for template_id, name in templates
            ],
            unassigned_contact_lists=[n for k, n in contact_lists.items() if k not in assigned],
        )
