"""One bot process per database file.

The FSM cache, the outbox sender and the order tracker each assume they are the only writer of their
rows; two processes on one SQLite file (two containers on one volume, a server started with workers)
would serve each other stale conversations and send notifications twice. So a process that opens the
database for the bot first takes an exclusive ``flock`` on ``<database>.lock`` and writes who it is
there; a second one is refused with a message that names the first. The kernel drops the lock when the
process dies, SIGKILL included, so a crash never leaves the file locked.
"""

from __future__ import annotations

import fcntl
import os
import socket
import time
from pathlib import Path

__all__ = ["DatabaseInUse", "DatabaseNotWritable", "WriterLock"]


class DatabaseInUse(Exception):
    """Another process holds the database; the message names it."""


class DatabaseNotWritable(Exception):
    """The database's folder or file cannot be written by this user; the message says what to change."""


def _not_writable(path: Path, exc: OSError) -> DatabaseNotWritable:
    folder = path.parent
    try:
        owner = f"owned by uid {folder.stat().st_uid}"
    except OSError:
        owner = "missing or unreadable"
    return DatabaseNotWritable(
        f"DATABASE_PATH {path}: the folder {folder} ({owner}) is not writable by uid {os.getuid()} "
        f"({exc.strerror}); give it to this user (chown {os.getuid()} {folder}) "
        "or point DATABASE_PATH elsewhere"
    )


def _check_files_writable(database_path: Path) -> None:
    """SQLite opens a file it may not write read-only and fails only at the first write, with a bare
    "attempt to write a readonly database": say which file and what to do before that."""
    for path in (database_path, Path(f"{database_path}-wal"), Path(f"{database_path}-shm")):
        if path.exists() and not os.access(path, os.W_OK):
            try:
                owner = f"owned by uid {path.stat().st_uid}, mode {path.stat().st_mode & 0o777:o}"
            except OSError:
                owner = "unreadable"
            raise DatabaseNotWritable(
                f"DATABASE_PATH {database_path}: the file {path} ({owner}) is not writable by uid "
                f"{os.getuid()}; give it to this user (chown {os.getuid()} {path}) or make it writable"
            )


class WriterLock:
    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, database_path: Path) -> WriterLock:
        path = Path(f"{database_path}.lock")
        _check_files_writable(Path(database_path))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:  # permission, read-only file system, a file where the folder should be
            raise _not_writable(Path(database_path), exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise DatabaseInUse(
                f"DATABASE_PATH {database_path} is in use by {holder}; one bot process per database "
                "(stop the other one, or give this one its own DATABASE_PATH)"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        holder = f"pid {os.getpid()} on {socket.gethostname()} (since {started})".encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder, 0)
        return cls(path, fd)

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        # The holder line stays: the next process overwrites it, and the lock itself is the flock.
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def __repr__(self) -> str:
        return f"WriterLock({str(self.path)!r}, held={self._fd is not None})"
