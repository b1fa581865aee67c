"""Delivery channels: each one sends an :class:`~alerts.channels.base.OutboundMessage` and reports an outcome."""
