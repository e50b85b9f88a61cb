"""`partnerscope market` (being built: docs/lifecycle.md)."""
