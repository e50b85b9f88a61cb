"""Scenarios: a seeded Monte Carlo of channel revenue, margin, coverage and control per option."""
