"""config.toml: what an admin sees when the file is right, wrong, or overridden by env."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.config import ConfigError, load_settings
from tests.conftest import REPO, TEST_CONFIG

SHIPPED = REPO / "config.toml"  # the chamber's: only checked to be valid


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def shipped_with(old: str, new: str, tmp_path: Path) -> Path:
    text = TEST_CONFIG.read_text(encoding="utf-8")
    assert old in text
    return write_config(tmp_path, text.replace(old, new, 1))


def line_number_of(path: Path, fragment: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(fragment)


def test_the_shipped_config_is_valid() -> None:
    """The chamber edits config.toml; whatever it holds must load (and the README's `make run`
    must work from a fresh clone: with no endpoint, against the simulator)."""
    load_settings(SHIPPED, environ={})


def test_config_targets_the_presidents_group_in_shanghai_time() -> None:
    settings = load_settings(TEST_CONFIG, environ={})
    assert settings.general.timezone == "Asia/Shanghai"
    assert [g.topic for g in settings.groups] == ["山西省山东商会会长官方群"]
    answers = "\n".join(entry.answer for entry in settings.faq.entries)
    for fact in ("0351-8224667", "sxssdsh@163.com", "030006", "山西省太原市长治路306号火炬创业大厦C座15层"):
        assert fact in answers
    assert settings.uses_simulator


def test_environment_overrides_endpoint_and_token() -> None:
    env = {"WECHATY_PUPPET_SERVICE_ENDPOINT": "10.1.2.3:8788", "WECHATY_PUPPET_SERVICE_TOKEN": "t0k"}
    settings = load_settings(TEST_CONFIG, environ=env)
    assert settings.gateway.endpoint == "10.1.2.3:8788"
    assert settings.gateway.token == "t0k"
    assert not settings.uses_simulator


def test_wrong_value_names_file_line_and_field(tmp_path: Path) -> None:
    path = shipped_with("messages_per_minute = 40", "messages_per_minute = -5", tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    line = line_number_of(path, "messages_per_minute = -5")
    assert str(caught.value).startswith(f"{path}, line {line}, field 'sending.messages_per_minute'")


def test_misspelt_key_is_reported_not_ignored(tmp_path: Path) -> None:
    path = shipped_with("cooldown_seconds = 300", "cooldown_secnods = 300", tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    line = line_number_of(path, "cooldown_secnods")
    assert f"line {line}, field 'faq.cooldown_secnods'" in str(caught.value)


def test_missing_field_in_an_array_table_points_at_that_table(tmp_path: Path) -> None:
    path = shipped_with('answer = "邮政编码：030006"', "", tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    # The third [[faq.entries]] table is the postcode one.
    headers = [n for n, line in enumerate(path.read_text().splitlines(), 1) if line == "[[faq.entries]]"]
    assert f"line {headers[2]}, field 'faq.entries.2.answer'" in str(caught.value)


def test_bad_timezone_and_bad_endpoint(tmp_path: Path) -> None:
    path = shipped_with('timezone = "Asia/Shanghai"', 'timezone = "Beijing"', tmp_path)
    line = line_number_of(path, 'timezone = "Beijing"')
    with pytest.raises(ConfigError, match=rf"line {line}, field 'general.timezone'.*Asia/Shanghai"):
        load_settings(path, environ={})
    path = shipped_with('endpoint = ""', 'endpoint = "gateway.local"', tmp_path)
    with pytest.raises(ConfigError, match=r"field 'gateway.endpoint'.*host:port"):
        load_settings(path, environ={})


def test_toml_syntax_error_names_the_parsers_line(tmp_path: Path) -> None:
    path = shipped_with("[roles]", "[roles", tmp_path)
    line = line_number_of(path, "[roles")
    with pytest.raises(ConfigError, match=rf"not valid TOML: .*line {line}"):
        load_settings(path, environ={})


def test_check_command_reports_ok_or_the_error(tmp_path: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "bot", "check", "--config", str(TEST_CONFIG)],
                        capture_output=True, text=True, cwd=REPO, check=False)
    assert ok.returncode == 0, ok.stderr
    assert "OK" in ok.stdout and "simulator" in ok.stdout

    path = shipped_with('admins = ["wxid_admin_wang"]', 'admins = "wxid_admin_wang"', tmp_path)
    bad = subprocess.run([sys.executable, "-m", "bot", "check", "--config", str(path)],
                         capture_output=True, text=True, cwd=REPO, check=False)
    line = line_number_of(path, 'admins = "wxid_admin_wang"')
    assert bad.returncode == 2
    assert f"{path}, line {line}, field 'roles.admins'" in bad.stderr
    assert bad.stderr.count("\n") == 1  # one message, no traceback


def test_running_with_a_broken_config_stops_before_connecting(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[[groups]]\n")
    run = subprocess.run([sys.executable, "-m", "bot", "run", "--config", str(path)],
                         capture_output=True, text=True, cwd=REPO, check=False, timeout=60)
    assert run.returncode == 2
    assert f"{path}, line 1, field 'groups.0'" in run.stderr


def test_posts_import_turns_the_seed_into_a_paused_draft(tmp_path: Path) -> None:
    seed = REPO.parent / "shared" / "seeds" / "000_0fa0870774f01a57.txt"
    if not seed.exists():
        pytest.skip(f"the seed is not beside the repo: {seed}")
    config = tmp_path / "config.toml"
    config.write_text(TEST_CONFIG.read_text(encoding="utf-8"), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "bot", "posts", "import", str(seed), "--id", "sihao-draft",
                          "--config", str(config)], capture_output=True, text=True, cwd=REPO, check=False)
    assert run.returncode == 0, run.stderr
    draft = (tmp_path / "announcements" / "sihao-draft.md").read_text(encoding="utf-8")
    assert "paused = true" in draft and "(jié)" not in draft and "節" not in draft
    assert "to check, body line" in run.stdout  # the damaged places are pointed out
    listed = subprocess.run([sys.executable, "-m", "bot", "posts", "list", "--config", str(config)],
                            capture_output=True, text=True, cwd=REPO, check=False)
    assert "sihao-draft  草稿待核对（" in listed.stdout  # the import's places to check


def test_alerts_are_off_by_default_and_the_webhook_can_come_from_the_environment() -> None:
    alerts = load_settings(TEST_CONFIG, environ={}).alerts
    assert (alerts.webhook_url, alerts.format, alerts.hung_after_seconds) == ("", "wecom", 60)
    url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=secret"
    settings = load_settings(TEST_CONFIG, environ={"CHAMBER_ALERTS_WEBHOOK_URL": url})
    assert settings.alerts.webhook_url == url


def test_a_wrong_alert_format_names_its_line(tmp_path: Path) -> None:
    path = shipped_with('format = "wecom"', 'format = "dingtalk"', tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    line = line_number_of(path, 'format = "dingtalk"')
    assert str(caught.value).startswith(f"{path}, line {line}, field 'alerts.format': Input should be 'wecom' or 'json'")


WEBHOOK_KEY = "made-up-robot-key-K9x4T"


def check(path: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", "check", "--config", str(path)],
                          capture_output=True, text=True, cwd=REPO, check=False,
                          env={**os.environ, **(env or {})})


def test_a_webhook_url_without_its_scheme_is_refused_without_showing_its_key(
    tmp_path: Path
) -> None:
    url = f"qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WEBHOOK_KEY}"
    path = shipped_with('webhook_url = ""', f'webhook_url = "{url}"', tmp_path)
    line = line_number_of(path, "webhook_url = \"qyapi")
    in_file = check(path)
    assert in_file.returncode == 2
    assert in_file.stderr == (
        f"配置错误 / configuration error: {path}, line {line}, field 'alerts.webhook_url': "
        "Value error, expected an http(s):// URL, e.g. 'https://qyapi.weixin.qq.com/…', "
        "got 'qyapi.weixin.qq.com/…'\n")
    from_env = check(TEST_CONFIG, {"CHAMBER_ALERTS_WEBHOOK_URL": url})
    assert from_env.returncode == 2 and "field 'alerts.webhook_url'" in from_env.stderr
    for run in (in_file, from_env):
        assert WEBHOOK_KEY not in run.stdout + run.stderr


def test_no_config_error_shows_the_gateway_token(tmp_path: Path) -> None:
    """The token pasted into the endpoint too (it is set in the environment): the endpoint's
    error, which shows what it got, shows *** instead."""
    token = "insecure_made-up-gateway-token-7Q2wZ9"
    path = shipped_with('endpoint = ""', f'endpoint = "{token}"', tmp_path)
    run = check(path, {"WECHATY_PUPPET_SERVICE_TOKEN": token})
    assert run.returncode == 2
    assert token not in run.stderr
    assert run.stderr.endswith("field 'gateway.endpoint': Value error, expected host:port, "
                               "e.g. '127.0.0.1:8788', got '***'\n")


def test_the_web_console_listens_on_loopback_by_default_and_docker_can_move_it(tmp_path: Path
                                                                               ) -> None:
    shipped = load_settings(SHIPPED, environ={})
    assert shipped.web.enabled and shipped.web.listen == "127.0.0.1:8080"
    moved = load_settings(SHIPPED, environ={"CHAMBER_WEB_LISTEN": "0.0.0.0:8080",
                                            "CHAMBER_WEB_PUBLIC_URL": "https://bot.example.org/"})
    assert (moved.web.host, moved.web.port) == ("0.0.0.0", 8080)
    assert moved.web.public_url == "https://bot.example.org"
    path = shipped_with('listen = "127.0.0.1:0"', 'listen = "8080"', tmp_path)
    line = line_number_of(path, 'listen = "8080"')
    with pytest.raises(ConfigError, match=rf"line {line}, field 'web.listen'.*127.0.0.1:8080"):
        load_settings(path, environ={})
    path = shipped_with('public_url = ""', 'public_url = "bot.example.org"', tmp_path)
    with pytest.raises(ConfigError, match=r"field 'web.public_url'.*https://"):
        load_settings(path, environ={})
