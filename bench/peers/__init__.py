"""Peer baselines: the same REST endpoint and models, pushed the usual Channels way."""
