"""Process state shared by the worker and the ASGI application: is it draining?"""

import threading

# Set once by the worker on SIGTERM; read on every HTTP request.
draining = threading.Event()


class RequestCounter:
    """HTTP requests being answered by this process; the event loop's thread only."""

    def __init__(self) -> None:
        self.count = 0


requests_in_flight = RequestCounter()
