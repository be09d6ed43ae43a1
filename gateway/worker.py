"""One gateway worker: Daphne, plus a graceful stop on SIGTERM.

Daphne alone stops its reactor on SIGTERM and cancels every application, so sockets
drop without a close frame and clients cannot tell a restart from a network fault.
Here SIGTERM stops accepting connections, closes every socket with 1012 (service
restart: reconnect, resume with `since`), waits up to SHUTDOWN_GRACE_SECS for the
close handshakes, then stops the reactor.

    python -m gateway.worker [daphne options] gateway.asgi:application
"""

import asyncio
import logging
import os
import sys
from typing import Any

from daphne.cli import CommandLineInterface
from daphne.server import Server

from gateway import lifecycle

# Named, not __name__: run with -m this module is "__main__", which no logger
# configuration knows.
logger = logging.getLogger("gateway.worker")


class GracefulServer(Server):
    """Daphne's server with SIGTERM and SIGINT routed to `drain`."""

    draining = False

    def run(self) -> None:
        from twisted.internet import reactor

        def on_signal(signum: int, _frame: Any = None) -> None:
            reactor.callFromThread(self.drain, signum)

        # The reactor binds these when it starts and installs them as the process's
        # SIGINT/SIGTERM handlers in place of its own "stop now".
        reactor.sigInt = on_signal
        reactor.sigTerm = on_signal
        # Autobahn drops the TCP connection on a protocol violation such as an
        # oversized frame; a close frame (1009) tells the client why.
        reactor.callWhenRunning(
            lambda: self.ws_factory.setProtocolOptions(failByDrop=False)
        )
        super().run()

    def drain(self, signum: int) -> None:
        from twisted.internet import reactor

        if self.draining:
            # A second signal means "now".
            _stop(reactor)
            return
        self.draining = True
        lifecycle.draining.set()
        logger.info("signal %s: closing sockets with 1012 and stopping", signum)
        for listener in self.listeners:
            listener.addCallback(lambda port: port.stopListening())
        asyncio.ensure_future(self._close_and_stop())

    async def _close_and_stop(self) -> None:
        from twisted.internet import reactor

        from consumers.hub import running_hubs
        from gateway.conf import gateway_setting

        grace = float(gateway_setting("SHUTDOWN_GRACE_SECS"))
        try:
            await asyncio.wait_for(
                asyncio.gather(*(hub.stop() for hub in running_hubs())), grace
            )
            # Let close frames reach the wire before the reactor tears sockets down,
            # and let requests already running answer (their writes may have
            # committed: a client left without an answer might retry and repeat).
            loop = asyncio.get_running_loop()
            deadline = loop.time() + grace
            while loop.time() < deadline and (
                any(hub.sinks for hub in running_hubs()) or self._busy()
            ):
                await asyncio.sleep(0.05)
        except Exception:
            logger.exception("graceful stop did not finish; stopping anyway")
        finally:
            _stop(reactor)

    def _busy(self) -> bool:
        """Whether an HTTP request of this worker is still being answered."""
        return lifecycle.requests_in_flight.count > 0


def _stop(reactor: Any) -> None:
    # Twisted declares interface methods without `self`, so a type checker cannot
    # call them through the module-level reactor; Any says "it is a reactor".
    reactor.stop()


class GatewayCommandLine(CommandLineInterface):
    server_class = GracefulServer


def main() -> None:
    GatewayCommandLine().run(sys.argv[1:])
    # The reactor has stopped. A request thread still blocked on the stopped loop
    # would keep the interpreter waiting for it forever; the grace period is over.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
