"""The deployment files: Dockerfile, compose.yaml and the systemd unit, checked without building an image.

No base image can be pulled here and docker is usually absent, so the Dockerfile's instructions are
parsed and held to what the README/Makefile do; compose.yaml goes through `docker compose config`
when docker has the compose plugin, else through the official Compose Specification schema
(tests/deploy/compose-spec.json, see tests/deploy/README.md); the unit through configparser and,
where it exists, `systemd-analyze verify`. The HEALTHCHECK command really runs against a loopback server.
"""

from __future__ import annotations

import configparser
import contextlib
import fnmatch
import importlib
import io
import json
import posixpath
import re
import shlex
import shutil
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dockerfile
import jsonschema
import pytest
from pydantic import SecretStr
from ruamel.yaml import YAML
from sqlalchemy.engine import make_url

from bot.runtime.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = Path(__file__).parent / "deploy" / "compose-spec.json"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETTINGS = {name.upper() for name in Settings.model_fields}
SECRETS = {name.upper() for name, f in Settings.model_fields.items() if SecretStr in getattr(f.annotation, "__args__", ())}


# ----- the Dockerfile, read with BuildKit's own parser (the `dockerfile` package) ---------------


@dataclass(frozen=True)
class Instruction:
    keyword: str
    flags: tuple[str, ...]
    value: tuple[str, ...]  # exec form: the JSON array; shell form: one string; ENV/LABEL: key, value, …
    workdir: str  # WORKDIR in force when it runs

    @property
    def words(self) -> list[str]:
        return [w for v in self.value for w in shlex.split(v)]


def dockerfile_stages(path: Path = ROOT / "Dockerfile") -> list[list[Instruction]]:
    """The Dockerfile's instructions, one list per build stage (a FROM starts one).

    `dockerfile.parse_file` raises on a Dockerfile that Docker itself could not parse."""
    stages: list[list[Instruction]] = []
    workdir = "/"
    for cmd in dockerfile.parse_file(str(path)):
        keyword = cmd.cmd.upper()
        if keyword == "FROM":
            stages.append([])
            workdir = "/"
        elif keyword == "WORKDIR":
            workdir = posixpath.join(workdir, cmd.value[0])
        if stages:  # an ARG before the first FROM only parameterizes FROM
            stages[-1].append(Instruction(keyword, tuple(cmd.flags), tuple(cmd.value), workdir))
    return stages


def copies(stage: list[Instruction]) -> list[tuple[list[str], str, str]]:
    """(sources, destination, workdir) of each COPY/ADD from the build context (not --from another stage)."""
    return [(list(ins.value[:-1]), ins.value[-1], ins.workdir) for ins in stage
            if ins.keyword in ("COPY", "ADD") and not any(f.startswith("--from") for f in ins.flags)]


def env_of(stage: list[Instruction]) -> dict[str, str]:
    pairs = [ins.value for ins in stage if ins.keyword == "ENV"]
    return {k: v for value in pairs for k, v in zip(value[::2], value[1::2], strict=True)}


def landing(src: str, dest: str, workdir: str, count: int) -> str:
    """Where COPY puts `src`: into `dest` as a folder when it ends in / or several sources go there."""
    into = posixpath.join(workdir, dest)
    if dest.endswith("/") or count > 1:
        into = posixpath.join(into, posixpath.basename(src.rstrip("/")))
    return posixpath.normpath(into)


def dockerignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` out of the build context (later patterns win; `!` re-includes)."""
    ignored = False
    for raw in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        parts = Path(path).parts
        candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatchcase(c, pattern) or fnmatch.fnmatchcase(c, pattern.removeprefix("**/"))
               for c in candidates):
            ignored = not negate
    return ignored


def makefile_install_spec() -> str:
    """What the Makefile's setup installs, e.g. `.[dev]`."""
    for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines():
        # the line that installs the project itself (not pip's upgrade, not the lock's pinned libraries)
        if "pip install" in line and "--upgrade" not in line and " -r " not in line:
            words = shlex.split(line.strip())
            return [w for w in words[words.index("install") + 1:] if not w.startswith("-")][0]
    raise AssertionError("the Makefile installs nothing with pip")


# ----- (a) the Dockerfile ------------------------------------------------------------------


def test_the_image_installs_the_project_as_the_makefile_does() -> None:
    build, *_, runtime = dockerfile_stages()
    spec = makefile_install_spec()
    project = spec.split("[")[0]
    assert project == ".", spec
    installs = [ins for stage in (build, runtime) for ins in stage
                if ins.keyword == "RUN" and "pip install" in " ".join(ins.value)]
    assert installs, "no RUN pip install in the Dockerfile"
    targets = [[w for w in ins.words[ins.words.index("install") + 1:] if not w.startswith("-")] for ins in installs]
    assert [project] in targets, f"the project is installed with `pip install {project}` (Makefile: {spec}); got {targets}"
    install = installs[targets.index([project])]
    assert "-e" not in install.words and "--editable" not in install.words, "an image installs, not links"

    # Everything the wheel is built from is copied into the folder pip installs from, and
    # .dockerignore lets it into the build context.
    wheel = PYPROJECT["tool"]["hatch"]["build"]["targets"]["wheel"]
    needed = {"pyproject.toml", PYPROJECT["project"]["readme"], *wheel["packages"], *wheel["force-include"]}
    copied = {src for sources, dest, workdir in copies(build) for src in sources
              if landing(src, dest, workdir, len(sources)) == posixpath.join(install.workdir, src)}
    assert needed <= copied, f"not copied next to pyproject.toml: {sorted(needed - copied)}"
    assert not [p for p in needed if dockerignored(p)], ".dockerignore excludes a file the wheel needs"


def test_the_image_runs_zhoubao_run_as_an_unprivileged_user() -> None:
    runtime = dockerfile_stages()[-1]
    users = [ins.value[0] for ins in runtime if ins.keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0"), f"USER {users}"
    cmd = [ins for ins in runtime if ins.keyword in ("CMD", "ENTRYPOINT")]
    argv = [w for ins in cmd for w in ins.value]
    assert argv == ["zhoubao", "run"], argv
    assert "zhoubao" in PYPROJECT["project"]["scripts"], "the command the image runs is the package's script"


def test_configuration_comes_only_from_the_environment() -> None:
    stages = dockerfile_stages()
    for stage in stages:
        for sources, _, _ in copies(stage):
            for src in sources:
                name = Path(src).name
                assert src not in (".", "./"), "COPY . would take whatever is in the build context"
                assert not (name == ".env" or (name.startswith(".env.") and name != ".env.example")), src
                assert name != "team.yaml" and not name.endswith((".db", ".sqlite3")), src
    # ENV names are real settings (a typo would be silently ignored) and hold no secret.
    env = env_of(stages[-1])
    settings_env = {k: v for k, v in env.items() if not k.startswith(("PYTHON", "PATH", "PIP_"))}
    assert set(settings_env) <= SETTINGS, f"not settings: {sorted(set(settings_env) - SETTINGS)}"
    assert not set(settings_env) & SECRETS
    assert "TEAM_FILE" in settings_env, "the team file's path comes from the environment"
    # The SQLite default and the spool sit in the declared volume, and the exposed port is the bot's.
    volumes = [w for ins in stages[-1] if ins.keyword == "VOLUME" for w in ins.value]
    assert any(make_url(settings_env["DATABASE_URL"]).database.startswith(v) for v in volumes)
    assert any(settings_env["SPOOL_DIR"].startswith(v) for v in volumes)
    exposed = [v for ins in stages[-1] if ins.keyword == "EXPOSE" for v in ins.value]
    assert exposed == [settings_env["PORT"]] == [str(Settings.model_fields["port"].default)]


# ----- (d) the HEALTHCHECK, run for real ----------------------------------------------------


def healthcheck_argv() -> list[str]:
    checks = [ins for ins in dockerfile_stages()[-1] if ins.keyword == "HEALTHCHECK"]
    assert len(checks) == 1
    options, (kind, *argv) = " ".join(checks[0].flags), checks[0].value
    assert kind == "CMD" and "--timeout" in options and "--interval" in options
    assert "/healthz" in " ".join(argv)
    return argv


class _Health(BaseHTTPRequestHandler):
    status = 200
    seen: list[str] = []

    def do_GET(self) -> None:
        type(self).seen.append(self.path)
        code = type(self).status if self.path == "/healthz" else 404
        body = json.dumps({"status": "ok" if code == 200 else "stopped"}).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[tuple[int, type[_Health]]]:
    handler = type("Health", (_Health,), {"status": 200, "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)  # bound and listening before the probe runs
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], handler
    server.shutdown()
    server.server_close()


def run_probe(port: int) -> subprocess.CompletedProcess[str]:
    argv = healthcheck_argv()
    assert argv[0] == "python", "the slim image's python runs the probe"
    return subprocess.run([sys.executable, *argv[1:]], env={"PORT": str(port)}, capture_output=True,
                          text=True, timeout=60)


def test_healthcheck_passes_on_200_and_fails_on_503_or_no_answer(health_server: tuple[int, type[_Health]]) -> None:
    port, handler = health_server
    ok = run_probe(port)
    assert ok.returncode == 0, ok.stderr
    assert handler.seen == ["/healthz"]

    handler.status = 503  # the scheduler has stopped
    stopped = run_probe(port)
    assert stopped.returncode == 1 and stopped.stderr == "unhealthy: HTTP Error 503: Service Unavailable\n"


def test_healthcheck_fails_when_nothing_listens() -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), _Health) as server:
        port = server.server_address[1]
    refused = run_probe(port)  # the port was just released: connection refused
    assert refused.returncode == 1 and "refused" in refused.stderr.lower()
    assert refused.stderr.count("\n") == 1, "one line for docker inspect, no traceback"


# ----- (b) compose.yaml ------------------------------------------------------------------


def compose() -> dict[str, Any]:
    return YAML(typ="safe").load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def docker_compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0


def test_compose_file_is_valid(tmp_path: Path) -> None:
    if docker_compose_available():
        shutil.copy(ROOT / "compose.yaml", tmp_path / "compose.yaml")
        (tmp_path / ".env").write_text("POSTGRES_PASSWORD=example\n", encoding="utf-8")
        (tmp_path / "team.yaml").write_text("{}\n", encoding="utf-8")
        result = subprocess.run(["docker", "compose", "-f", str(tmp_path / "compose.yaml"), "config", "-q"],
                                cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(compose())]
    assert errors == []
    # The schema does catch a wrong compose file: the check above cannot pass vacuously.
    broken = compose()
    broken["services"]["bot"]["depends_on"]["db"]["condition"] = "service_ready"
    assert list(validator.iter_errors(broken))


def test_compose_runs_the_bot_on_postgresql_after_migrations() -> None:
    doc = compose()
    db, bot = doc["services"]["db"], doc["services"]["bot"]
    assert db["image"] == "postgres:16"
    assert db["healthcheck"]["test"] and "pg_isready" in " ".join(db["healthcheck"]["test"])
    db_volume = db["volumes"][0].split(":")[0]
    assert db_volume in doc["volumes"], "PostgreSQL's data is in a named volume"
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    assert bot["build"] == "." and bot["env_file"]

    env = bot["environment"]
    assert set(env) <= SETTINGS, f"not settings: {sorted(set(env) - SETTINGS)}"
    url = make_url(re.sub(r"\$\{[^}]*\}", "secret", env["DATABASE_URL"]))
    assert url.get_backend_name() == "postgresql" and url.host == "db"
    assert url.username == db["environment"]["POSTGRES_USER"] and url.database == db["environment"]["POSTGRES_DB"]
    mounts = {m.split(":")[1]: m.split(":") for m in bot["volumes"]}
    assert mounts[env["TEAM_FILE"]][-1] == "ro", "the team file is mounted read-only"
    assert any(m[0] in doc["volumes"] and env["SPOOL_DIR"].startswith(m[1]) for m in mounts.values()), \
        "the answer spool is in a named volume"

    script = bot["command"][-1]
    upgrade_at, run_at = script.find("zhoubao db upgrade"), script.find("zhoubao run")
    assert 0 <= upgrade_at < run_at and "&&" in script[upgrade_at:run_at], script
    for words in (["db", "upgrade"], ["run"]):
        assert zhoubao(*words, "--help") == 0, f"`zhoubao {' '.join(words)}` is a real command"


def zhoubao(*args: str) -> int:
    """Exit status of the `zhoubao` console script, found as pyproject declares it (module:function)."""
    module, func = PYPROJECT["project"]["scripts"]["zhoubao"].split(":")
    main = getattr(importlib.import_module(module), func)
    argv, sys.argv = sys.argv, ["zhoubao", *args]
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            main()
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.argv = argv
    return 0


# ----- (c) the systemd unit ------------------------------------------------------------------


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read(ROOT / "deploy" / "zhoubao.service", encoding="utf-8")
    return parser


def seconds(span: str) -> float:
    units = {"ms": 0.001, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600}
    total = 0.0
    for number, unit_ in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", span):
        total += float(number) * units[unit_ or "s"]
    return total


def test_systemd_unit_has_what_an_operator_relies_on() -> None:
    u = unit()
    assert set(u.sections()) == {"Unit", "Service", "Install"}
    service = u["Service"]
    assert service["User"] not in ("root", "0") and service["WorkingDirectory"].startswith("/")
    assert service["EnvironmentFile"].lstrip("-").startswith("/etc/")
    pre, start = shlex.split(service["ExecStartPre"]), shlex.split(service["ExecStart"])
    assert pre[1:] == ["db", "upgrade"] and start[1:] == ["run"] and Path(pre[0]).name == Path(start[0]).name == "zhoubao"
    assert Path(pre[0]).parent == Path(start[0]).parent, "both from the same virtual environment"
    assert service["Restart"] == "on-failure"
    assert service["NoNewPrivileges"] == "yes" and service["ProtectSystem"] == "strict"
    assert service.get("KillSignal", "SIGTERM") == "SIGTERM"
    assert seconds(service["TimeoutStopSec"]) >= 30, "SIGTERM gets time to finish in-flight sends"
    assert u["Install"]["WantedBy"] == "multi-user.target"
    assert "network-online.target" in u["Unit"]["After"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_unit_verifies(tmp_path: Path) -> None:
    # verify checks that executables exist: point them at /bin/true, keep every other line as written.
    text = (ROOT / "deploy" / "zhoubao.service").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^(ExecStart(?:Pre)?=)\S+", r"\1/bin/true", text)
    text = re.sub(r"(?m)^EnvironmentFile=.*$", "EnvironmentFile=-/nonexistent/zhoubao.env", text)
    (tmp_path / "zhoubao.service").write_text(text, encoding="utf-8")
    result = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "zhoubao.service")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "zhoubao.service" not in result.stderr, result.stderr


# ----- the guide --------------------------------------------------------------------------------


def test_every_command_the_deploy_guide_shows_exists() -> None:
    guide = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    # `zhoubao X` at the start of a command line, in inline code, after a venv's bin/ or `docker exec NAME`
    shown = set(re.findall(r"(?m)(?:^\s*|`|/bin/|exec \S+ )zhoubao ((?:db )?[a-z]+)", guide)) - {"zhoubao"}
    assert {"backup", "restore", "db upgrade", "run", "doctor"} <= shown, shown
    missing = [c for c in sorted(shown) if zhoubao(*c.split(), "--help") != 0]
    assert missing == [], f"docs/deploy.md shows commands the CLI does not have: {missing}"
    for target in re.findall(r"\]\((\.\./[^)#]+)", guide):
        assert (ROOT / "docs" / target).resolve().exists(), target
