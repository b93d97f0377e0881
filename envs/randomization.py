"""Domain randomization as a plain function of declared ranges.

Each randomized parameter declares a ``train`` interval, ``heldout`` intervals, ``extreme``
intervals and a ``nominal`` value. A *split* picks which intervals to sample from:

- ``train``: what training samples;
- ``heldout``: RMA's test protocol, the train range extended a modest step on each side (it
  contains train, so an episode mixes in-range and out-of-range parameters); the step is
  calibrated so that the oracle keeps at least 70% success;
- ``extreme``: only the step, every parameter outside train at once;
- ``nominal``: every env at the nominal value;
- or any explicit ``{name: [[lo, hi], ...]}`` mapping (a fixed value is ``[[v, v]]``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
from omegaconf import MISSING

Interval = tuple[float, float]
SPLITS = ("train", "heldout", "extreme", "nominal")


@dataclass(frozen=True)
class ParamSpec:
    name: str
    train: Interval
    heldout: tuple[Interval, ...]
    extreme: tuple[Interval, ...]
    nominal: float
    integer: bool = False

    def __post_init__(self) -> None:
        lo, hi = self.train
        if not lo <= hi:
            raise ValueError(f"parameter {self.name!r}: train range {self.train} has lo > hi")
        for split in ("heldout", "extreme"):
            if not getattr(self, split):
                raise ValueError(f"parameter {self.name!r}: declare at least one {split} interval")
            for a, b in getattr(self, split):
                if not a <= b:
                    raise ValueError(f"parameter {self.name!r}: {split} interval {(a, b)} has lo > hi")
        for a, b in self.extreme:
            if self.overlaps_train(a, b):
                raise ValueError(
                    f"parameter {self.name!r}: extreme interval {(a, b)} overlaps the train range "
                    f"{self.train}; extreme values must lie outside it"
                )
        if not any(a < lo or b > hi for a, b in self.heldout):
            raise ValueError(
                f"parameter {self.name!r}: heldout intervals {list(self.heldout)} lie inside the train range "
                f"{self.train}; a held-out range must reach beyond it (e.g. the train range widened a step)"
            )

    def overlaps_train(self, a: float, b: float) -> bool:
        lo, hi = self.train
        if self.integer:  # integers: disjoint sets of whole numbers
            return not (b < lo or a > hi)
        return not (b <= lo or a >= hi)


def step_split(specs: Sequence[ParamSpec], fraction: float) -> dict[str, list[list[float]]]:
    """A split that widens every train range by ``fraction`` of the way to its held-out range on
    each side (1: the held-out hull; an integer parameter's ends rounded outward). Candidate
    held-out steps for calibration (benchmarks/calibrate_split.py)."""
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction {fraction}: a step toward the held-out range is in (0, 1]")
    split = {}
    for spec in specs:
        lo, hi = spec.train
        new_lo = lo - fraction * (lo - min(a for a, _ in spec.heldout))
        new_hi = hi + fraction * (max(b for _, b in spec.heldout) - hi)
        if spec.integer:
            new_lo, new_hi = math.floor(new_lo + 1e-9), math.ceil(new_hi - 1e-9)
        split[spec.name] = [[float(new_lo), float(new_hi)]]
    return split


def intervals_for(spec: ParamSpec, split: str | Mapping[str, Sequence[Sequence[float]]]) -> list[Interval]:
    """The intervals one parameter is sampled from under a split."""
    if isinstance(split, str):
        if split == "train":
            return [spec.train]
        if split == "heldout":
            return list(spec.heldout)
        if split == "extreme":
            return list(spec.extreme)
        if split == "nominal":
            return [(spec.nominal, spec.nominal)]
        raise ValueError(f"unknown split {split!r}: use one of {SPLITS} or a mapping of ranges")
    if spec.name not in split:  # an explicit mapping leaves other parameters at nominal
        return [(spec.nominal, spec.nominal)]
    return [(float(a), float(b)) for a, b in split[spec.name]]


def check_split(specs: Sequence[ParamSpec], split: str | Mapping) -> None:
    """Reject a split naming parameters the task does not randomize."""
    if isinstance(split, str):
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}: use one of {SPLITS} or a mapping of ranges")
        return
    known = {s.name for s in specs}
    unknown = sorted(set(split) - known)
    if unknown:
        raise ValueError(f"ranges name unknown parameters {unknown}; this task randomizes {sorted(known)}")
    for name, intervals in split.items():
        try:
            ok = len(intervals) > 0 and all(len(iv) == 2 and float(iv[0]) <= float(iv[1]) for iv in intervals)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(f"ranges for {name!r} must be a non-empty list of [lo, hi] with lo <= hi, "
                             f"e.g. [[0.5, 1.0]]; got {intervals!r}")


class Sampler:
    """Vectorized sampling of every parameter under one split (tables built once)."""

    def __init__(self, specs: Sequence[ParamSpec], split: str | Mapping):
        check_split(specs, split)
        per = [intervals_for(s, split) for s in specs]
        k = max((len(iv) for iv in per), default=1)
        p = len(specs)
        self.lo = np.zeros((p, k))
        self.width = np.zeros((p, k))
        self.cum = np.ones((p, k))  # cumulative choice probabilities, padded with 1
        for j, (spec, ivs) in enumerate(zip(specs, per)):
            for m, (a, b) in enumerate(ivs):
                if spec.integer:  # floor of U[a, b + 1): uniform over the whole numbers
                    a, b = math.ceil(a), math.floor(b) + 1
                    if b <= a:
                        raise ValueError(f"parameter {spec.name!r}: integer interval {ivs[m]} holds no whole number")
                self.lo[j, m], self.width[j, m] = a, b - a
            w = self.width[j, : len(ivs)]
            probs = w / w.sum() if w.sum() > 0 else np.full(len(ivs), 1.0 / len(ivs))
            self.cum[j, : len(ivs)] = np.cumsum(probs)
        self.integer = np.array([s.integer for s in specs], dtype=bool)
        self.outside = split == "extreme"
        self.train_lo = np.array([s.train[0] for s in specs])
        self.train_hi = np.array([s.train[1] for s in specs])

    def __call__(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """(n, P) float64 values. Extreme floats never land on a train endpoint."""
        p = self.lo.shape[0]
        choice = (rng.random((n, p, 1)) > self.cum[None, :, :-1]).sum(axis=2)
        rows = np.arange(p)[None, :]
        v = self.lo[rows, choice] + self.width[rows, choice] * rng.random((n, p))
        v = np.where(self.integer, np.floor(v), v)
        if self.outside:
            v = np.where(v == self.train_lo, np.nextafter(v, -np.inf), v)
            v = np.where(v == self.train_hi, np.nextafter(v, np.inf), v)
        return v


def normalizer(specs: Sequence[ParamSpec]) -> tuple[np.ndarray, np.ndarray]:
    """(centre, half-width) of the train ranges: (v - centre) / half maps train to [-1, 1]."""
    centre = np.array([(s.train[0] + s.train[1]) / 2 for s in specs])
    half = np.array([(s.train[1] - s.train[0]) / 2 for s in specs])
    return centre, np.where(half == 0, 1.0, half)


@dataclass
class RangeCfg:
    """Config schema of one randomized parameter: train interval, held-out and extreme
    intervals, nominal value."""

    train: list[float] = MISSING
    heldout: list[list[float]] = MISSING
    extreme: list[list[float]] = MISSING
    nominal: float = MISSING

    @staticmethod
    def check(cfg) -> list[str]:
        """The intervals are well formed, held-out reaches beyond train and extreme lies
        outside it (as ``ParamSpec`` demands)."""
        if len(cfg.train) != 2 or any(len(iv) != 2 for iv in [*cfg.heldout, *cfg.extreme]):
            return [f"train and each heldout and extreme interval must be [lo, hi], got train={list(cfg.train)}, "
                    f"heldout={[list(iv) for iv in cfg.heldout]}, extreme={[list(iv) for iv in cfg.extreme]}"]
        try:
            ParamSpec("range", tuple(cfg.train), tuple(tuple(iv) for iv in cfg.heldout),
                      tuple(tuple(iv) for iv in cfg.extreme), cfg.nominal)
        except ValueError as err:
            return [str(err).replace("parameter 'range': ", "")]
        return []


def param_specs_from(randomization, per_item: Mapping[str, Sequence[str]] | None = None) -> list[ParamSpec]:
    """ParamSpecs from a task's randomization config, in declaration order.

    ``per_item`` expands one config entry into one parameter per item sharing its ranges
    (e.g. ``{"motor_strength": joints}`` gives ``motor_strength_<joint>``, sampled
    independently). ``action_delay`` is integer-valued (whole control steps).
    """
    per_item = per_item or {}
    specs = []
    for name, rng in randomization.items():
        names = [f"{name}_{item}" for item in per_item[name]] if name in per_item else [name]
        specs += [
            ParamSpec(
                name=n,
                train=tuple(float(v) for v in rng.train),
                heldout=tuple(tuple(float(v) for v in iv) for iv in rng.heldout),
                extreme=tuple(tuple(float(v) for v in iv) for iv in rng.extreme),
                nominal=float(rng.nominal),
                integer=(name == "action_delay"),
            )
            for n in names
        ]
    return specs
