"""A small pure-torch cartpole written to IsaacGymEnvs' ``VecTask`` interface (HORA-style
``priv_info`` key included): what ``envs/ecosystem/from_isaacgym.py`` is tested against,
since Isaac Gym itself installs from no registry. Pole mass is randomized per env: 0.5-1.5
in ``train``, 1.5-2.0 in ``heldout``; the teacher reads it in ``priv_info``."""
import torch

from envs.ecosystem.from_isaacgym import VecTaskEnv


class TorchCartpoleTask:
    def __init__(self, num_envs: int, seed: int, split: str = "train", max_episode_length: int = 200):
        self.num_envs, self.num_actions, self.num_obs, self.device = num_envs, 1, 4, "cpu"
        self.max_episode_length = max_episode_length
        self.gen = torch.Generator().manual_seed(seed)
        self.mass_range = {"train": (0.5, 1.5), "heldout": (1.5, 2.0)}[split]
        self.state = torch.zeros(num_envs, 4)  # x, x_dot, theta, theta_dot
        self.mass = torch.ones(num_envs)
        self.obs_buf = torch.zeros(num_envs, 4)
        self.rew_buf = torch.zeros(num_envs)
        self.reset_buf = torch.ones(num_envs, dtype=torch.long)
        self.progress_buf = torch.zeros(num_envs, dtype=torch.long)
        self.timeout_buf = torch.zeros(num_envs, dtype=torch.bool)
        self.extras = {}

    def _reset_idx(self, ids):
        n = len(ids)
        self.state[ids] = (torch.rand(n, 4, generator=self.gen) - 0.5) * 0.1
        lo, hi = self.mass_range
        self.mass[ids] = lo + (hi - lo) * torch.rand(n, generator=self.gen)
        self.progress_buf[ids] = 0

    def _obs(self):
        self.obs_buf = self.state[:, [0, 2]].clone()  # positions only: velocities are privileged
        return {"obs": self.obs_buf, "priv_info": torch.stack([self.mass - 1.0, self.state[:, 1], self.state[:, 3]], 1),
                "states": self.state.clone()}

    def reset(self):
        self._reset_idx(torch.arange(self.num_envs))
        return self._obs()

    def step(self, actions):
        force = 10.0 * actions[:, 0].clamp(-1, 1)
        x, xd, th, thd = self.state.unbind(1)
        m_pole, m_cart, length, g, dt = self.mass * 0.1, 1.0, 0.5, 9.81, 0.02
        total = m_cart + m_pole
        tmp = (force + m_pole * length * thd**2 * th.sin()) / total
        thacc = (g * th.sin() - th.cos() * tmp) / (length * (4.0 / 3.0 - m_pole * th.cos() ** 2 / total))
        xacc = tmp - m_pole * length * thacc * th.cos() / total
        self.state = torch.stack([x + dt * xd, xd + dt * xacc, th + dt * thd, thd + dt * thacc], 1)
        self.progress_buf += 1
        fell = (self.state[:, 0].abs() > 2.4) | (self.state[:, 2].abs() > 0.4)
        self.timeout_buf = (self.progress_buf >= self.max_episode_length) & ~fell
        self.rew_buf = torch.where(fell, torch.zeros(()), torch.ones(()) - 0.1 * self.state[:, 2].abs())
        self.reset_buf = (fell | self.timeout_buf).long()
        self.extras = {"time_outs": self.timeout_buf.clone()}
        ids = torch.nonzero(self.reset_buf).squeeze(1)
        if len(ids):
            self._reset_idx(ids)
        return self._obs(), self.rew_buf, self.reset_buf, self.extras


def make_env(split: str, num_envs: int, seed: int, max_episode_length: int = 200):
    """The factory ``task=rsl_rl_env`` calls: the VecTask, wrapped for apprentice."""
    return VecTaskEnv(TorchCartpoleTask(num_envs, seed, split, max_episode_length))
