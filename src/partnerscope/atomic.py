"""Files replaced whole or not at all: written beside the old one, then swapped in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """A temporary path to write ``path``'s new content to; it replaces ``path`` when the block
    ends without an error, and is removed when it fails."""
    temp = path.with_name(f".{path.name}.tmp")
    try:
        yield temp
        temp.replace(path)
    finally:
        temp.unlink(missing_ok=True)


def write_bytes(path: Path, content: bytes) -> None:
    with replacing(path) as temp:
        temp.write_bytes(content)
