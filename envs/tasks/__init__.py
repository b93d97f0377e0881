"""Tasks: each a BatchedTask subclass and the structured schema of its config."""
