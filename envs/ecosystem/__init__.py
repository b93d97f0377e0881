"""apprentice's envs and the ecosystem's trainers and tasks, both ways.

- ``to_rsl_rl``: an apprentice task as an rsl_rl ``VecEnv`` (OnPolicyRunner, DistillationRunner);
- ``to_rl_games``: an apprentice task as an rl_games vec-env (registered by name);
- ``from_rsl_rl``: any rsl_rl-style ``VecEnv`` (Isaac Lab's, mjlab's wrappers) as an apprentice task;
- ``from_isaacgym``: an IsaacGymEnvs ``VecTask`` as an apprentice task;
- ``rsl_rl_runs``: policies trained by rsl_rl's runners written as runs, evaluated beside apprentice's.

Each third-party package is imported only by the module that needs it.
"""
