"""Derived entities of product mix (product families joined to opportunities)."""

from __future__ import annotations

from partnerscope.metrics.entity import Entity

ENTITIES: tuple[Entity, ...] = ()
