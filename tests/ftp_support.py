"""A real FTP server for the publish tests: pyftpdlib on 127.0.0.1, in a thread of the test
process, with real users, passwords and a real home folder the tests can look into."""

from __future__ import annotations

import hashlib
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

with warnings.catch_warnings():
    # pyftpdlib 2.2 on Python 3.11 imports the standard library's asynchat and asyncore,
    # which warn that they are deprecated; nothing else is silenced.
    warnings.filterwarnings(
        "ignore", r"The (asyncore|asynchat) module is deprecated", DeprecationWarning
    )
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.ioloop import IOLoop
    from pyftpdlib.servers import FTPServer

# pyftpdlib's permission letters: e cwd, l list, r retrieve, a append, d delete, f rename,
# m mkdir, w store, M chmod, T mtime.
ALL_PERMS = "elradfmwMT"
NO_RENAME = "elradmwMT"


@dataclass(frozen=True)
class User:
    name: str
    password: str
    perm: str = ALL_PERMS


class CorruptingHandler(FTPHandler):
    """A server whose disk changes every file it receives: one byte is appended."""

    def on_file_received(self, file: str) -> None:
        with open(file, "ab") as fh:
            fh.write(b"!")


class DroppingHandler(FTPHandler):
    """A server that drops the session when asked to rename, as a crashing one would."""

    def ftp_RNFR(self, path: str) -> None:
        self.close()


class FtpTestServer:
    def __init__(
        self,
        home: Path,
        users: list[User],
        port: int = 0,
        handler: type[FTPHandler] = FTPHandler,
    ) -> None:
        self.home = home
        self.users = users
        self._port = port
        self._handler = handler
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._server: FTPServer | None = None
        self.port = 0

    def start(self) -> FtpTestServer:
        self.home.mkdir(parents=True, exist_ok=True)
        authorizer = DummyAuthorizer()
        for user in self.users:
            authorizer.add_user(user.name, user.password, str(self.home), perm=user.perm)
        # A class per server: pyftpdlib configures handlers through class attributes.
        # A refused login answers after 0.2 s instead of pyftpdlib's 3 s: tests wait for it.
        handler: Any = type(
            "Handler", (self._handler,), {"authorizer": authorizer, "auth_failed_timeout": 0.2}
        )
        # Its own IOLoop: the default one is a process-wide singleton shared by all servers.
        self._server = FTPServer(("127.0.0.1", self._port), handler, ioloop=IOLoop())
        self.port = self._server.address[1]
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name="ftp-test-server", daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        assert self._server is not None
        try:
            while not self._stop.is_set():
                self._server.ioloop.loop(timeout=0.05, blocking=False)
        finally:
            self._server.close_all()

    def stop(self) -> None:
        """Stop listening and drop every connection (the port is then closed)."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join(10)
            self._thread = None

    def url(self, user: User, password: str | None = None, path: str = "registry") -> str:
        secret = user.password if password is None else password
        return f"ftp://{user.name}:{secret}@127.0.0.1:{self.port}/{path}"

    def files(self) -> dict[str, tuple[int, str, int]]:
        """Every file under the home folder: path → (size, sha256, mtime in ns)."""
        found = {}
        for path in sorted(self.home.rglob("*")):
            if path.is_file():
                data = path.read_bytes()
                found[path.relative_to(self.home).as_posix()] = (
                    len(data),
                    hashlib.sha256(data).hexdigest(),
                    path.stat().st_mtime_ns,
                )
        return found

    def folders(self) -> list[str]:
        return sorted(
            p.relative_to(self.home).as_posix() for p in self.home.rglob("*") if p.is_dir()
        )
