from django.apps import AppConfig


class ChannelsDocsPeerConfig(AppConfig):
    name = "bench.peers.channels_docs"
    label = "bench_channels_docs"

    def ready(self) -> None:
        from bench.peers.channels_docs import signals  # noqa: F401  (connects)
