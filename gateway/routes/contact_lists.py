"""/api/v1/contact-lists: lists, their channel, time-zone options and retention."""

from __future__ import annotations

from domain.contact_list import ChangeContactList, ContactList, CreateContactList
from gateway.deps import Supervisor
from gateway.routes.resource import Resource
from projections.catalogue import CONTACT_LIST

resource = Resource(
    prefix="/api/v1/contact-lists",
    tag="contact lists",
    kind=CONTACT_LIST,
    label="contact list",
    state_type=ContactList,
    create=CreateContactList,
    change=ChangeContactList,
    writer=Supervisor,
    id_name="list_id",
    create_with=lambda handlers, account_id, command: handlers.lists.create(account_id, command),
    change_with=lambda handlers, account_id, list_id, command, expected: handlers.lists.change(
        account_id, list_id, command, expected_version=expected
    ),
    delete_with=lambda handlers, account_id, list_id, expected: handlers.lists.archive(
        account_id, list_id, expected_version=expected
    ),
    delete_summary="Archive a contact list",
)
router = resource.router
