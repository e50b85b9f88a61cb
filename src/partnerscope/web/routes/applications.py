"""The applications pages and API of the web app (being built: docs/lifecycle.md)."""

from __future__ import annotations

from fastapi import APIRouter

pages = APIRouter()
api = APIRouter(tags=["applications"])
