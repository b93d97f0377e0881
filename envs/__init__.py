"""Batched MuJoCo environments shared by the teacher, student and evaluation stages.

The contract is in ``envs/contract.py``; tasks are listed in ``envs/registry.py``.
"""
from envs.contract import DEPLOYABLE_KEYS, PRIVILEGED_KEYS, ObsDict, ObsSpec, VecEnv
from envs.registry import TASKS, make_env

__all__ = ["DEPLOYABLE_KEYS", "PRIVILEGED_KEYS", "ObsDict", "ObsSpec", "VecEnv", "TASKS", "make_env"]
