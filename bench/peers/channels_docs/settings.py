"""The peer's settings: the gateway's, with the Channels docs consumer and layer.

The REST endpoint, models and services are the gateway's own, so an edit takes the
same write path (event numbering and log included). The gateway's publisher sends
on the `default` layer alias; here that alias is an in-memory layer no process
listens on, so the gateway's fan-out stays inert and only the peer's receiver
reaches sockets, through the `peer` alias.
"""

from gateway.settings import *  # noqa: F403
from gateway.settings import INSTALLED_APPS, REDIS_URL

INSTALLED_APPS = [
    "bench.peers.channels_docs" if app == "consumers" else app for app in INSTALLED_APPS
]
ASGI_APPLICATION = "bench.peers.channels_docs.asgi.application"

# The docs' layer with its defaults (capacity 100 per channel); only the prefix
# differs, so that nothing else on the same Redis can reach the peer's groups.
PEER_LAYER = {
    "BACKEND": "channels_redis.core.RedisChannelLayer",
    "CONFIG": {"hosts": [REDIS_URL], "prefix": "benchpeer"},
}
CHANNEL_LAYERS = {
    "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"},
    "peer": PEER_LAYER,
}
