"""The inputs of a scenario model: each a probability distribution with its unit and provenance.

A :class:`Distribution` is frozen data (it goes into decision records) and turns uniforms into
values with its inverse CDF, so that every option and every break-even evaluation can reuse the
same uniforms (common random numbers). Input names are a fixed set; the tiered ones carry the
program tier after a dot, e.g. ``productivity.Gold``.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Array = npt.NDArray[np.float64]

DistName = Literal["fixed", "normal", "lognormal", "uniform", "triangular"]
#: measured from a run, assumed by default, set in the configuration, or taken from a run's
#: forecast (the next year's revenue growth, :func:`partnerscope.scenarios.calibration.calibrate`)
Source = Literal["measured", "assumed", "config", "forecast"]

#: The parameters each shape takes, in the order they are written.
PARAMETERS: dict[str, tuple[str, ...]] = {
    "fixed": ("value",),
    "normal": ("mean", "sd"),
    "lognormal": ("median", "sigma"),
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
}
ALL_PARAMETERS = ("value", "mean", "sd", "median", "sigma", "low", "mode", "high")

#: Inputs with one value per program tier: ``<name>.<tier>``.
TIERED = ("active_partners", "productivity")
#: Every other input, with its unit.
UNITS: dict[str, str] = {
    "active_partners": "partners",
    "productivity": "closed deals per partner per month",
    "recruit_productivity": "closed deals per recruit per month, fully ramped",
    "recruitment_velocity": "new partners per month",
    "ramp_months": "months",
    "churn": "share of partners leaving per month",
    "win_rate": "share of closed deals won",
    "deal_size": "money per won deal",
    "mdf_spend": "money per month",
    "mdf_elasticity": "revenue elasticity to MDF spend",
    "gross_margin": "share of revenue",
    "incentive_rate": "share of revenue",
    "cost_per_partner": "money per partner per month",
    "coverage_start": "share of target accounts",
    "compliance_existing": "compliance score 0–100",
    "compliance_recruits": "compliance score 0–100",
    "program_cost": "money per month",
    "one_off_cost": "money, in month 1",
}
SCALARS = tuple(name for name in UNITS if name not in TIERED)
#: Drawn values are clipped to these ranges; everything else to ≥ 0.
SHARES = frozenset({"churn", "win_rate", "gross_margin", "incentive_rate", "coverage_start"})
SCORES = frozenset({"compliance_existing", "compliance_recruits"})
#: Inputs that describe today's state rather than an uncertain rate: never spread.
STATE = frozenset({"active_partners", "coverage_start"})
#: Values of the inputs no run measures.
ASSUMED: dict[str, float] = {
    "ramp_months": 6.0,
    "mdf_elasticity": 0.1,
    "churn": 0.01,
    "gross_margin": 0.7,
    "program_cost": 0.0,
    "one_off_cost": 0.0,
}
#: Costs of an option: a plain amount, not spread.
COSTS = frozenset({"program_cost", "one_off_cost"})


def family(name: str) -> str:
    """``productivity`` for ``productivity.Gold``; the name itself for a scalar input."""
    head, dot, _ = name.partition(".")
    return head if dot and head in TIERED else name


#: Inputs that are money in the workspace currency.
MONEY = frozenset({"deal_size", "mdf_spend", "cost_per_partner", "program_cost", "one_off_cost"})


def kind(name: str) -> str:
    """How an input's value is written (:meth:`partnerscope.present.Words.in_kind`): ``share``,
    ``score``, ``count``, ``money`` or ``number``."""
    head = family(name)
    if head in SHARES:
        return "share"
    if head in SCORES:
        return "score"
    if head == "active_partners":
        return "count"
    if head in MONEY:
        return "money"
    return "number"


def tier_of(name: str) -> str | None:
    head, dot, tier = name.partition(".")
    return tier if dot and head in TIERED else None


def bounds(name: str) -> tuple[float, float]:
    """The range a drawn value of ``name`` is clipped to."""
    if name in SHARES:
        return 0.0, 1.0
    if name in SCORES:
        return 0.0, 100.0
    return 0.0, math.inf


def name_problem(name: str, tiers: Iterable[str] | None = None) -> str | None:
    """Why ``name`` is not an input (with a did-you-mean), or None. ``tiers``: the known program
    tiers; None accepts any tier after ``active_partners.`` and ``productivity.``."""
    known_tiers = None if tiers is None else list(tiers)
    head, dot, tier = name.partition(".")
    if dot and head in TIERED and tier and (known_tiers is None or tier in known_tiers):
        return None
    if not dot and name in SCALARS:
        return None
    if dot and head not in TIERED:
        # a misspelt tiered name: suggest the right head with the tier as written
        heads = difflib.get_close_matches(head, TIERED, n=1)
        close = [f"{heads[0]}.{tier}"] if heads else []
    else:
        tiered = [f"{t}.{x}" for t in TIERED for x in known_tiers or []]
        close = difflib.get_close_matches(name, [*SCALARS, *tiered], n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    if name in TIERED or (dot and head in TIERED and not tier):
        return f"{name!r} needs a program tier: {head}.<tier>, e.g. {head}.Gold"
    if dot and head in TIERED and known_tiers is not None:
        listed = ", ".join(known_tiers) or "none"
        return f"no program tier {tier!r} (the tiers are {listed}){hint}"
    return f"no input {name!r}{hint}"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Distribution(_Frozen):
    """A probability distribution of one input; a bare number in TOML is ``fixed``."""

    dist: DistName
    value: float | None = None
    mean: float | None = None
    sd: float | None = None
    median: float | None = None
    sigma: float | None = None
    low: float | None = None
    mode: float | None = None
    high: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, bool):
            return data  # rejected below: true is not a number
        if isinstance(data, int | float):
            return {"dist": "fixed", "value": data}
        if isinstance(data, dict) and "dist" not in data:
            given = {k for k, v in data.items() if v is not None}
            for shape, names in PARAMETERS.items():
                if given == set(names):
                    return {"dist": shape, **data}
            shapes = ", ".join(f"{k} ({', '.join(v)})" for k, v in PARAMETERS.items())
            raise ValueError(f"name the shape with dist = one of {shapes}")
        return data

    @model_serializer(mode="wrap")
    def _compact(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # only the shape's own parameters: the unused ones are always None
        data: dict[str, Any] = handler(self)
        return {k: v for k, v in data.items() if v is not None}

    @model_validator(mode="after")
    def _complete(self) -> Distribution:
        problems = []
        needed = PARAMETERS[self.dist]
        for name in needed:
            value = getattr(self, name)
            if value is None:
                problems.append(f"a {self.dist} distribution needs {name}: add {name} = <number>")
            elif not math.isfinite(value):
                problems.append(f"{name} is {value}; give a finite number")
        stray = [n for n in ALL_PARAMETERS if n not in needed and getattr(self, n) is not None]
        if stray:
            problems.append(
                f"a {self.dist} distribution takes {' and '.join(needed)}, not "
                f"{', '.join(stray)}: remove {', '.join(stray)}"
            )
        if not problems:
            problems.extend(self._order_problems())
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _order_problems(self) -> list[str]:
        problems = []
        for spread in ("sd", "sigma"):
            value = getattr(self, spread)
            if value is not None and value < 0:
                problems.append(f"{spread} is {value:g}; give {spread} ≥ 0")
        if self.median is not None and self.median < 0:
            problems.append(f"median is {self.median:g}; a lognormal median must be ≥ 0")
        low, mode, high = self.low, self.mode, self.high
        if low is not None and high is not None and low > high:
            problems.append(f"low ({low:g}) is above high ({high:g}); give low ≤ high")
        if mode is not None and low is not None and high is not None and not low <= mode <= high:
            problems.append(f"mode ({mode:g}) is outside low..high; give low ≤ mode ≤ high")
        return problems

    @classmethod
    def fixed(cls, value: float) -> Distribution:
        return cls(dist="fixed", value=value)

    def params(self) -> tuple[float, ...]:
        """The shape's parameters, in the order of :data:`PARAMETERS`."""
        return tuple(float(getattr(self, name)) for name in PARAMETERS[self.dist])

    def center(self) -> float:
        """value, mean, median, the middle of low..high, or mode."""
        p = self.params()
        match self.dist:
            case "uniform":
                return (p[0] + p[1]) / 2
            case "triangular":
                return p[1]
            case "fixed" | "normal" | "lognormal":
                return p[0]

    def shifted(self, to: float) -> Distribution:
        """The same shape moved so that its center is ``to`` (a lognormal's median is rescaled)."""
        p = self.params()
        delta = to - self.center()
        match self.dist:
            case "fixed":
                return self.model_copy(update={"value": to})
            case "normal":
                return self.model_copy(update={"mean": to})
            case "lognormal":
                return self.model_copy(update={"median": max(to, 0.0)})
            case "uniform":
                return self.model_copy(update={"low": p[0] + delta, "high": p[1] + delta})
            case "triangular":
                return self.model_copy(
                    update={"low": p[0] + delta, "mode": p[1] + delta, "high": p[2] + delta}
                )

    def scaled(self, factor: float) -> Distribution:
        """Every value multiplied by ``factor`` ≥ 0 (a normal's sd by ``factor`` too)."""
        names = [n for n in PARAMETERS[self.dist] if n != "sigma"]
        return self.model_copy(update={n: float(getattr(self, n)) * factor for n in names})

    def quantile(self, u: Array) -> Array:
        """The inverse CDF at each of ``u`` (values in (0, 1)), vectorized."""
        import numpy as np
        from scipy.special import ndtri

        p = self.params()
        match self.dist:
            case "fixed":
                return np.full(u.shape, p[0])
            case "normal":
                return p[0] + p[1] * np.asarray(ndtri(u), dtype=np.float64)
            case "lognormal":
                return p[0] * np.exp(p[1] * np.asarray(ndtri(u), dtype=np.float64))
            case "uniform":
                return p[0] + (p[1] - p[0]) * u
            case "triangular":
                low, mode, high = p
                width = high - low
                if width == 0:
                    return np.full(u.shape, low)
                split = (mode - low) / width
                rising = low + np.sqrt(u * width * (mode - low))
                falling = high - np.sqrt((1 - u) * width * (high - mode))
                return np.where(u < split, rising, falling)

    def at(self, q: float) -> float:
        """The ``q`` quantile."""
        import numpy as np

        return float(self.quantile(np.array([q]))[0])


