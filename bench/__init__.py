"""Load generator and peer baselines for the activity gateway (see bench/README.md)."""
