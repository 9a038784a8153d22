"""Outputs to the tools operators already use (docs/OUTPUTS.md).

- :mod:`.cot`: tracks and alerts as Cursor-on-Target events (pure; ``cot_types.toml``);
- :mod:`.tak`: :class:`~.tak.TakOutput`, CoT to a TAK server or clients (TCP, TLS, UDP);
- :mod:`.webhook`: :class:`~.webhook.WebhookOutput`, an HTTP POST per matching alert;
- :mod:`.cat062`: fused tracks as ASTERIX CAT062 records (pure), and
  :mod:`.asterix_out`: :class:`~.asterix_out.Cat062Output`, sending them over UDP;
- :mod:`.publisher`: :class:`~.publisher.Publisher`, the bus consumer feeding them.
  (:mod:`skywarden.backoff` holds the retry delays they share with the feeds.)

Outputs observe and warn; none directs weapons. Every output belongs to one nation and
sends only what that nation may see. This package imports nothing on its own: import
the module you need.
"""
