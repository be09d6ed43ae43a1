"""Process state shared by the worker and the ASGI application: is it draining?"""

import threading

# Set once by the worker on SIGTERM; read on every HTTP request.
draining = threading.Event()
