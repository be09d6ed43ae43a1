"""docker-compose.yml agrees with the code it deploys.

No Docker engine is needed: the file is read as YAML, its `${...}` references are
filled from .env.example the way `docker compose` fills them from .env, and every
setting it hands the gateway is compared with what gateway/settings.py reads,
gateway/urls.py routes, gateway/serve.py configures and deploy/nginx.conf proxies.
"""

import ast
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from gateway.serve import PING_INTERVAL_SECS

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
SETTINGS = ROOT / "gateway" / "settings.py"
URLS = ROOT / "gateway" / "urls.py"

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}; $$ is "$".
_REFERENCE = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)


def dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an env file; comments and blank lines skipped."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Fill `${...}` references in every string of `value`, as compose does."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def fill(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name", "op", "arg")
        present = name in env
        non_empty = bool(env.get(name))
        if op in (":-", ":?"):
            if non_empty:
                return env[name]
        elif op in ("-", "?"):
            if present:
                return env[name]
        elif present:
            return env[name]
        else:
            raise AssertionError(f"${{{name}}} has no value in .env.example")
        if op.endswith("?"):
            raise AssertionError(
                f"{name} is required ({arg}) but .env.example lacks it"
            )
        return arg

    return _REFERENCE.sub(fill, value)


def settings_env_names() -> set[str]:
    """Every name gateway/settings.py reads through its `env(...)` helper."""
    tree = ast.parse(SETTINGS.read_text())
    names = {
        str(node.args[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "env"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    assert "DATABASE_URL" in names, "settings.py no longer reads env(...) as expected"
    return names


def url_paths() -> set[str]:
    """The literal top-level routes of gateway/urls.py, as absolute paths."""
    tree = ast.parse(URLS.read_text())
    return {
        "/" + str(node.args[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "path"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }


def command_text(command: Any) -> str:
    return " ".join(command) if isinstance(command, list) else str(command)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    raw = yaml.safe_load(COMPOSE.read_text())
    return interpolate(raw, dotenv(ENV_EXAMPLE))


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


@pytest.fixture(scope="module")
def gateways(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found = {
        name: service
        for name, service in services.items()
        if "gateway.serve" in command_text(service.get("command", ""))
    }
    assert len(found) >= 2, "a scaled deployment runs several gateway services"
    return found


@pytest.fixture(scope="module")
def nginx() -> str:
    return (ROOT / "deploy" / "nginx.conf").read_text()


def test_compose_gateway_env_is_read_by_settings(
    services: dict[str, dict[str, Any]],
) -> None:
    """Every variable given to a process of the gateway image is one settings reads."""
    known = settings_env_names()
    for name, service in services.items():
        if service.get("image", "").startswith("activity-gateway"):
            unknown = set(service.get("environment", {})) - known
            assert not unknown, f"{name} sets variables settings.py ignores: {unknown}"


def test_compose_database_url_points_at_postgres_service(
    services: dict[str, dict[str, Any]], gateways: dict[str, dict[str, Any]]
) -> None:
    """DATABASE_URL names the postgres service with its user, password and database."""
    postgres = services["postgres"]["environment"]
    for name, service in {**gateways, "migrate": services["migrate"]}.items():
        url = urlsplit(service["environment"]["DATABASE_URL"])
        assert url.scheme in {"postgres", "postgresql"}, name
        assert url.hostname == "postgres", name
        assert (url.port or 5432) == 5432, name
        assert url.username == postgres["POSTGRES_USER"], name
        assert url.password == postgres["POSTGRES_PASSWORD"], name
        assert url.path.lstrip("/") == postgres["POSTGRES_DB"], name


def test_compose_redis_url_points_at_redis_service(
    services: dict[str, dict[str, Any]], gateways: dict[str, dict[str, Any]]
) -> None:
    """REDIS_URL names the redis service, on Redis's port."""
    assert "redis" in services
    for name, service in gateways.items():
        url = urlsplit(service["environment"]["REDIS_URL"])
        assert url.scheme == "redis", name
        assert url.hostname == "redis", name
        assert (url.port or 6379) == 6379, name


def test_compose_dependencies_are_healthchecked(
    services: dict[str, dict[str, Any]], gateways: dict[str, dict[str, Any]]
) -> None:
    """Postgres and Redis have healthchecks; gateways wait for them and migrate."""
    for name in ("postgres", "redis"):
        assert services[name].get("healthcheck", {}).get("test"), name
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == (
        "service_healthy"
    )
    for name, service in gateways.items():
        depends = service["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["redis"]["condition"] == "service_healthy", name


def test_compose_migrate_runs_manage_py_migrate(
    services: dict[str, dict[str, Any]],
) -> None:
    command = command_text(services["migrate"]["command"])
    assert re.search(r"\bmanage\.py migrate\b", command), command


def test_compose_gateway_healthcheck_probes_a_routed_path(
    gateways: dict[str, dict[str, Any]],
) -> None:
    """The healthcheck URL is a route of gateway/urls.py, on the port and a host the
    gateway serves."""
    routes = url_paths()
    for name, service in gateways.items():
        env = service["environment"]
        test = command_text(service["healthcheck"]["test"])
        match = re.search(r"https?://[^\s'\"]+", test)
        assert match, f"{name}: no URL in healthcheck {test!r}"
        url = urlsplit(match.group(0))
        assert url.path in routes, f"{name}: {url.path} is not in gateway/urls.py"
        assert url.port == int(env["PORT"]), name
        allowed = env["DJANGO_ALLOWED_HOSTS"].split(",")
        assert url.hostname in allowed, f"{name}: {url.hostname} not in ALLOWED_HOSTS"


def test_compose_gateways_listen_on_all_interfaces(
    gateways: dict[str, dict[str, Any]],
) -> None:
    """The proxy reaches a gateway over the compose network, not its loopback."""
    for name, service in gateways.items():
        assert service["environment"]["HOST"] == "0.0.0.0", name  # noqa: S104


def test_compose_proxy_upstreams_are_the_gateway_services(
    services: dict[str, dict[str, Any]],
    gateways: dict[str, dict[str, Any]],
    nginx: str,
) -> None:
    """nginx's upstream lists exactly the gateway services, on the port they serve."""
    proxy = services["proxy"]
    assert any(
        volume.startswith("./deploy/nginx.conf:") for volume in proxy["volumes"]
    ), "the proxy does not mount deploy/nginx.conf"
    upstream = re.search(r"upstream\s+(\w+)\s*\{(.*?)\}", nginx, re.S)
    assert upstream, "deploy/nginx.conf has no upstream block"
    servers = set(re.findall(r"^\s*server\s+([\w.-]+):(\d+)", upstream.group(2), re.M))
    expected = {(name, s["environment"]["PORT"]) for name, s in gateways.items()}
    assert servers == expected
    assert f"proxy_pass http://{upstream.group(1)};" in nginx
    for name in gateways:
        assert name in proxy["depends_on"], f"the proxy starts before {name}"


def test_nginx_passes_websocket_upgrades(nginx: str) -> None:
    """The socket route speaks HTTP/1.1, forwards Upgrade, and outlives a ping gap."""
    block = re.search(r"location\s+/ws/\s*\{(.*?)\}", nginx, re.S)
    assert block, "deploy/nginx.conf has no location for /ws/"
    body = block.group(1)
    assert re.search(r"proxy_http_version\s+1\.1;", body)
    assert re.search(r"proxy_set_header\s+Upgrade\s+\$http_upgrade;", body)
    assert re.search(r"proxy_set_header\s+Connection\s+\$connection_upgrade;", body)
    assert re.search(r"map\s+\$http_upgrade\s+\$connection_upgrade", nginx)
    timeout = re.search(r"proxy_read_timeout\s+(\d+)s;", body)
    assert timeout, "no proxy_read_timeout on /ws/"
    assert int(timeout.group(1)) > PING_INTERVAL_SECS


def test_compose_media_volume_is_what_nginx_serves(
    services: dict[str, dict[str, Any]],
    gateways: dict[str, dict[str, Any]],
    nginx: str,
) -> None:
    """The gateways write MEDIA_ROOT to the volume the proxy serves /media/ from."""
    alias = re.search(r"location\s+/media/\s*\{[^}]*alias\s+([^;]+);", nginx)
    assert alias, "deploy/nginx.conf does not serve /media/"
    proxy_mounts = dict(
        volume.split(":")[:2] for volume in services["proxy"]["volumes"]
    )
    for name, service in gateways.items():
        media_root = service["environment"]["MEDIA_ROOT"].rstrip("/")
        mounts = {
            target: source
            for source, target in (
                volume.split(":")[:2] for volume in service["volumes"]
            )
        }
        assert media_root in mounts, f"{name}: MEDIA_ROOT is not on a volume"
        volume = mounts[media_root]
        assert proxy_mounts.get(volume, "").rstrip("/") == alias.group(1).rstrip("/")
