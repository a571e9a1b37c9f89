"""The dialer's telephony: the :mod:`~processors.telephony.port` and its adapters.

The first adapter is :mod:`~processors.telephony.simulator` (virtual time for tests and
benchmarks, wall-clock time in ``dialstream up``).
"""
