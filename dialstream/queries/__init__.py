"""Queries the gateway answers that need more than one read model: they load what the answer
needs (the event store, the read models, ports passed in) and leave the decisions to
``domain/``. Beside the command handlers; they change nothing."""
