"""Simulator backends: N simulations of one MJCF with per-env model parameters.

Tasks talk to a backend only through this small interface, so a GPU backend (MuJoCo
Warp) or an Isaac Gym adapter can replace the CPU one without touching task logic:

- ``qpos``, ``qvel``, ``ctrl``: live (N, ...) arrays of the state (write to set it);
- ``expand(field)``: a live (N, ...) array of a per-env model field (``body_mass``...);
- ``set_const(ids)``: recompute constants derived from the fields written;
- ``reset(ids)``, ``forward(ids)``, ``step(nstep) -> failed mask``.
"""
from __future__ import annotations

import mujoco
import numpy as np

# MuJoCo resets a simulation whose state goes non-finite or huge and counts a warning.
_BLOWUP_WARNINGS = [
    int(mujoco.mjtWarning.mjWARN_BADQPOS),
    int(mujoco.mjtWarning.mjWARN_BADQVEL),
    int(mujoco.mjtWarning.mjWARN_BADQACC),
]


class MujocoBatchBackend:
    """CPU backend on ``mujoco.batch.Batch``: all simulations on ``nthread`` threads."""

    def __init__(self, model: mujoco.MjModel, num_envs: int, nthread: int = 0):
        import mujoco.batch  # MuJoCo 4; imported here so that external tasks run beside an older mujoco

        self.model = model
        self.num_envs = num_envs
        self.batch = mujoco.batch.Batch(model, nsim=num_envs, nthread=nthread)
        self.qpos = self.batch.bind("qpos")
        self.qvel = self.batch.bind("qvel")
        self.ctrl = self.batch.bind("ctrl")
        self._seen = self._blowup_count()

    def _blowup_count(self) -> np.ndarray:
        return self.batch.warning[:, _BLOWUP_WARNINGS, 1].sum(axis=1)  # mjWarningStat: (lastinfo, number)

    def expand(self, field: str) -> np.ndarray:
        return self.batch.expand(field)

    def set_const(self, ids: np.ndarray) -> None:
        self.batch.set_const(ids)

    def reset(self, ids: np.ndarray) -> None:
        """Back to the model's defaults; the caller writes the state, then ``forward``."""
        self.batch.reset(ids, stage=mujoco.mjtStage.mjSTAGE_NONE)

    def forward(self, ids: np.ndarray) -> None:
        self.batch.forward(ids)

    def step(self, nstep: int) -> np.ndarray:
        """Advance every simulation; return a (N,) bool mask of those that blew up."""
        failed = np.zeros(self.num_envs, dtype=bool)
        try:
            self.batch.step(nstep=nstep)
        except mujoco.batch.SimulationError as err:  # those sims kept their old state
            failed[err.ids] = True
        count = self._blowup_count()
        failed |= count > self._seen  # a reset clears the counters: only a rise is a blow-up
        self._seen = count
        failed |= ~np.isfinite(self.qpos).all(axis=1) | ~np.isfinite(self.qvel).all(axis=1)
        return failed
