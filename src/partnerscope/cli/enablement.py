"""`partnerscope enablement` (being built: docs/lifecycle.md)."""
