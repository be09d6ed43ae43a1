"""Fixtures of the end-to-end suites: a fresh PostgreSQL database and Redis DB for the
session, gateways started as real processes, and users made in their database.

TEST_DATABASE_URL and TEST_REDIS_URL name the servers. When a variable is set and its
server does not answer, the suite fails; when unset and the default local server does
not answer, it is skipped with the reason.
"""

import os
import re
import shutil
from collections.abc import Callable, Iterator

import pytest
import redis

from tests.e2e.harness import (
    ARTIFACTS,
    Gateway,
    Provisioner,
    RedisServer,
    database_create,
    database_drop,
    group_ids_start_at,
    migrate,
    postgres_answers,
    redis_answers,
)

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/gateway"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# A Redis DB index of its own, flushed at the start of the session.
E2E_REDIS_DB = 5


def _service_url(
    variable: str, default: str, check: Callable[[str], str | None]
) -> str:
    url = os.environ.get(variable) or default
    problem = check(url)
    if problem is not None:
        message = f"{variable} server {url} does not answer: {problem}"
        if os.environ.get(variable):
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def e2e_database() -> Iterator[str]:
    """URL of a database made and migrated for this session, dropped after it."""
    server = _service_url("TEST_DATABASE_URL", DEFAULT_DATABASE_URL, postgres_answers)
    name = f"gateway_e2e_{os.getpid()}"
    url = database_create(server, name)
    try:
        migrate(url, ARTIFACTS / "migrate.log")
        group_ids_start_at(url, (os.getpid() % 1_000_000 + 1) * 1_000_000)
        yield url
    finally:
        database_drop(server, name)


@pytest.fixture(scope="session")
def e2e_redis() -> str:
    """URL of a Redis DB index reserved for this suite, emptied first."""
    server = _service_url("TEST_REDIS_URL", DEFAULT_REDIS_URL, redis_answers)
    url = re.sub(r"/\d*$", "", server.rstrip("/")) + f"/{E2E_REDIS_DB}"
    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()
    return url


@pytest.fixture(scope="session")
def provision(e2e_database: str) -> Iterator[Provisioner]:
    """Call with users=[names] and groups=[{name, admins, members}]; gives a World."""
    provisioner = Provisioner(e2e_database)
    try:
        yield provisioner
    finally:
        provisioner.stop()


@pytest.fixture(scope="session")
def shared_gateway(e2e_database: str, e2e_redis: str) -> Iterator[Gateway]:
    """Two workers for the tests that do not stop or break a gateway."""
    gateway = Gateway(
        name="shared-gateway",
        workers=2,
        database_url=e2e_database,
        redis_url=e2e_redis,
    )
    try:
        gateway.start()
        yield gateway
    finally:
        gateway.stop()


GatewayFactory = Callable[..., Gateway]


@pytest.fixture
def start_gateway(
    request: pytest.FixtureRequest, e2e_database: str, e2e_redis: str
) -> Iterator[GatewayFactory]:
    """Start a gateway of the test's own: start(workers=1, redis_url=None, env=None).

    Every gateway started through it is stopped at teardown, whatever the test did
    to its workers.
    """
    started: list[Gateway] = []

    def start(
        workers: int = 1,
        redis_url: str | None = None,
        env: dict[str, str] | None = None,
    ) -> Gateway:
        gateway = Gateway(
            name=f"{request.node.name}-{len(started)}",
            workers=workers,
            database_url=e2e_database,
            redis_url=redis_url or e2e_redis,
            env=env,
        )
        started.append(gateway)
        gateway.start()
        return gateway

    yield start
    for gateway in reversed(started):
        gateway.stop()


@pytest.fixture
def private_redis(request: pytest.FixtureRequest) -> Iterator[RedisServer]:
    """A `redis-server` of the test's own, started; stopped at teardown."""
    executable = shutil.which("redis-server")
    if executable is None:
        pytest.skip("redis-server is not installed; it is needed to kill Redis")
    server = RedisServer(name=f"{request.node.name}-redis", executable=executable)
    try:
        server.start()
        yield server
    finally:
        server.stop()
