"""(being built: issue 30)"""

from __future__ import annotations

from fastapi import APIRouter

pages = APIRouter()
api = APIRouter(tags=["retention"])
