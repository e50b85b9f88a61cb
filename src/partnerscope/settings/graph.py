"""Prerequisites between the items of a section (onboarding tasks, certification levels)."""

from __future__ import annotations


def find_cycle(requires: dict[str, tuple[str, ...]]) -> list[str] | None:
    """A cycle of prerequisites as the path that closes it (``[a, b, a]``), or None."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(key: str) -> list[str] | None:
        state[key] = 1
        path.append(key)
        for other in requires.get(key, ()):
            if state.get(other) == 1:
                return [*path[path.index(other) :], other]
            if other in requires and other not in state:
                found = visit(other)
                if found:
                    return found
        path.pop()
        state[key] = 2
        return None

    for key in requires:
        if key not in state:
            found = visit(key)
            if found:
                return found
    return None
