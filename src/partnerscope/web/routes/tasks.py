"""Stub: filled by its owner (docs/notifications.md)."""

from __future__ import annotations

from fastapi import APIRouter

pages = APIRouter()
api = APIRouter(tags=["tasks"])
