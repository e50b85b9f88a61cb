"""The ``[service]`` section of ``partnerscope.toml``: the themes partner survey comments are
counted by, beyond the built-in vocabulary (docs/service.md)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

#: a stem or a word: lower-case letters only (comments are compared casefolded, letter by letter)
Term = Annotated[str, StringConstraints(pattern=r"^[^\W\d_]+$", to_lower=True, max_length=40)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ThemeSettings(_Strict):
    """``[service.themes.KEY]``: a theme of partner comments. A built-in key (support, portal,
    margins, leads, mdf, training, communication, payments) adds its stems and words to the
    built-in ones (and may rename it); another key is a new theme, listed after them."""

    #: as shown; a new theme needs one
    label: Annotated[str, Field(min_length=1, max_length=60)] | None = None
    #: a word of a comment beginning with one of these belongs to the theme
    stems: tuple[Term, ...] = ()
    #: a word of a comment equal to one of these belongs to the theme
    words: tuple[Term, ...] = ()

    @model_validator(mode="after")
    def _some_term(self) -> ThemeSettings:
        if not self.stems and not self.words and self.label is None:
            raise ValueError("give the theme's stems or words (or a label for a built-in one)")
        return self


ThemeKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class ServiceSettings(_Strict):
    """``[service]``: service quality and satisfaction."""

    #: themes added to (or extending) the built-in vocabulary of partner comments
    themes: dict[ThemeKey, ThemeSettings] = Field(default_factory=dict)
