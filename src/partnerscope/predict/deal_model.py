"""The deal model: boosted stumps (LightGBM, two leaves per tree) read back as one part per
feature (:class:`Steps`, exact contributions without ``pred_contrib``), calibrated out of time
(:func:`fit_at`), and each case's probability with its contributions (:func:`predict`). See
:mod:`partnerscope.predict.deals`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from partnerscope.predict.deal_cases import training_cases
from partnerscope.predict.deal_data import CATEGORICAL, FEATURES, Data, case_features

#: Fewest cases, with both outcomes, a model is trained on.
MIN_TRAIN = 200


#: Probabilities are kept within these bounds (a calibration step at the edge of its data would
#: otherwise say that a deal cannot be won, or cannot be lost).
CLIP = (0.01, 0.99)


@dataclass(frozen=True)
class Steps:
    """Boosted stumps read back as one function per feature: the model is additive (each
    stump splits one feature), so a deal's score is the bias plus one part per feature and
    each part is that feature's exact contribution (its SHAP value, once centred)."""

    bias: float
    #: numeric feature → (thresholds sorted, Σ right values of the thresholds below x
    #: (cumulative, from 0), Σ left values of the thresholds from x up (cumulative, from the
    #: end), the part of a missing value, the part of a zero)
    numeric: dict[int, tuple[Any, Any, Any, float, float]]
    #: categorical feature → its part for each code (the last: none or unseen)
    categorical: dict[int, npt.NDArray[np.float64]]

    @classmethod
    def of(cls, booster: Any, categories: dict[str, list[Any]]) -> Steps:
        bias = 0.0
        stumps: dict[int, list[tuple[Any, float, float, bool, str]]] = {}
        for tree in booster.dump_model()["tree_info"]:
            node = tree["tree_structure"]
            if "leaf_value" in node:
                bias += float(node["leaf_value"])
                continue
            left, right = node["left_child"], node["right_child"]
            stumps.setdefault(int(node["split_feature"]), []).append(
                (
                    node["threshold"],
                    float(left["leaf_value"]),
                    float(right["leaf_value"]),
                    bool(node["default_left"]),
                    str(node["missing_type"]),
                )
            )
        numeric: dict[int, tuple[Any, Any, Any, float, float]] = {}
        categorical: dict[int, npt.NDArray[np.float64]] = {}
        for index, name in enumerate(FEATURES):
            found = stumps.get(index, [])
            if name in CATEGORICAL:
                codes = np.arange(len(categories[name]) + 1)
                part = np.zeros(len(codes))
                for threshold, lv, rv, _default, _missing in found:
                    goes_left = np.isin(codes, [int(c) for c in str(threshold).split("||")])
                    part += np.where(goes_left, lv, rv)
                categorical[index] = part
                continue
            if not found:
                continue
            thresholds = np.asarray([float(f[0]) for f in found])
            order = np.argsort(thresholds, kind="stable")
            thresholds = thresholds[order]
            lefts = np.asarray([f[1] for f in found])[order]
            rights = np.asarray([f[2] for f in found])[order]
            below = np.concatenate([[0.0], np.cumsum(rights)])
            above = np.concatenate([np.cumsum(lefts[::-1])[::-1], [0.0]])
            nan_part = zero_part = 0.0
            for threshold, lv, rv, default_left, missing in found:
                t = float(threshold)
                nan_part += (
                    (lv if default_left else rv) if missing != "None" else (lv if t >= 0.0 else rv)
                )
                zero_part += (
                    (lv if default_left else rv) if missing == "Zero" else (lv if t >= 0.0 else rv)
                )
            numeric[index] = (thresholds, below, above, nan_part, zero_part)
        return cls(bias, numeric, categorical)

    def part(self, index: int, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64] | None:
        """One feature's part of the score for each of the values ``x`` (None: the feature
        has no stump, its part is 0)."""
        if index in self.categorical:
            out: npt.NDArray[np.float64] = self.categorical[index][x.astype(np.intp)]
            return out
        if index not in self.numeric:
            return None
        thresholds, below, above, nan_part, zero_part = self.numeric[index]
        # the stumps with a threshold below x send it right, the others left
        k = np.searchsorted(thresholds, x, side="left")
        part = below[k] + above[k]
        part = np.where(np.isnan(x), nan_part, part)
        return np.asarray(np.where(x == 0, zero_part, part), dtype=np.float64)

    def parts(self, matrix: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Each row's part of the score per feature (n × features)."""
        out = np.zeros(matrix.shape, dtype=np.float64)
        for index in range(matrix.shape[1]):
            part = self.part(index, matrix[:, index])
            if part is not None:
                out[:, index] = part
        return out

    def parts_by_feature(self, columns: list[npt.NDArray[np.float64]]) -> npt.NDArray[np.float64]:
        """The same parts from the features' columns, feature-major (features × n: each
        feature's parts contiguous, no n × features matrix to fill column by column)."""
        n = len(columns[0]) if columns else 0
        out = np.zeros((len(columns), n), dtype=np.float64)
        for index, column in enumerate(columns):
            part = self.part(index, column)
            if part is not None:
                out[index] = part
        return out


def row_sums(by_feature: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Each deal's sum over the features of a features × n array, bit for bit as
    ``matrix.sum(axis=1)`` adds each row of the n × features matrix, without making that
    matrix: numpy's pairwise summation of a row (below eight values, in turn from 0; else
    eight running sums over the first multiple of eight values, added in pairs, then the
    remaining values in turn). ``test_row_sums_are_numpys_bit_for_bit`` holds it to numpy."""
    count, n = by_feature.shape
    out = np.zeros(n, dtype=np.float64)
    if count < 8:
        for row in by_feature:
            out += row
        return out
    sums = [by_feature[j].copy() for j in range(8)]
    i = 8
    while i < count - count % 8:
        for j in range(8):
            sums[j] += by_feature[i + j]
        i += 8
    np.add(
        (sums[0] + sums[1]) + (sums[2] + sums[3]),
        (sums[4] + sums[5]) + (sums[6] + sums[7]),
        out=out,
    )
    for j in range(i, count):
        out += by_feature[j]
    return out


@dataclass(frozen=True)
class Model:
    booster: Any
    steps: Steps
    #: the categories of each categorical feature, in code order (sorted)
    categories: dict[str, list[Any]]
    #: each feature's mean part over the training cases (a part minus it: the contribution)
    means: npt.NDArray[np.float64]
    #: calibration: ("isotonic", IsotonicRegression) | ("platt", (a, b)) | ("none", None)
    calibration: tuple[str, Any]
    base_rate: float
    cases: int

    def raw(self, parts: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        out: npt.NDArray[np.float64] = self.steps.bias + parts.sum(axis=1)
        return out

    def probability(self, raw: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        kind, fitted = self.calibration
        if kind == "isotonic":
            calibrated = np.asarray(fitted.predict(raw), dtype=np.float64)
        else:
            if kind == "platt":
                a, b = fitted
                raw = a * raw + b
            calibrated = 1.0 / (1.0 + np.exp(-raw))
        out: npt.NDArray[np.float64] = np.clip(calibrated, *CLIP)
        return out


def feature_columns(
    frame: dict[str, Any], data: Data, categories: dict[str, list[Any]]
) -> list[npt.NDArray[np.float64]]:
    """The features as LightGBM reads them, a column each: a categorical one as its code
    among ``categories`` (the training cases' values, sorted), the last code for none or
    unseen."""
    columns = []
    for name in FEATURES:
        if name in CATEGORICAL:
            known = {value: code for code, value in enumerate(categories[name])}
            other = len(categories[name])
            lookup = np.asarray([known.get(v, other) for v in data.values[name]] + [other])
            columns.append(lookup[frame[name]].astype(np.float64))
        else:
            columns.append(np.asarray(frame[name], dtype=np.float64))
    return columns


def feature_matrix(
    frame: dict[str, Any], data: Data, categories: dict[str, list[Any]]
) -> npt.NDArray[np.float64]:
    """The features as LightGBM reads them (:func:`feature_columns`), n × features."""
    return np.column_stack(feature_columns(frame, data, categories))


def _train(
    frame: dict[str, Any],
    data: Data,
    label: npt.NDArray[np.bool_],
    cuts: npt.NDArray[np.int64],
    seed: int,
) -> Model:
    """A calibrated boosted-stumps model on the cases: trained on the earlier cutoffs,
    calibrated (and stopped early) on the latest ones holding about a quarter of the cases."""
    import lightgbm as lgb

    categories = {
        name: sorted({data.values[name][c] for c in np.unique(frame[name]) if c >= 0}, key=str)
        for name in CATEGORICAL
    }
    matrix = feature_matrix(frame, data, categories)
    unique = np.unique(cuts)
    split = unique[-1] + 1
    for candidate in unique[::-1]:
        if np.mean(cuts >= candidate) >= 0.25:
            split = candidate
            break
    fit = cuts < split
    calibrate = ~fit
    if fit.sum() < MIN_TRAIN // 2 or len(np.unique(label[fit])) < 2:
        fit = np.ones(len(label), dtype=bool)
        calibrate = np.zeros(len(label), dtype=bool)
    params = {
        "objective": "binary",
        "learning_rate": 0.2,
        "num_leaves": 2,
        "min_data_in_leaf": 40,
        "lambda_l2": 1.0,
        "num_threads": 1,
        "deterministic": True,
        "force_row_wise": True,
        "seed": seed,
        "verbosity": -1,
    }
    categorical = [FEATURES.index(name) for name in CATEGORICAL]
    train_set = lgb.Dataset(
        matrix[fit], label=label[fit].astype(np.float64), categorical_feature=categorical
    )
    can_calibrate = calibrate.sum() >= 100 and len(np.unique(label[calibrate])) == 2
    if can_calibrate:
        valid = lgb.Dataset(
            matrix[calibrate],
            label=label[calibrate].astype(np.float64),
            categorical_feature=categorical,
            reference=train_set,
        )
        booster = lgb.train(
            params,
            train_set,
            num_boost_round=200,
            valid_sets=[valid],
            callbacks=[lgb.early_stopping(20, verbose=False)],
        )
    else:
        booster = lgb.train(params, train_set, num_boost_round=100)
    steps = Steps.of(booster, categories)
    means = steps.parts(matrix[fit]).mean(axis=0)
    calibration: tuple[str, Any] = ("none", None)
    if can_calibrate:
        raw = steps.bias + steps.parts(matrix[calibrate]).sum(axis=1)
        y = label[calibrate].astype(np.float64)
        if calibrate.sum() >= 2000:
            from sklearn.isotonic import IsotonicRegression

            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            iso.fit(raw, y)
            calibration = ("isotonic", iso)
        else:
            from sklearn.linear_model import LogisticRegression

            platt = LogisticRegression(C=1e6)
            platt.fit(raw.reshape(-1, 1), y.astype(int))
            calibration = ("platt", (float(platt.coef_[0, 0]), float(platt.intercept_[0])))
    return Model(booster, steps, categories, means, calibration, float(label.mean()), len(label))


def predict(
    model: Model, data: Data, frame: dict[str, Any]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The calibrated probability of each case and each feature's contribution (log-odds of
    the uncalibrated score, relative to the training cases' average), features × n: the
    same values as ``model.steps.parts(feature_matrix(...)) - model.means``, transposed."""
    parts = model.steps.parts_by_feature(feature_columns(frame, data, model.categories))
    raw = model.steps.bias + row_sums(parts)
    parts -= model.means[:, np.newaxis]
    return model.probability(raw), parts


def fit_at(data: Data, origin: int, seed: int) -> tuple[Model | None, int, str | None]:
    """The model as it would have been trained at ``origin``; None (with the reason) when the
    cases known then are too few or all of one outcome."""
    deals, cuts, _share = training_cases(data, origin)
    label = data.won[deals]
    if len(deals) < MIN_TRAIN:
        counted = (
            f"{len(deals):,} deal-months: a deal counts once for each month's start it was open"
        )
        return (
            None,
            len(deals),
            f"too few closed partner deals ({counted}; {MIN_TRAIN} needed)",
        )
    if label.all() or not label.any():
        outcome = "won" if label.all() else "lost"
        return None, len(deals), f"every deal known by then was {outcome}"
    frame = case_features(data, deals, cuts)
    return _train(frame, data, label, cuts, seed), len(deals), None
