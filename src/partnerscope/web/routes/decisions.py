"""Decisions (Frame → Compare → Commit, reviews) and scenarios."""

from __future__ import annotations

from fastapi import APIRouter

pages = APIRouter()
api = APIRouter(tags=["decisions"])
