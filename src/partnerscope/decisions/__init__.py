"""Decisions: records that cite measured evidence, scenario models, review cadence and
reversal signals checked on every run (see docs/user-guide.md, "Decisions")."""
