"""The same peer on channels_redis' pub/sub layer (one Redis subscription per group)."""

from bench.peers.channels_docs.settings import *  # noqa: F403
from bench.peers.channels_docs.settings import REDIS_URL

CHANNEL_LAYERS = {
    "default": {"BACKEND": "channels.layers.InMemoryChannelLayer"},
    "peer": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": "benchpeerps"},
    },
}
