"""PPO: the losses as pure functions, the KL-driven controllers, and one update.

Two objectives (``ppo.objective``):
- ``clip`` (PPO-Clip, default): -E[min(r A, clip(r, 1-eps, 1+eps) A)];
- ``kl`` (PPO-KL, adaptive penalty): -E[r A] + beta KL(old || new), with beta halved when
  the measured KL < d_targ / 1.5 and doubled when it is > 1.5 d_targ (Schulman et al. 2017).

Fine-tuning a student may add a teacher term (``ppo.teacher_coef``, kickstarting: Schmitt et
al. 2018): lambda * MSE(student's mean action, the frozen teacher's) on the rollout's states,
the DAgger loss kept beside the RL objective with a weight the trainer schedules.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from teacher.actor_critic import ActorCritic
from teacher.storage import RolloutStorage

OBJECTIVES = ("clip", "kl")
BEHAVIOR_WEIGHT_MAX = 2.0  # truncation of decoupled PPO's behavior -> proximal importance weight
LR_SCHEDULES = ("adaptive", "fixed", "linear")


def clipped_surrogate(log_probs, old_log_probs, advantages, clip: float, weights=None) -> torch.Tensor:
    """PPO-Clip policy loss (to minimize). ``weights``: per-sample importance weights of
    decoupled PPO (behavior -> proximal policy); None is 1."""
    ratio = torch.exp(log_probs - old_log_probs)
    surrogate = torch.min(ratio * advantages, ratio.clamp(1.0 - clip, 1.0 + clip) * advantages)
    return -(surrogate if weights is None else weights * surrogate).mean()


def kl_penalized_surrogate(log_probs, old_log_probs, advantages, kl, beta: float, weights=None) -> torch.Tensor:
    """PPO-KL policy loss (to minimize): -E[w r A] + beta E[KL(old || new)]."""
    ratio = torch.exp(log_probs - old_log_probs)
    surrogate = ratio * advantages
    return -(surrogate if weights is None else weights * surrogate).mean() + beta * kl.mean()


def behavior_weights(prox_log_probs, behavior_log_probs, truncate: float = BEHAVIOR_WEIGHT_MAX) -> torch.Tensor:
    """Decoupled PPO (Hilton et al. 2021): pi_prox / pi_behavior, truncated above (V-trace-style)
    so that a rare large ratio cannot dominate a minibatch."""
    return torch.exp(prox_log_probs - behavior_log_probs).clamp(max=truncate)


def gaussian_kl(mu_old, sigma_old, mu, sigma) -> torch.Tensor:
    """KL(old || new) of diagonal Gaussians, summed over action dimensions: (B,)."""
    return (
        torch.log(sigma / sigma_old) + (sigma_old**2 + (mu_old - mu) ** 2) / (2.0 * sigma**2) - 0.5
    ).sum(-1)


def teacher_loss(mean: torch.Tensor, teacher_mean: torch.Tensor) -> torch.Tensor:
    """Kickstarting's imitation term: the DAgger loss (MSE to the teacher's mean action, clamped
    to the action range as DAgger labels it) on the states the fine-tuned policy visited."""
    return (mean - teacher_mean.clamp(-1.0, 1.0)).pow(2).mean()


def teacher_coef_at(coef: float, schedule: str, frac: float) -> float:
    """The teacher term's weight at a fraction ``frac`` of training: fixed, or linear to 0."""
    return coef if schedule == "fixed" else coef * (1.0 - frac)


def clipped_value_loss(values, old_values, returns, clip: float | None) -> torch.Tensor:
    if clip is None:
        return (returns - values).pow(2).mean()
    clipped = old_values + (values - old_values).clamp(-clip, clip)
    return torch.max((returns - values).pow(2), (returns - clipped).pow(2)).mean()


def next_beta(beta: float, kl: float, kl_target: float) -> float:
    """Schulman et al.'s adaptive penalty coefficient."""
    if kl < kl_target / 1.5:
        return beta / 2.0
    if kl > kl_target * 1.5:
        return beta * 2.0
    return beta


def next_adaptive_lr(lr: float, kl: float, desired_kl: float, lo: float = 1e-5, hi: float = 1e-2) -> float:
    """rsl_rl / rl-games schedule: shrink the step when the policy moved too far."""
    if kl > 2.0 * desired_kl:
        return max(lo, lr / 1.5)
    if 0.0 < kl < desired_kl / 2.0:
        return min(hi, lr * 1.5)
    return lr


def explained_variance(values: torch.Tensor, returns: torch.Tensor) -> float:
    var = returns.var()
    return float("nan") if var == 0 else float(1.0 - (returns - values).var() / var)


@dataclass
class UpdateStats:
    policy_loss: float
    value_loss: float
    entropy: float
    approx_kl: float
    kl: float
    clip_fraction: float
    explained_variance: float
    learning_rate: float
    beta: float
    teacher_loss: float  # MSE to the teacher's mean action (fine-tuning with a teacher; else nan)
    teacher_coef: float  # its weight this update (0 without one)


