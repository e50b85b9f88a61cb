"""Lead routing: value bands, territory or distance, certifications, tiers, capacity and each
partner's measured SLA; explained assignments, SLA breaches re-routed, declines honoured."""
