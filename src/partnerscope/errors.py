"""The exception hierarchy.

Every error a user can cause derives from :class:`PartnerscopeError`; the CLI prints its message as
one red line and exits with code 1. Each subclass also inherits the matching built-in so that
callers that catch ``ValueError`` or ``FileNotFoundError`` keep working.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence


class PartnerscopeError(Exception):
    """Root of every error partnerscope raises on purpose."""

    def told(self, sees: Callable[[str], bool]) -> str:
        """The message as told to a viewer who may see the partners ``sees`` accepts: the whole
        message, unless it names a partner the viewer may not see (an error that can name
        another partner overrides this; the web answers every refusal with it)."""
        return str(self)


class ConfigError(PartnerscopeError, ValueError):
    """The workspace configuration is invalid. Carries every problem found, not only the first."""

    def __init__(self, path: str, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = list(problems)
        count = len(self.problems)
        head = f"{path}: {count} problem{'s' if count != 1 else ''} in the configuration"
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problems)]))


class WorkspaceError(PartnerscopeError, FileNotFoundError):
    """The folder is not a workspace, or the workspace is not in a usable state."""


class WorkspaceBusyError(PartnerscopeError, RuntimeError):
    """Another partnerscope command holds the workspace lock."""


class DataFileError(PartnerscopeError, ValueError):
    """A whole input file cannot be read as the entity it is declared as (wrong file, wrong columns,
    empty, binary). Row-level problems never raise: those rows are quarantined."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``; did you mean 'x'?`` for the choice closest to ``word``, else nothing: the hint an
    error message ends with."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""
