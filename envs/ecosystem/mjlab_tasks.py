"""A factory for ``task=rsl_rl_env`` that builds mjlab's own tasks (mjlab 1.6, CPU or GPU).

    task=rsl_rl_env task.factory=envs.ecosystem.mjlab_tasks:make_env
        task.factory_kwargs.task_id=Mjlab-Velocity-Flat-Unitree-Go1
        task.obs_groups=[actor] task.priv_groups=[critic]

mjlab pins mujoco 3.11, so this runs in mjlab's own virtual environment with apprentice
installed beside it (``scripts/setup_mjlab.sh``). The held-out split is a named change of
the task's own randomization events, applied to the config before the env is built:
``HELDOUT`` lists them per task (friction below the training range for the Go1 velocity
tasks; a pole started further from upright for the cartpole). ``episode_length_s`` shortens episodes (mjlab's
cartpole runs for ever otherwise).
"""
from __future__ import annotations

# task id prefix -> (event name, params key, held-out value): each a step outside training.
# mjlab's cartpole randomizes no dynamics, only its initial state: its held-out split starts
# the pole further from upright than training ever does.
HELDOUT = {
    "Mjlab-Cartpole": [("reset_hinge", "position_range", (0.034, 0.1))],  # train (-0.034, 0.034)
    "Mjlab-Velocity": [("foot_friction_slide", "ranges", (0.15, 0.3)),  # train (0.3, 1.5)
                       ("base_com", "ranges", {0: (0.025, 0.04), 1: (0.025, 0.04), 2: (0.03, 0.045)})],  # train ±0.025-0.03
}


def make_env(split: str, num_envs: int, seed: int, task_id: str, episode_length_s: float | None = None,
             device: str = "cpu"):
    import mjlab.tasks  # noqa: F401  (registers the tasks)
    from mjlab.envs import ManagerBasedRlEnv
    from mjlab.rl.vecenv_wrapper import RslRlVecEnvWrapper
    from mjlab.tasks.registry import list_tasks, load_env_cfg

    if task_id not in list_tasks():
        raise ValueError(f"mjlab has no task {task_id!r}; it has {list_tasks()}")
    if split not in ("train", "heldout"):
        raise ValueError(f"mjlab tasks have the splits train and heldout, not {split!r}")
    cfg = load_env_cfg(task_id)
    cfg.scene.num_envs = num_envs
    cfg.seed = seed
    if episode_length_s is not None:
        cfg.episode_length_s = episode_length_s
    if split == "heldout":
        changes = [c for prefix, cs in HELDOUT.items() if task_id.startswith(prefix) for c in cs]
        if not changes:
            raise ValueError(f"no held-out split is declared for {task_id}; add it to HELDOUT in {__name__}")
        for event, key, value in changes:
            cfg.events[event].params[key] = value
    return RslRlVecEnvWrapper(ManagerBasedRlEnv(cfg, device=device))
