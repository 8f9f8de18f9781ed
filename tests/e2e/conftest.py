# SPDX-License-Identifier: Apache-2.0
"""Fixtures for end-to-end tests: start a real `tarn up` on free loopback ports with a temporary data dir."""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TARN_BIN = os.environ.get("TARN_BIN", str(ROOT / "build" / "tarn"))
SHARED_DIR = ROOT.parent / "shared"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, token=None, body=None, headers=None, timeout=30):
    """Returns (status, parsed JSON or raw text, headers). Never raises on HTTP error statuses."""
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, (bytes, bytearray)) else json.dumps(body).encode()
    if token:
        hdrs["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            status, resp_headers = resp.status, dict(resp.headers)
    except urllib.error.HTTPError as e:
        raw = e.read()
        status, resp_headers = e.code, dict(e.headers)
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode(errors="replace")
    return status, parsed, resp_headers


class TarnServer:
    def __init__(self, data_dir, http_port, sql_port, proc, log_path):
        self.data_dir = Path(data_dir)
        self.http_port = http_port
        self.sql_port = sql_port
        self.proc = proc
        self.log_path = log_path
        self.url = f"http://127.0.0.1:{http_port}"

    @property
    def admin_token(self):
        return (self.data_dir / "admin-token").read_text().strip()

    def get(self, path, token=None, **kw):
        return http("GET", self.url + path, token=token, **kw)

    def post(self, path, body=None, token=None, **kw):
        return http("POST", self.url + path, token=token, body=body if body is not None else {}, **kw)

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("tarn up did not stop within %ss" % timeout)
        return self.proc.returncode

    def output(self):
        return Path(self.log_path).read_text(errors="replace")


def start_tarn(data_dir, env_extra=None, extra_args=(), http_port=None, sql_port=None, wait=True):
    http_port = http_port or free_port()
    sql_port = sql_port or free_port()
    env = dict(os.environ)
    env.pop("TARN_ADMIN_TOKEN", None)
    env.update(env_extra or {})
    log_path = str(Path(data_dir).parent / f"tarn-up-{http_port}.log")
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [TARN_BIN, "up", "--data", str(data_dir), "--http-port", str(http_port), "--sql-port", str(sql_port),
         *extra_args],
        stdout=log, stderr=subprocess.STDOUT, env=env)
    server = TarnServer(data_dir, http_port, sql_port, proc, log_path)
    if wait:
        deadline = time.time() + 30
        while time.time() < deadline:
            if proc.poll() is not None:
                raise AssertionError("tarn up exited with %s:\n%s" % (proc.returncode, server.output()))
            try:
                status, _, _ = server.get("/health", timeout=2)
                if status == 200:
                    return server
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.02)
        server.stop(signal.SIGKILL)
        raise AssertionError("tarn up did not become healthy:\n" + server.output())
    return server


@pytest.fixture
def tarn(tmp_path):
    """A running server with a fresh data dir; stopped (and checked for a clean exit) after the test."""
    server = start_tarn(tmp_path / "data")
    yield server
    code = server.stop()
    assert code == 0, "tarn up exited with %s:\n%s" % (code, server.output())


def run_cli(*args, env=None, home=None, input=None, timeout=60):
    """Runs the tarn CLI with a clean environment (own HOME, no DATABRICKS_* unless given)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
    if home is not None:
        full_env["HOME"] = str(home)
    full_env.update(env or {})
    return subprocess.run([TARN_BIN, *map(str, args)], capture_output=True, text=True, env=full_env,
                          input=input, timeout=timeout)


@pytest.fixture
def cli(tarn, tmp_path):
    """Runs the CLI against the `tarn` fixture's server as admin."""
    home = tmp_path / "home"
    home.mkdir()

    def _run(*args, token=None, env=None):
        e = {"DATABRICKS_HOST": tarn.url, "DATABRICKS_TOKEN": token or tarn.admin_token}
        e.update(env or {})
        return run_cli(*args, env=e, home=home)
    return _run


@pytest.fixture(scope="session")
def sdk_node_modules():
    """The npm Databricks SDK installed for the build under test (scripts/install_npm_clients.sh)."""
    build = Path(os.environ.get("TARN_BIN", ROOT / "build" / "tarn")).resolve().parent
    out = subprocess.run([str(ROOT / "scripts" / "install_npm_clients.sh"), str(build)], capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()
