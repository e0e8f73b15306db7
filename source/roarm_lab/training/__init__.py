"""Training helpers around rsl-rl: console progress and learning-curve plots."""
