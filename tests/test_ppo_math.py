"""PPO's pieces against numbers computed by hand."""
import math

import pytest
import torch

from teacher.gae import bootstrap_time_outs, compute_gae
from teacher.ppo import (BEHAVIOR_WEIGHT_MAX, behavior_weights, clipped_surrogate, gaussian_kl, next_adaptive_lr,
                         next_beta, teacher_coef_at, teacher_loss)


def test_gae_with_a_termination_and_a_time_out():
    # one env, 4 steps; step 1 terminates, step 2 is a time-out (truncation)
    g, lam = 0.9, 0.5
    r = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    v = torch.tensor([[0.5], [1.0], [2.0], [1.5]])
    done = torch.tensor([[False], [True], [True], [False]])
    time_out = torch.tensor([[False], [False], [True], [False]])
    last_v = torch.tensor([2.0])
    rb = bootstrap_time_outs(r, v, time_out, g)
    assert rb[:, 0].tolist() == pytest.approx([1.0, 2.0, 3.0 + 0.9 * 2.0, 4.0])
    adv, ret = compute_gae(rb, v, done, last_v, g, lam)
    # by hand, backwards:
    d3 = 4.0 + 0.9 * 2.0 - 1.5  # 4.3, bootstraps from last_v
    a3 = d3
    d2 = 4.8 - 2.0  # time-out: reward already holds gamma*V, no next-state term
    a2 = d2  # 2.8
    d1 = 2.0 - 1.0  # termination: nothing after it
    a1 = d1  # 1.0
    d0 = 1.0 + 0.9 * 1.0 - 0.5  # 1.4
    a0 = d0 + 0.9 * 0.5 * a1  # 1.85
    assert adv[:, 0].tolist() == pytest.approx([a0, a1, a2, a3])
    assert ret[:, 0].tolist() == pytest.approx([a0 + 0.5, a1 + 1.0, a2 + 2.0, a3 + 1.5])


def _grad(logp_new, logp_old, adv, clip=0.2):
    lp = torch.tensor([logp_new], requires_grad=True)
    loss = clipped_surrogate(lp, torch.tensor([logp_old]), torch.tensor([adv]), clip)
    loss.backward()
    return loss.item(), lp.grad.item()


@pytest.mark.parametrize(
    "ratio, adv, expect_loss, expect_grad",
    [
        # inside the clip range: loss = -r A, d loss / d logp = -r A
        (1.1, 2.0, -2.2, -2.2),
        (0.9, -1.0, 0.9, 0.9),
        # positive advantage above 1 + eps: clipped, no gradient
        (1.5, 2.0, -2.4, 0.0),
        # positive advantage below 1 - eps: min picks the unclipped r A, gradient flows
        (0.5, 2.0, -1.0, -1.0),
        # negative advantage below 1 - eps: clipped, no gradient
        (0.5, -1.0, 0.8, 0.0),
        # negative advantage above 1 + eps: unclipped (a mistake to undo), gradient flows
        (1.5, -1.0, 1.5, 1.5),
    ],
)
def test_clipped_objective_cases(ratio, adv, expect_loss, expect_grad):
    loss, grad = _grad(math.log(ratio), 0.0, adv)
    assert loss == pytest.approx(expect_loss)
    assert grad == pytest.approx(expect_grad)


def test_kl_penalty_beta_rule():
    assert next_beta(1.0, kl=0.001, kl_target=0.01) == 0.5  # < d/1.5: halve
    assert next_beta(1.0, kl=0.02, kl_target=0.01) == 2.0  # > 1.5 d: double
    assert next_beta(1.0, kl=0.01, kl_target=0.01) == 1.0
    assert next_beta(1.0, kl=0.0066, kl_target=0.01) == 0.5
    assert next_beta(1.0, kl=0.0149, kl_target=0.01) == 1.0


def test_adaptive_learning_rate():
    assert next_adaptive_lr(1e-3, kl=0.05, desired_kl=0.01) == pytest.approx(1e-3 / 1.5)
    assert next_adaptive_lr(1e-3, kl=0.001, desired_kl=0.01) == pytest.approx(1.5e-3)
    assert next_adaptive_lr(1e-3, kl=0.01, desired_kl=0.01) == 1e-3
    assert next_adaptive_lr(1e-2, kl=0.0, desired_kl=0.01) == 1e-2


def test_gaussian_kl_by_hand():
    kl = gaussian_kl(torch.tensor([[0.0]]), torch.tensor([[1.0]]), torch.tensor([[1.0]]), torch.tensor([[2.0]]))
    assert kl.item() == pytest.approx(math.log(2) + (1 + 1) / 8 - 0.5)


def test_decoupled_weights_scale_the_clipped_objective_by_hand():
    """Overlapped collection: the ratio is taken against the proximal policy, and each sample
    is weighted by pi_prox / pi_behavior, truncated at BEHAVIOR_WEIGHT_MAX."""
    prox = torch.tensor([0.0, 0.0, 0.0])
    behavior = torch.tensor([math.log(2.0), 0.0, -math.log(4.0)])  # weights 1/2, 1, 4 -> truncated to 2
    w = behavior_weights(prox, behavior)
    assert w.tolist() == pytest.approx([0.5, 1.0, BEHAVIOR_WEIGHT_MAX])
    lp = torch.tensor([math.log(1.1), math.log(1.5), math.log(0.5)], requires_grad=True)
    adv = torch.tensor([2.0, 2.0, -1.0])
    loss = clipped_surrogate(lp, prox, adv, 0.2, w)
    loss.backward()
    # per sample, from the cases above: -2.2 (inside), -2.4 (clipped), 0.8 (clipped); weighted and averaged
    assert loss.item() == pytest.approx((0.5 * -2.2 + 1.0 * -2.4 + 2.0 * 0.8) / 3)
    assert lp.grad.tolist() == pytest.approx([0.5 * -2.2 / 3, 0.0, 0.0])
    # without weights it is plain PPO-Clip
    assert clipped_surrogate(lp.detach(), prox, adv, 0.2).item() == pytest.approx((-2.2 - 2.4 + 0.8) / 3)


def test_teacher_term_and_its_schedule_by_hand():
    """Kickstarting's term in fine-tuning: MSE to the teacher's mean action, the label clamped
    to [-1, 1] as DAgger's; its weight fixed or falling linearly to 0."""
    mean = torch.tensor([[0.5, -0.2]], requires_grad=True)
    loss = teacher_loss(mean, torch.tensor([[1.5, 0.0]]))  # the label 1.5 is clamped to 1.0
    loss.backward()
    assert loss.item() == pytest.approx((0.5**2 + 0.2**2) / 2)
    assert mean.grad[0].tolist() == pytest.approx([2 * -0.5 / 2, 2 * -0.2 / 2])
    assert teacher_coef_at(2.0, "linear", 0.25) == pytest.approx(1.5)
    assert teacher_coef_at(2.0, "linear", 0.0) == 2.0
    assert teacher_coef_at(2.0, "fixed", 0.75) == 2.0
