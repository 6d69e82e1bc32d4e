"""The console entry points as a user runs them: real processes, real pipes, real sockets."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bot.app.cli import run_telegram
from bot.platforms.premiumexchanger.sandbox.keys import DEMO
from tests.conftest import make_settings
from tests.telegram_emulator import TelegramEmulator

BOT_TOKEN = "123456789:AAHfakeTokenForTheEmulatorOnly0000000"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    return {**keep, "DATABASE_PATH": str(tmp_path / "data" / "bot.sqlite3"), **extra}


def _run(args: list[str], tmp_path: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path, **env),
        timeout=120,
    )


def test_chat_talks_to_the_bot_through_pipes(tmp_path: Path) -> None:
    result = _run(["chat"], tmp_path, stdin='1\n5\n1\n10000\n"1\n/help\n/quit\n')
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "Hello, You!" in out
    assert "[1] 💱 Exchange" in out
    assert "Bitcoin BTC" in out  # button 1 pressed: live list from the embedded sandbox
    assert "You give: Sberbank RUB" in out  # button 5 pressed
    assert "From card" in out  # 10000 was an amount, not a button
    assert "That is not a number" not in out
    # "1 was sent as the card number (text, refused as too short, the field asked again), not as
    # button 1 (Back to the amount).
    assert out.count("Card number, 16 digits") >= 2
    assert "/language: " in out  # /help answered through the pipe
    # The secret key was generated once, private to the owner.
    key_file = tmp_path / "data" / "secret.key"
    assert key_file.exists() and (key_file.stat().st_mode & 0o777) == 0o600


def test_run_without_token_on_a_terminal_starts_the_offline_chat(tmp_path: Path) -> None:
    import pty

    controller, terminal = pty.openpty()
    try:
        os.write(controller, b"/quit\n")
        result = subprocess.run(
            [sys.executable, "-m", "bot", "run"],
            stdin=terminal,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=_env(tmp_path),
            timeout=120,
        )
    finally:
        os.close(terminal)
        os.close(controller)
    assert result.returncode == 0, result.stderr
    assert "BOT_TOKEN is not set" in result.stdout
    assert "Hello, You!" in result.stdout


def test_run_without_token_and_without_a_terminal_stops_with_one_line(tmp_path: Path) -> None:
    """A container started without BOT_TOKEN: no chat reading EOF and exiting 0, one clear line."""
    result = _run(["run"], tmp_path, stdin="/quit\n")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "BOT_TOKEN is not set" in lines[0], result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "data").exists()  # nothing was created either


def test_second_process_on_one_database_is_refused_naming_the_first(tmp_path: Path) -> None:
    import pty

    controller, terminal = pty.openpty()
    first = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path),
    )
    try:
        assert first.stdout is not None
        for _ in range(200):  # the first one greets once its services (and the lock) are up
            line = first.stdout.readline()
            if "Hello" in line or not line:
                break
        assert first.poll() is None, first.stderr.read() if first.stderr else ""
        second = _run(["run"], tmp_path, BOT_TOKEN=BOT_TOKEN)
        assert second.returncode == 1
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1 and "in use by pid " in lines[0], second.stderr
        assert f"pid {first.pid} " in lines[0]
    finally:
        os.write(controller, b"/quit\n")
        with contextlib.suppress(subprocess.TimeoutExpired):
            first.wait(timeout=30)
        if first.poll() is None:
            first.kill()
            first.wait()
        os.close(terminal)
        os.close(controller)
    # The lock dies with its holder: the database opens again.
    third = _run(["run"], tmp_path, BOT_TOKEN=BOT_TOKEN, TELEGRAM_API_URL="http://127.0.0.1:9")
    assert "in use by" not in third.stderr


def test_unwritable_database_folder_is_named(tmp_path: Path) -> None:
    """A bind-mounted /data the bot's user can't write (here: a file where the folder should be, which
    stops root too) is named in one line instead of a traceback."""
    (tmp_path / "data").write_text("not a folder")
    result = _run(["run"], tmp_path, BOT_TOKEN=BOT_TOKEN)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "not writable" in lines[0] and str(tmp_path / "data") in lines[0]


def test_database_file_not_writable_is_named(tmp_path: Path) -> None:
    """A database file left by another user (the folder is writable, the file is not): one line naming
    it, instead of SQLite's "attempt to write a readonly database" traceback at the first write."""
    import shutil
    import sqlite3

    database = tmp_path / "data" / "bot.sqlite3"
    database.parent.mkdir()
    sqlite3.connect(database).close()
    database.chmod(0o400)
    prefix: list[str] = []
    if os.geteuid() == 0:  # root writes any file: run the bot as root without that privilege
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv to drop CAP_DAC_OVERRIDE")
        prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner"]
    result = subprocess.run(
        [*prefix, sys.executable, "-m", "bot", "run"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path, BOT_TOKEN=BOT_TOKEN),
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "not writable" in lines[0] and str(database) in lines[0] and "mode 400" in lines[0]


def test_telegram_out_of_reach_at_start_is_one_line(tmp_path: Path) -> None:
    """TELEGRAM_API_URL where nothing listens (a firewall, a typo): one line and exit 1, no traceback."""
    port = _free_port()  # nothing listens there once the probe socket is closed
    result = _run(
        ["run"],
        tmp_path,
        BOT_TOKEN=BOT_TOKEN,
        TELEGRAM_API_URL=f"http://127.0.0.1:{port}",
        LOG_LEVEL="WARNING",
    )
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "cannot reach Telegram" in lines[0] and f"127.0.0.1:{port}" in lines[0]
    assert BOT_TOKEN.split(":")[1] not in result.stderr


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"EXCHANGER_URL": "ftp://example.com"}, "EXCHANGER_URL"),
        ({"BOT_TOKEN": "not-a-token-but-a-secret"}, "BOT_TOKEN"),
        ({"EXCHANGER_URL": "https://example.com"}, "EXCHANGER_API_LOGIN"),
        ({"EXCHANGER_URL": "https://example.com", "EXCHANGER_API_LOGIN": "bot"}, "EXCHANGER_API_KEY"),
        ({"EXCHANGER_PLATFORM": "no-such-exchanger"}, "EXCHANGER_PLATFORM"),
        ({"EXCHANGER_PLATFORM": "0trace", "EXCHANGER_URL": "https://example.com"}, "EXCHANGER_API_KEY"),
        ({"HTTP_PORT": "99999"}, "HTTP_PORT"),
        ({"DEFAULT_LANGUAGE": "de"}, "DEFAULT_LANGUAGE"),
    ],
)
def test_bad_configuration_stops_with_one_clear_line(
    tmp_path: Path, env: dict[str, str], variable: str
) -> None:
    result = _run(["run"], tmp_path, **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and variable in lines[0], result.stderr
    assert "not-a-token-but-a-secret" not in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_sandbox_command_serves_the_api(tmp_path: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path),
    )
    try:
        assert process.stdout is not None
        banner = []
        for line in process.stdout:
            banner.append(line)
            if DEMO.key in line:
                break
        text = "".join(banner)
        assert f"http://127.0.0.1:{port}" in text
        response = httpx.post(
            f"http://127.0.0.1:{port}/api/userapi/v1/test",
            headers={"API-LOGIN": DEMO.login, "API-KEY": DEMO.key},
            timeout=10,
        )
        assert response.status_code == 200
        assert str(response.json()["error"]) == "0"
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_run_polls_a_bot_api_server_and_sets_commands(tmp_path: Path, sandbox) -> None:
    emulator = TelegramEmulator()
    url = await emulator.start()
    settings = make_settings(tmp_path, sandbox.url, bot_token=BOT_TOKEN, telegram_api_url=url)
    task = asyncio.create_task(run_telegram(settings))
    try:
        emulator.push_text(777, "/start", language_code="ru")
        sent = await asyncio.wait_for(emulator.sent.get(), timeout=30)
        assert sent["chat_id"] == "777"
        assert "Здравствуйте, Tester!" in sent["text"]
        assert sent["parse_mode"] == "HTML"
        ru = {c["command"]: c["description"] for c in emulator.commands_for("ru")}
        en = {c["command"]: c["description"] for c in emulator.commands_for("en")}
        assert ru["cancel"] == "Отменить текущее действие"
        assert en["cancel"] == "Cancel the current action"
        assert set(ru) == {"start", "exchange", "orders", "partner", "help", "language", "cancel"}
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await emulator.stop()


def test_sandbox_command_serves_another_platform(tmp_path: Path) -> None:
    from bot.platforms.registry import PLATFORMS

    others = sorted(name for name in PLATFORMS if name != "premiumexchanger")
    if not others:
        pytest.skip("only one platform is registered")
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "sandbox", "--platform", others[0], "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=tmp_path,
        env=_env(tmp_path),
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if f"http://127.0.0.1:{port}" in line:
                break
        else:
            pytest.fail(f"the {others[0]} sandbox never said where it listens")
        with socket.create_connection(("127.0.0.1", port), timeout=10):
            pass  # it listens there
    finally:
        process.terminate()
        process.wait(timeout=10)
    unknown = _run(["sandbox", "--platform", "no-such-exchanger"], tmp_path)
    assert unknown.returncode == 2 and "no-such-exchanger" in unknown.stderr
