"""A real gateway process for the browser suite: start, seed, restart, stop.

The gateway runs as `python -m gateway.serve` on a free port of 127.0.0.1, on a
fresh SQLite file, or on a fresh PostgreSQL database when TEST_DATABASE_URL is set.
It keeps the in-memory channel layer: one process needs no Redis, and the fan-out
across processes is the end-to-end suite's subject, not the page's.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
START_TIMEOUT_SECS = 40.0
STOP_TIMEOUT_SECS = 15.0
COMMAND_TIMEOUT_SECS = 120.0

# Demo data through the product's services: alice..erin (password demo-password),
# groups "Design team", "Game night", "Research lab". The seed_demo command would
# also rewrite var/demo-credentials.json, which belongs to `make run`.
SEED = """
import json
from activities.demo import demo_seed
from iam.models import WorkspaceGroup
users = demo_seed(activity_count={count})
groups = {{g.name: g.pk for g in WorkspaceGroup.objects.filter(personal_owner=None)}}
people = {{n: {{"id": u.pk, "token": u.auth_token.key}} for n, u in users.items()}}
print("SEED=" + json.dumps({{"users": people, "groups": groups}}))
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _fresh_postgres(url: str) -> tuple[str, str]:
    """Create an empty database next to `url`'s; return its URL and name."""
    import psycopg

    name = f"browser_{uuid.uuid4().hex[:12]}"
    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}")), name


def _drop_postgres(url: str, name: str) -> None:
    import psycopg

    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Gateway:
    """One gateway process and its database, owned by the test session."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = ARTIFACTS / f"browser-gateway-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.pg: tuple[str, str] | None = None
        pg_url = os.environ.get("TEST_DATABASE_URL")
        if pg_url:
            self.pg = _fresh_postgres(pg_url)
            database_url = self.pg[0]
        else:
            database_url = f"sqlite:///{workdir / 'gateway.sqlite3'}"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
        }
        self.env.update(
            DATABASE_URL=database_url,
            MEDIA_ROOT=str(workdir / "media"),
            HOST="127.0.0.1",
            PORT=str(self.port),
            DJANGO_SETTINGS_MODULE="gateway.settings",
            LOG_LEVEL="INFO",
            # Several tests sign in and edit in quick succession.
            WS_RATE_BURST="200",
            PYTHONUNBUFFERED="1",
        )
        self.seed: dict[str, Any] = {}

    # -- processes -------------------------------------------------------------------

    def manage(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_SECS,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def shell(self, code: str) -> str:
        return self.manage("shell", "-c", code)

    def prepare(self, activities: int = 20) -> None:
        self.manage("migrate", "--noinput", "-v", "0")
        output = self.shell(SEED.format(count=activities))
        line = next(x for x in output.splitlines() if x.startswith("SEED="))
        self.seed = json.loads(line.removeprefix("SEED="))

    def start(self) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gateway.serve"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECS
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(
                    f"gateway exited with {self.process.returncode}; "
                    f"see {self.log_path}"
                )
            try:
                if httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"gateway not ready in {START_TIMEOUT_SECS}s")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        # The launcher forwards SIGTERM to its Daphne children.
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_SECS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT_SECS)

    def close(self) -> None:
        self.stop()
        if self.pg is not None:
            _drop_postgres(os.environ["TEST_DATABASE_URL"], self.pg[1])

    # -- data ------------------------------------------------------------------------

    def token(self, username: str) -> str:
        return str(self.seed["users"][username]["token"])

    def user_id(self, username: str) -> int:
        return int(self.seed["users"][username]["id"])

    def group_id(self, name: str) -> int:
        return int(self.seed["groups"][name])

    def api(
        self, method: str, path: str, *, as_user: str = "alice", json: Any = None
    ) -> httpx.Response:
        response = httpx.request(
            method,
            f"{self.base_url}{path}",
            headers={"Authorization": f"Token {self.token(as_user)}"},
            json=json,
            timeout=10,
        )
        assert response.status_code < 400, (response.status_code, response.text)
        return response

    def create(self, group: str, text: str, activity_type: int = 204) -> int:
        body = {"text": text, "activity_type": activity_type}
        body["workspace_group"] = self.group_id(group)
        return int(self.api("POST", "/api/user-activities/", json=body).json()["id"])

    def create_offline(
        self, group: str, texts: list[str], username: str = "alice"
    ) -> list[int]:
        """Commit activities straight through the services, not over HTTP: works while
        the gateway is down, and its socket hears of them only from the event log."""
        code = (
            "import json\n"
            "from activities import services\n"
            "from iam.models import IAMUser, WorkspaceGroup\n"
            f"actor = IAMUser.objects.get(username={username!r})\n"
            f"group = WorkspaceGroup.objects.get(pk={self.group_id(group)})\n"
            f"texts = {texts!r}\n"
            "ids = [services.activity_create(actor=actor, data={'text': t, "
            "'activity_type': 400, 'workspace_group': group}).pk for t in texts]\n"
            "print('IDS=' + json.dumps(ids))\n"
        )
        output = self.shell(code)
        line = next(x for x in output.splitlines() if x.startswith("IDS="))
        return [int(pk) for pk in json.loads(line.removeprefix("IDS="))]
