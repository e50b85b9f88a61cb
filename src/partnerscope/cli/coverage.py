"""(being built: issue 30)"""

from __future__ import annotations
