"""GET /metrics: Prometheus' text format, for a scraper holding an API key of the account.

The account's figures come from the read models, so every process that serves the API gives
the same answer whichever worker dialled (a dialer on Kafka has no port of its own to scrape):

- ``dialstream_dial_rate_per_minute``: attempts each campaign group placed in the last 60 s;
- ``dialstream_call_attempts_total``: attempts each group ever placed;
- ``dialstream_abandon_rate_percent`` (``window`` 24h / 30d): abandoned ÷ live answers, and
  ``dialstream_abandon_target_percent``, the account's target, to alert against;
- ``dialstream_predial_denials_total`` (``reason``: the gate's reason codes, ``suppressed``,
  ``outside_hours``, ``index_unavailable``...): draws the pre-dial gate denied;
- ``dialstream_import_rows_per_second``: rows a running import job has read per second.

The system's, for any key: ``dialstream_log_position`` (the event store's head),
``dialstream_relay_lag_events`` (on Kafka: stored, not yet published),
``dialstream_read_model_lag_events`` (per read model) and ``dialstream_processor_lag_events``
(per processor or follower this process hosts), each in events behind the head.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

from fastapi import APIRouter, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from dialstream.bootstrap import Runtime
from domain.campaign_group import CampaignGroup
from gateway.deps import Reader, RuntimeDep
from projections.catalogue import ACCOUNT, CAMPAIGN_GROUP
from schemas.settings import PacingSettings

router = APIRouter(tags=["metrics"])

DIAL_RATE_SPAN = timedelta(seconds=60)
# The text format every Prometheus server reads (the library's "latest" names a newer one).
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
GROUP = ["account_id", "campaign_group_id", "campaign_group"]


class AccountCollector:
    """The families of one scrape, read when the registry asks."""

    def __init__(self, runtime: Runtime, account_id: UUID, now: datetime):
        self.runtime = runtime
        self.account_id = account_id
        self.now = now

    def collect(self) -> Iterator[Metric]:
        yield from self._campaigns()
        yield self._imports()
        yield from self._system()

    def _campaigns(self) -> Iterator[Metric]:
        activity, account_id = self.runtime.activity, self.account_id
        groups: dict[UUID, CampaignGroup] = {
            group.id: group for group in self.runtime.catalogue.list_kind(account_id, CAMPAIGN_GROUP)
        }
        attempts = activity.attempts_by_group(account_id)
        denials = activity.gate_denials(account_id)

        def labels(group_id: UUID) -> list[str]:
            group = groups.get(group_id)
            return [str(account_id), str(group_id), "" if group is None else group.name]

        rate = GaugeMetricFamily(
            "dialstream_dial_rate_per_minute",
            "Attempts the campaign group placed in the last 60 s",
            labels=GROUP,
        )
        abandon = GaugeMetricFamily(
            "dialstream_abandon_rate_percent",
            "Abandoned calls per 100 answered by a live person, over the window",
            labels=[*GROUP, "window"],
        )
        for group_id in sorted(groups.keys() | attempts.keys()):
            rate.add_metric(labels(group_id), activity.attempts_since(group_id, self.now - DIAL_RATE_SPAN))
            windows = activity.abandon_windows(group_id, self.now)
            abandon.add_metric([*labels(group_id), "24h"], windows.day.rate)
            abandon.add_metric([*labels(group_id), "30d"], windows.month.rate)
        yield rate
        yield abandon
        total = CounterMetricFamily(
            "dialstream_call_attempts", "Attempts the campaign group placed", labels=GROUP
        )
        for group_id, count in sorted(attempts.items()):
            total.add_metric(labels(group_id), count)
        yield total
        denied = CounterMetricFamily(
            "dialstream_predial_denials",
            "Draws the pre-dial gate denied, by reason (a draw denied for two reasons counts under each)",
            labels=[*GROUP, "reason"],
        )
        for (group_id, reason), count in sorted(denials.items()):
            denied.add_metric([*labels(group_id), reason], count)
        yield denied
        account = self.runtime.catalogue.get(account_id, ACCOUNT, account_id)
        pacing = account.settings.pacing if account is not None else PacingSettings()
        target = GaugeMetricFamily(
            "dialstream_abandon_target_percent", "The account's target abandon rate", labels=["account_id"]
        )
        target.add_metric([str(account_id)], pacing.target_abandon_rate)
        yield target

    def _imports(self) -> Metric:
        family = GaugeMetricFamily(
            "dialstream_import_rows_per_second",
            "Rows a running import job has read per second since it started",
            labels=["account_id", "import_job_id", "list_id", "file_name"],
        )
        for job in self.runtime.import_jobs.running(self.account_id):
            if job.started_on is None:
                continue
            seconds = (self.now - job.started_on).total_seconds()
            family.add_metric(
                [str(self.account_id), str(job.id), str(job.list_id), job.file_name],
                job.counts.rows / seconds if seconds > 0 else 0.0,
            )
        return family

    def _system(self) -> Iterator[Metric]:
        runtime = self.runtime
        head = runtime.store.position()
        yield GaugeMetricFamily("dialstream_log_position", "The event store's head position", value=head)
        relayed = runtime.bus.relayed_to()
        if relayed is not None:
            yield GaugeMetricFamily(
                "dialstream_relay_lag_events",
                "Events stored and not yet published to Kafka",
                value=max(head - relayed, 0),
            )
        read_models = GaugeMetricFamily(
            "dialstream_read_model_lag_events",
            "Events the read model has still to apply",
            labels=["read_model"],
        )
        for name, position in sorted(runtime.bus.read_model_positions().items()):
            read_models.add_metric([name], max(head - position, 0))
        yield read_models
        processors = GaugeMetricFamily(
            "dialstream_processor_lag_events",
            "Events the processor hosted by this process has still to handle",
            labels=["processor"],
        )
        for name, service in sorted(runtime.services.items()):
            caught_up_to = getattr(service, "caught_up_to", None)  # sweeps and runners have no position
            reached = caught_up_to() if caught_up_to is not None else None
            if reached is not None:
                processors.add_metric([name], max(head - reached, 0))
        yield processors


@router.get(
    "/metrics",
    summary="Prometheus metrics: dial and abandon rates, gate denials, imports, lags",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus' text format"}},
)
def metrics(runtime: RuntimeDep, caller: Reader) -> Response:
    """The caller's account's campaign, gate and import figures and the system's lags (see
    :mod:`gateway.routes.metrics`), in Prometheus' text exposition format. Scrape it with the
    key as a bearer token (``authorization: {credentials: <key>}`` in the scrape config)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(AccountCollector(runtime, caller.account_id, runtime.handlers.clock().astimezone(UTC)))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE)
