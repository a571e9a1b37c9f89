"""SMS and e-mail campaigns' channels: the :mod:`~processors.channels.port` and its adapters.

:mod:`~processors.channels.email` submits over SMTP, :mod:`~processors.channels.sms` posts to
a CPaaS provider's HTTP API; :mod:`~processors.channels.templates` makes an attempt's message
from the campaign's template and the record.
"""
