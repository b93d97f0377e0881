"""Offscreen video of a policy on one sampled dynamics, written as an animated GIF.

Rendering uses MuJoCo's own renderer on a machine with no display: MuJoCo picks its GL
backend from ``MUJOCO_GL`` when it is first imported, so the scripts export
``MUJOCO_GL=egl`` (``osmesa`` also works where Mesa's OSMesa is installed). The frames
come from the batch's simulation 0 with its own per-env model (its sampled payload,
friction, masses), so the video shows exactly the dynamics the policy faced.

A task whose simulation model is stripped of its meshes (Go2) offers ``visual_model()``:
the same joints with the meshes kept. Each frame then poses that model with the
simulation's ``qpos`` and draws its visual geoms, so the video shows the robot, while the
simulation stays on the fast stripped model. Otherwise the simulation model is drawn with
its collision geoms (group 3).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import mujoco
import torch
from PIL import Image

from envs import make_env


@torch.no_grad()
def render_episode(
    task_cfg,
    act: Callable[[dict], torch.Tensor],
    out_path: str | Path,
    split="heldout",
    seed: int = 0,
    seconds: float = 10.0,
    fps: int = 25,
    size: tuple[int, int] = (320, 240),
) -> dict:
    """Run ``act`` for one episode (at most ``seconds``) and write it to ``out_path`` (GIF)."""
    env = make_env(task_cfg, num_envs=1, seed=seed, split=split, nthread=1)
    batch = env.backend.batch
    sim_model = batch.get_model(0)
    visual = getattr(env, "visual_model", None)
    model = visual() if visual is not None else sim_model
    if model.nq != sim_model.nq:
        raise ValueError(f"{task_cfg.name}'s visual model has nq={model.nq}, its simulation nq={sim_model.nq}")
    try:
        renderer = mujoco.Renderer(model, height=size[1], width=size[0])
    except Exception as err:  # no GL context: say how to get one
        raise RuntimeError(
            f"offscreen rendering failed ({err}); export MUJOCO_GL=egl (or osmesa) before starting Python"
        ) from err
    option = mujoco.MjvOption()
    if visual is None:
        option.geomgroup[3] = 1  # collision geoms: the simulation model has no meshes
    camera = mujoco.MjvCamera()
    camera.type = mujoco.mjtCamera.mjCAMERA_TRACKING
    camera.trackbodyid = 1
    camera.distance = 1.5 * max(model.stat.extent, 1.0)
    camera.elevation = -15.0
    camera.azimuth = 120.0
    pose = mujoco.MjData(model)

    every = max(1, round(1.0 / (fps * env.control_dt)))
    obs, data, frames, steps = env.reset(), None, [], 0
    params = dict(zip(env.param_names, env.params[0].tolist()))
    episode = {}
    for steps in range(1, int(seconds / env.control_dt) + 1):
        obs, _, done, info = env.step(act(obs).float())
        if done.any():
            episode = {k: float(v[0]) for k, v in info["episode"].items()}
            break
        if steps % every == 0:
            data = batch.get_data(0, data)
            pose.qpos[:] = data.qpos
            mujoco.mj_forward(model, pose)
            renderer.update_scene(pose, camera=camera, scene_option=option)
            frames.append(Image.fromarray(renderer.render()))
    renderer.close()
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    frames[0].save(out_path, save_all=True, append_images=frames[1:], duration=round(1000 * every * env.control_dt),
                   loop=0)
    return {"path": str(out_path), "frames": len(frames), "steps": steps, "fell": bool(episode.get("terminated", 0.0)),
            "params": params, "model": "visual (meshes)" if visual is not None else "simulation (collision geoms)"}
