"""Stage one: the PPO teacher that reads privileged information through a latent z."""
