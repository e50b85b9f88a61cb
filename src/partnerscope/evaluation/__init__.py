"""Evaluation: scorecards, tiers, flags and alerts from a run's metric values."""
