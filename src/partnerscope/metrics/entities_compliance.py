"""Derived entities of compliance: checks and audits together."""

from __future__ import annotations

from partnerscope.metrics.entity import Entity

ENTITIES: tuple[Entity, ...] = ()
