"""`partnerscope business-plans` (being built: docs/lifecycle.md)."""
