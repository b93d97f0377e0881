"""Evaluation of policies on train and held-out dynamics, with paired seeds, and the report."""
