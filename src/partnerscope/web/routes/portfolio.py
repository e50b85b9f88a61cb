"""The portfolio: dashboard, tiers and pending moves, alerts, runs, data quality, audit log."""

from __future__ import annotations

from fastapi import APIRouter

pages = APIRouter()
api = APIRouter(tags=["portfolio"])
