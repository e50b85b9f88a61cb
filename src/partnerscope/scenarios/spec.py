"""The scenario spec: horizon, trials, seed, input overrides, options and decision criteria.

It is read from a TOML file and stored in decision records as JSON, so it round-trips through
``model_dump(mode="json")``. Validation reports every problem at once, each located
(``options[1].overrides.win_rat: no input 'win_rat'; did you mean 'win_rate'?``).
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from partnerscope.errors import PartnerscopeError
from partnerscope.scenarios.inputs import (
    ALL_PARAMETERS,
    TIERED,
    Distribution,
    Override,
    name_problem,
)

Outcome = Literal["revenue", "margin", "coverage", "control", "partners"]
Statistic = Literal["p10", "p50", "p90", "mean"]
_TAGS = ("distribution", "override")
#: Prefix of a line in a validator's message that extends the location (see _problems).
_AT = "@"


class ScenarioSpecError(PartnerscopeError, ValueError):
    """A scenario spec is invalid. Carries every problem found, each located."""

    def __init__(self, where: str, problems: Sequence[str]) -> None:
        self.where = where
        self.problems = list(problems)
        if len(self.problems) == 1:
            text = self.problems[0]
        else:
            numbered = " ".join(f"({i}) {p}" for i, p in enumerate(self.problems, 1))
            text = f"{len(self.problems)} problems: {numbered}"
        # one line: the CLI prints it as one red line
        super().__init__(f"{where}: {text}")


def _which(value: Any) -> str:
    if isinstance(value, Override) or (isinstance(value, dict) and "scale" in value):
        return "override"
    return "distribution"


OverrideValue = Annotated[
    Annotated[Distribution, Tag("distribution")] | Annotated[Override, Tag("override")],
    Discriminator(_which),
]


def _flatten_tiers(value: Any) -> Any:
    """TOML reads ``productivity.Gold = 3`` as a table; the model names it ``productivity.Gold``."""
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for name, item in value.items():
        nested = (
            name in TIERED
            and isinstance(item, dict)
            and not {"dist", "scale"} & set(item)
            and not set(item) <= set(ALL_PARAMETERS)
        )
        if nested:
            out.update({f"{name}.{tier}": v for tier, v in item.items()})
        else:
            out[name] = item
    return out


def _names_problems(names: Sequence[str], listed: bool = False) -> list[str]:
    lines = []
    for i, name in enumerate(names):
        problem = name_problem(name)
        if problem is not None:
            lines.append(f"{_AT}[{i}]: {problem}" if listed else f"{_AT}{name}: {problem}")
    return lines


def _known_names(value: dict[str, Any]) -> dict[str, Any]:
    lines = _names_problems(list(value))
    if lines:
        raise ValueError("\n".join(lines))
    return value


#: Input names to distributions or overrides: TOML's nested tiers flattened, each name checked.
Inputs = Annotated[
    dict[str, Distribution], BeforeValidator(_flatten_tiers), AfterValidator(_known_names)
]
Overrides = Annotated[
    dict[str, OverrideValue], BeforeValidator(_flatten_tiers), AfterValidator(_known_names)
]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(_Frozen):
    """A course of action: the base inputs with some of them overridden."""

    key: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")]
    label: str = ""
    description: str = ""
    #: A distribution replaces the base one; ``{scale = k}`` multiplies it.
    overrides: Overrides = Field(default_factory=dict)

    @property
    def title(self) -> str:
        return self.label or self.key


class Criterion(_Frozen):
    """One decision criterion: an outcome's statistic, or scores people give each option."""

    name: Annotated[str, Field(min_length=1)]
    weight: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    outcome: Outcome | None = None
    statistic: Statistic = "p50"
    #: 0–10 per option key, for a criterion judged by people (``outcome`` unset)
    scores: dict[str, Annotated[float, Field(ge=0, le=10)]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _outcome_or_scores(self) -> Criterion:
        if self.outcome is None and not self.scores:
            raise ValueError(
                "give an outcome (revenue, margin, coverage, control, partners) or, for a "
                "criterion people judge, scores = { A = 7, B = 5 } (0–10 per option)"
            )
        if self.outcome is not None and self.scores:
            raise ValueError(f"give an outcome ({self.outcome}) or scores, not both")
        return self


def _default_options() -> list[Option]:
    return [Option(key="A", label="Keep the current approach")]


def _default_criteria() -> list[Criterion]:
    return [
        Criterion(name="Contribution margin", weight=0.5, outcome="margin"),
        Criterion(name="Channel revenue", weight=0.3, outcome="revenue"),
        Criterion(name="Control", weight=0.2, outcome="control"),
    ]


class ScenarioSpec(_Frozen):
    horizon_months: Annotated[int, Field(ge=1, le=120)] = 36
    trials: Annotated[int, Field(ge=1, le=1_000_000)] = 10_000
    seed: Annotated[int, Field(ge=0)] = 0
    #: Distributions that replace the calibrated ones for every option.
    inputs: Inputs = Field(default_factory=dict)
    options: Annotated[list[Option], Field(min_length=1)] = Field(default_factory=_default_options)
    criteria: Annotated[list[Criterion], Field(min_length=1)] = Field(
        default_factory=_default_criteria
    )
    #: Inputs of the tornado and the break-even search; None: every input not fixed.
    key_assumptions: list[str] | None = None
    #: Key of the option whose outcomes scale the criteria; None: the first option.
    baseline: str | None = None

    @field_validator("key_assumptions")
    @classmethod
    def _assumption_names(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        lines = _names_problems(value, listed=True)
        lines += [
            f"{_AT}[{i}]: {n!r} is listed twice" for i, n in enumerate(value) if n in value[:i]
        ]
        if lines:
            raise ValueError("\n".join(lines))
        return value

    @field_validator("options")
    @classmethod
    def _unique_keys(cls, value: list[Option]) -> list[Option]:
        keys = [o.key for o in value]
        lines = [
            f"{_AT}[{i}].key: option key {k!r} is used twice; give each option its own key"
            for i, k in enumerate(keys)
            if k in keys[:i]
        ]
        if lines:
            raise ValueError("\n".join(lines))
        return value

    @field_validator("criteria")
    @classmethod
    def _weights(cls, value: list[Criterion]) -> list[Criterion]:
        lines = []
        total = sum(c.weight for c in value)
        if abs(total - 1.0) > 1e-9:
            lines.append(
                f"the weights sum to {total:.6g}; make them sum to 1 (each is the share of "
                "the decision the criterion carries)"
            )
        names = [c.name for c in value]
        lines += [
            f"{_AT}[{i}].name: criterion {n!r} is named twice"
            for i, n in enumerate(names)
            if n in names[:i]
        ]
        if lines:
            raise ValueError("\n".join(lines))
        return value

    @model_validator(mode="after")
    def _options_named(self) -> ScenarioSpec:
        keys = [o.key for o in self.options]
        lines = []
        if self.baseline is not None and self.baseline not in keys:
            lines.append(
                f"{_AT}baseline: no option {self.baseline!r}{_did_you_mean(self.baseline, keys)}"
            )
        for i, criterion in enumerate(self.criteria):
            if criterion.outcome is not None:
                continue
            where = f"{_AT}criteria[{i}].scores"
            lines += [
                f"{where}.{k}: no option {k!r}{_did_you_mean(k, keys)}"
                for k in criterion.scores
                if k not in keys
            ]
            lines += [
                f"{where}: no score for option {k!r}; give every option a score 0–10"
                for k in keys
                if k not in criterion.scores
            ]
        if lines:
            raise ValueError("\n".join(lines))
        return self

    @property
    def baseline_key(self) -> str:
        return self.baseline if self.baseline is not None else self.options[0].key


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


_FIELDS = sorted(
    {
        name
        for model in (ScenarioSpec, Option, Criterion, Distribution, Override)
        for name in model.model_fields
    }
)


def _where(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def problems(exc: ValidationError) -> list[str]:
    """Every problem of a failed validation, located and worded for a person."""
    out = []
    for err in exc.errors():
        # the tags of the distribution-or-override union are not keys the user wrote
        loc = [
            part
            for i, part in enumerate(err["loc"])
            if not (part in _TAGS and i >= 2 and err["loc"][i - 2] == "overrides")
        ]
        where = _where(loc)
        if err["type"] == "extra_forbidden":
            out.append(f"{where}: unknown key{_did_you_mean(str(loc[-1]), _FIELDS)}")
            continue
        if err["type"] == "missing":
            out.append(f"{where}: required key is missing")
            continue
        message = err["msg"].removeprefix("Value error, ")
        for line in message.split("\n"):
            if line.startswith(_AT):
                suffix, _, text = line[len(_AT) :].partition(": ")
                joined = where + (suffix if suffix.startswith("[") or not where else f".{suffix}")
                out.append(f"{joined}: {text}")
            else:
                value = err.get("input")
                got = "" if isinstance(value, dict | list) else f" (got {value!r})"
                out.append(f"{where or 'spec'}: {line}{got}")
    return list(dict.fromkeys(out))


def _raw_name_problems(data: Any) -> list[str]:
    """Unknown input names in raw spec data. Pydantic skips a dict's own validator when one of
    its values fails, so the names are checked here too, to report every problem at once."""
    if not isinstance(data, dict):
        return []
    out = []
    raw_inputs = _flatten_tiers(data.get("inputs"))
    if isinstance(raw_inputs, dict):
        out += [f"inputs.{n}: {p}" for n in raw_inputs if (p := name_problem(str(n)))]
    options = data.get("options")
    keys: list[object] = []
    for i, option in enumerate(options if isinstance(options, list) else []):
        key = option.get("key") if isinstance(option, dict) else None
        if key is not None and key in keys:
            out.append(
                f"options[{i}].key: option key {key!r} is used twice; give each option its own key"
            )
        keys.append(key)
        overrides = _flatten_tiers(option.get("overrides") if isinstance(option, dict) else None)
        if isinstance(overrides, dict):
            out += [
                f"options[{i}].overrides.{n}: {p}" for n in overrides if (p := name_problem(str(n)))
            ]
    return out


def parse_spec(data: Any, where: str = "scenario spec") -> ScenarioSpec:
    """A spec from plain data (a TOML document, a decision record's JSON)."""
    try:
        return ScenarioSpec.model_validate(data)
    except ValidationError as exc:
        found = problems(exc)
        raise ScenarioSpecError(
            where, list(dict.fromkeys(found + _raw_name_problems(data)))
        ) from None


def load_spec(path: Path) -> ScenarioSpec:
    """Read and validate a scenario spec TOML file."""
    where = str(path)
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioSpecError(where, ["no such file"]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioSpecError(where, [f"not valid TOML: {exc}"]) from None
    return parse_spec(raw, where)