class PPO:
    def __init__(self, policy: ActorCritic, cfg, seed: int, group=None):
        if cfg.objective not in OBJECTIVES:
            raise ValueError(f"unknown ppo.objective {cfg.objective!r}; choose one of {OBJECTIVES}")
        if cfg.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"unknown ppo.lr_schedule {cfg.lr_schedule!r}; choose one of {LR_SCHEDULES}")
        self.policy = policy
        self.cfg = cfg
        self.learning_rate = cfg.learning_rate
        self.beta = cfg.init_beta
        # fused: one kernel for every parameter (on CPU 5x faster than the default per-tensor loop)
        self.optimizer = torch.optim.Adam(policy.parameters(), lr=self.learning_rate, fused=True)
        self.generator = torch.Generator().manual_seed(seed)
        self.group = group  # runstore.distributed.Group: gradients and KL averaged over ranks

    def set_learning_rate(self, lr: float) -> None:
        self.learning_rate = lr
        for group in self.optimizer.param_groups:
            group["lr"] = lr

    def update(self, storage: RolloutStorage, teacher: ActorCritic | None = None, teacher_coef: float = 0.0) -> UpdateStats:
        """One PPO update on ``storage``. With a frozen privileged ``teacher`` and ``teacher_coef``
        > 0, each minibatch's loss adds ``teacher_coef`` x MSE to its mean action (teacher_loss)."""
        cfg, policy = self.cfg, self.policy
        guided = teacher is not None and teacher_coef > 0.0
        sums = dict(policy=0.0, value=0.0, entropy=0.0, approx_kl=0.0, kl=0.0, clip=0.0, teacher=0.0)
        n = 0
        for mb in storage.minibatches(cfg.num_minibatches, cfg.epochs, self.generator):
            adv = mb["advantages"]
            if cfg.normalize_advantage:
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            mean = policy.action_mean(mb["obs"])
            dist = policy.distribution(mean)
            log_probs = dist.log_prob(mb["actions"]).sum(-1)
            entropy = dist.entropy().sum(-1).mean()
            values = policy.value(mb["obs"])
            kl = gaussian_kl(mb["mu"], mb["sigma"], mean, dist.stddev)
            kl_mean = kl.mean().item() if self.group is None else self.group.mean(kl.mean().item())

            if cfg.lr_schedule == "adaptive":
                self.set_learning_rate(next_adaptive_lr(self.learning_rate, kl_mean, cfg.desired_kl))

            # data acted by an older policy (overlapped collection): the ratio and the trust region are
            # taken against the proximal policy (the weights at the update's start, mb["log_probs"]) and each
            # sample is weighted by pi_prox / pi_behavior
            weights = behavior_weights(mb["log_probs"], mb["behavior_log_probs"]) if "behavior_log_probs" in mb else None
            if cfg.objective == "clip":
                policy_loss = clipped_surrogate(log_probs, mb["log_probs"], adv, cfg.clip, weights)
            else:
                policy_loss = kl_penalized_surrogate(log_probs, mb["log_probs"], adv, kl, self.beta, weights)
            value_loss = clipped_value_loss(
                values, mb["values"], mb["returns"], cfg.clip if cfg.clip_value_loss else None
            )
            loss = policy_loss + cfg.value_coef * value_loss - cfg.entropy_coef * entropy
            if guided:
                with torch.no_grad():
                    teacher_mean = teacher.action_mean(mb["obs"])
                imitation = teacher_loss(mean, teacher_mean)
                loss = loss + teacher_coef * imitation
                sums["teacher"] += imitation.item()

            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.group is not None:
                self.group.average_gradients(policy.parameters())
            nn.utils.clip_grad_norm_(policy.parameters(), cfg.max_grad_norm)
            self.optimizer.step()

            with torch.no_grad():
                log_ratio = log_probs - mb["log_probs"]
                sums["approx_kl"] += float(((log_ratio.exp() - 1) - log_ratio).mean())
                sums["clip"] += float(((log_ratio.exp() - 1).abs() > cfg.clip).float().mean())
            sums["policy"] += policy_loss.item()
            sums["value"] += value_loss.item()
            sums["entropy"] += entropy.item()
            sums["kl"] += kl_mean
            n += 1

        mean_kl = sums["kl"] / n
        if cfg.objective == "kl":
            self.beta = next_beta(self.beta, mean_kl, cfg.kl_target)
        return UpdateStats(
            policy_loss=sums["policy"] / n,
            value_loss=sums["value"] / n,
            entropy=sums["entropy"] / n,
            approx_kl=sums["approx_kl"] / n,
            kl=mean_kl,
            clip_fraction=sums["clip"] / n,
            explained_variance=explained_variance(storage.values.flatten(), storage.returns.flatten()),
            learning_rate=self.learning_rate,
            beta=self.beta,
            teacher_loss=sums["teacher"] / n if guided else float("nan"),
            teacher_coef=teacher_coef if guided else 0.0,
        )
