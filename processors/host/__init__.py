"""The one processor host: the lifecycle every hosted thing shares (``lifecycle``), the
processor contract (``processor``) and its hosts — following the store's log in process
(``embedded``) or as a Kafka consumer group (``kafka``). Retry-on-conflict is
:func:`dialstream.store.retry_on_conflict`, beside the store, for handlers and hosts alike."""
