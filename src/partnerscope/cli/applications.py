"""`partnerscope applications` (being built: docs/lifecycle.md)."""
