"""`exchanger-bot run` as a real process against the Telegram emulator and a sandbox exchanger on
loopback, for the tests that stop, kill and restart it."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import sys
from pathlib import Path

from bot.platforms.premiumexchanger.sandbox.keys import DEMO
from tests.conftest import TEST_SECRET_KEY

BOT_TOKEN = "123456789:AAHfakeTokenForTheEmulatorOnly0000000"
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BotProcess:
    """One database and HTTP port across restarts; ``start`` runs a fresh process on them."""

    def __init__(self, tmp_path: Path, telegram_url: str, exchanger_url: str, **env: str) -> None:
        self.tmp_path = tmp_path
        self.port = free_port()
        self.database = tmp_path / "data" / "bot.sqlite3"
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
        self.env = {
            **keep,
            "PYTHONPATH": str(ROOT),
            "BOT_TOKEN": BOT_TOKEN,
            "TELEGRAM_API_URL": telegram_url,
            "EXCHANGER_URL": exchanger_url,
            "EXCHANGER_API_LOGIN": DEMO.login,
            "EXCHANGER_API_KEY": DEMO.key,
            "DATABASE_PATH": str(self.database),
            "SECRET_KEY": TEST_SECRET_KEY,
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(self.port),
            "PUBLIC_URL": f"http://127.0.0.1:{self.port}",
            "LOG_LEVEL": "INFO",
            **env,
        }
        self.process: asyncio.subprocess.Process | None = None
        self.logs: list[str] = []  # stderr of every run, in order
        self._reader: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, **env: str) -> None:
        self.logs.append("")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=self.tmp_path,
            env={**self.env, **env},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self._reader = asyncio.create_task(self._read(self.process))

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stderr is not None
        async for line in process.stderr:
            self.logs[-1] += line.decode("utf-8", "replace")

    @property
    def log(self) -> str:
        return self.logs[-1] if self.logs else ""

    async def wait_for_log(self, text: str, within: float = 60.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while text not in self.log:
            if self.process is not None and self.process.returncode is not None:
                code = self.process.returncode
                raise AssertionError(f"the bot exited ({code}) before {text!r}:\n{self.log}")
            if loop.time() > deadline:
                raise AssertionError(f"no {text!r} in the log:\n{self.log}")
            await asyncio.sleep(0.05)

    def send(self, sig: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    async def wait(self, within: float = 60.0) -> int:
        assert self.process is not None
        code = await asyncio.wait_for(self.process.wait(), within)
        if self._reader is not None:
            await asyncio.wait_for(self._reader, within)
        return code

    async def stop(self) -> None:
        """Whatever state it is in (the tests' cleanup)."""
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)

    def query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        """Read the bot's database (between runs, or read-only beside a running bot: WAL allows it)."""
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True) as conn:
            return list(conn.execute(sql, params))
