"""Derived entities of market coverage (territories) and channel conflict."""

from __future__ import annotations

from partnerscope.metrics.entity import Entity

ENTITIES: tuple[Entity, ...] = ()
