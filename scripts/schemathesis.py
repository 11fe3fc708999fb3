"""Schemathesis against the built hub's /api/v1 (run by scripts/test.sh with the venv's Python).

Starts the hub on a fresh SQLite database with its sandbox, makes a user with two real
connections (GitHub and Slack, consented through the sandbox) and an API key with every scope,
then runs schemathesis twice against /api/v1/openapi.json: once with the path parameters fixed
to that user and service, so the token route hands out real tokens (DELETE left out so the
connection stays), then with every parameter generated. Any server error or any answer that
contradicts the schema fails the run. Environment: ATOM_BIN, ATOM_SITE_ROOT, ST_BIN.
"""

import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse

import requests

HUB = "http://127.0.0.1:5358"
SANDBOX = "http://127.0.0.1:5359"
PASSWORD = "correct horse battery staple"
# The same seed every run: a failure here is a failure on the next run too.
SEED = "20261129"


def main() -> int:
    atom, st = os.environ["ATOM_BIN"], os.environ["ST_BIN"]
    work = tempfile.mkdtemp(prefix="atom-schemathesis-")
    env = dict(
        os.environ,
        ATOM_MODE="development",
        ATOM_LOG="warn",
        ATOM_DATABASE__URL=f"sqlite://{work}/atom.db?mode=rwc",
        ATOM_VAULT__KEY=os.urandom(32).hex(),
        ATOM_SERVER__LISTEN=HUB.removeprefix("http://"),
        ATOM_SERVER__PUBLIC_URL=HUB,
        ATOM_SERVER__SITE_ROOT=os.environ["ATOM_SITE_ROOT"],
        ATOM_SANDBOX__LISTEN=SANDBOX.removeprefix("http://"),
        ATOM_SANDBOX__PUBLIC_URL=SANDBOX,
        # Schemathesis sends a few thousand requests with one key from one address.
        ATOM_LIMITS__API_PER_KEY="1000000",
        ATOM_LIMITS__MUTATION_PER_ADDRESS="1000000",
    )
    run = lambda *args, **kw: subprocess.run(  # noqa: E731
        [atom, *args], env=env, check=True, capture_output=True, text=True, timeout=60, **kw
    )
    run("migrate")
    run("user", "add", "alice", "--password-stdin", input=PASSWORD)
    created = run(
        "apikey", "create", "--name", "schemathesis",
        "--scope", "tokens:read", "--scope", "connections:write", "--scope", "users:read",
        "--scope", "users:write", "--scope", "connections:import",
    ).stdout
    key = re.search(r"keep it secret\): (\S+)", created).group(1)

    log = open(f"{work}/hub.log", "w")
    hub = subprocess.Popen([atom, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(f"{HUB}/healthz")
        browser = requests.Session()
        sign_in(browser)
        for service in ("github", "slack"):
            connect(browser, service)
        user_id = sqlite3.connect(f"{work}/atom.db").execute(
            "SELECT id FROM users WHERE username = 'alice'"
        ).fetchone()[0]
        # 422 is the API's "understood, and refused on its merits" (a token the provider does
        # not honour, an email domain a service cannot vouch for): an answer to valid data.
        checks = (
            '[checks.positive_data_acceptance]\n'
            'expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]\n'
        )
        config = f"{work}/schemathesis.toml"
        with open(config, "w") as f:
            f.write(f'[parameters]\n"path.user_id" = "{user_id}"\n"path.service" = "github"\n')
            f.write(checks)
        free_config = f"{work}/schemathesis-free.toml"
        with open(free_config, "w") as f:
            f.write(checks)
        common = [
            "run", f"{HUB}/api/v1/openapi.json",
            "--header", f"Authorization: Bearer {key}",
            "--checks", "all", "--seed", SEED, "--workers", "1",
            "--max-examples", "60", "--request-timeout", "10",
            "--suppress-health-check", "all", "--no-color",
        ]
        print("\n--- schemathesis: alice's real connections (everything but DELETE)", flush=True)
        known = subprocess.run(
            [st, "--config-file", config, *common, "--exclude-method", "DELETE"], timeout=900
        )
        print("\n--- schemathesis: every parameter generated", flush=True)
        free = subprocess.run([st, "--config-file", free_config, *common], timeout=900)
        failed = known.returncode != 0 or free.returncode != 0
    finally:
        hub.terminate()
        hub.wait(timeout=30)
        log.close()
    if failed:
        print(f"schemathesis found problems; the hub's log is {work}/hub.log", file=sys.stderr)
        return 1
    return 0


def wait_for(url: str) -> None:
    for _ in range(300):
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the hub did not answer {url} within 30 s")


def sign_in(browser: requests.Session) -> None:
    answer = browser.post(
        f"{HUB}/auth/signin",
        data={"username": "alice", "password": PASSWORD},
        headers={"Origin": HUB},
        allow_redirects=False,
    )
    assert answer.status_code == 303, f"sign-in answered {answer.status_code}"


def connect(browser: requests.Session, service: str) -> None:
    """The whole flow through the sandbox: authorize, consent (allow), callback."""
    started = browser.get(
        f"{HUB}/api/auth/{service}/authorize", headers={"Accept": "application/json"}
    )
    authorize = urllib.parse.urlsplit(started.json()["authorization_url"])
    form = urllib.parse.parse_qsl(authorize.query) + [("login", "alice"), ("decision", "allow")]
    decided = browser.post(
        authorize._replace(query="").geturl(), data=form, allow_redirects=False
    )
    assert decided.status_code == 303, f"{service} consent answered {decided.status_code}"
    back = browser.get(decided.headers["Location"], allow_redirects=False)
    assert back.status_code == 303, f"{service} callback answered {back.status_code}"
    assert "error" not in back.headers["Location"], back.headers["Location"]


if __name__ == "__main__":
    sys.exit(main())
