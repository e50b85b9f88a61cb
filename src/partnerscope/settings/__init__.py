"""The sections of ``partnerscope.toml``, one module per area, as validated models: what
:mod:`partnerscope.config` composes into a workspace's configuration.

They sit below every capability that reads them (evaluation, money, operations, reports), so
that the configuration can be loaded and checked without importing what it configures.
"""