class Override(_Frozen):
    """``{scale = 1.2}`` in an option: the base distribution with every value scaled."""

    scale: Annotated[float, Field(ge=0, allow_inf_nan=False)]

    def resolve(self, base: Distribution) -> Distribution:
        return base.scaled(self.scale)


class Input(_Frozen):
    distribution: Distribution
    unit: str
    source: Source
    #: Where the value comes from, e.g. "win_rate of the portfolio, 12 months to 2026-09, run 3".
    note: str = ""


def spread(name: str, value: float, source: Source) -> Distribution:
    """The default distribution around a point value: ±10 % (sd) for what was measured or
    configured, a triangle from half to one and a half times for what is assumed, and none
    for today's state and for costs."""
    if family(name) in STATE or name in COSTS:
        return Distribution.fixed(value)
    if source == "assumed":
        return Distribution(dist="triangular", low=0.5 * value, mode=value, high=1.5 * value)
    return Distribution(dist="normal", mean=value, sd=0.1 * abs(value))


def make_input(name: str, value: float, source: Source, note: str) -> Input:
    """An input with its default spread (see :func:`spread`) and its unit."""
    return Input(
        distribution=spread(name, value, source), unit=UNITS[family(name)], source=source, note=note
    )


class Inputs(Mapping[str, Input]):
    """Every input of the model by name, checked: each scalar input once, and for each program
    tier both ``active_partners.<tier>`` and ``productivity.<tier>``."""

    def __init__(self, inputs: Mapping[str, Input]) -> None:
        self._inputs = dict(sorted(inputs.items()))
        problems = [
            f"{name}: {problem}"
            for name in self._inputs
            if (problem := name_problem(name)) is not None
        ]
        problems += [f"{name}: missing" for name in SCALARS if name not in self._inputs]
        for tier in self.tiers:
            problems += [
                f"{head}.{tier}: missing (every tier needs active_partners and productivity)"
                for head in TIERED
                if f"{head}.{tier}" not in self._inputs
            ]
        if problems:
            raise ValueError("; ".join(problems))

    @classmethod
    def from_distributions(
        cls, values: Mapping[str, Distribution | float], source: Source = "config", note: str = ""
    ) -> Inputs:
        """Inputs from distributions (a number is fixed), all with the same source."""
        return cls(
            {
                name: Input(
                    distribution=value
                    if isinstance(value, Distribution)
                    else Distribution.fixed(value),
                    unit=UNITS.get(family(name), ""),
                    source=source,
                    note=note,
                )
                for name, value in values.items()
            }
        )

    @property
    def tiers(self) -> list[str]:
        """The program tiers, sorted."""
        return sorted({t for name in self._inputs if (t := tier_of(name)) is not None})

    def distributions(self) -> dict[str, Distribution]:
        return {name: item.distribution for name, item in self._inputs.items()}

    def replaced(self, distributions: Mapping[str, Distribution], note: str) -> Inputs:
        """These inputs with some distributions replaced (source "config", with ``note``)."""
        merged = dict(self._inputs)
        for name, dist in distributions.items():
            merged[name] = Input(
                distribution=dist, unit=UNITS.get(family(name), ""), source="config", note=note
            )
        return Inputs(merged)

    def __getitem__(self, name: str) -> Input:
        return self._inputs[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._inputs)

    def __len__(self) -> int:
        return len(self._inputs)

    def __repr__(self) -> str:
        return f"Inputs({self._inputs!r})"
