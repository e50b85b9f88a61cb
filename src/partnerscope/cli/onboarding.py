"""`partnerscope onboarding` (being built: docs/lifecycle.md)."""
