"""The FTP model registry: where `VTM_FTP_URL` points, a session on it, and an upload that a
reader never sees half done.

Every file goes up under a temporary name in its final folder, is read back and compared (size
and sha256), and only then renamed to its final name. ``FolderUpload.rollback`` removes what an
attempt wrote. The password lives in :class:`FtpTarget` only: ``repr`` and every message use
the redacted URL, and messages are scrubbed of it in case a server echoes it back.
"""

from __future__ import annotations

import ftplib
import hashlib
import io
import logging
import posixpath
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from vtm.errors import UpstreamError
from vtm.redaction import MASK, redact_secret

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30.0
CHUNK = 1 << 16


@dataclass(frozen=True)
class FileEntry:
    """One published file: its path inside the version folder, size and sha256."""

    name: str
    size: int
    sha256: str


def digest_bytes(data: bytes) -> tuple[int, str]:
    return len(data), hashlib.sha256(data).hexdigest()


def digest_file(path: Path) -> tuple[int, str]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return size, h.hexdigest()


@dataclass(frozen=True)
class FtpTarget:
    """A parsed ``ftp://user:password@host:port/path``; prints as the redacted URL."""

    user: str
    password: str = field(repr=False)
    host: str
    port: int
    path: str

    @classmethod
    def parse(cls, url: str) -> FtpTarget:
        # The URL is never echoed back: it holds the password.
        bad = UpstreamError(
            "FTP registry: VTM_FTP_URL is not a valid ftp://user:password@host:port/path URL"
        )
        try:
            parts = urlsplit(url.strip())
            port = parts.port or 21
        except ValueError:
            raise bad from None
        if parts.scheme != "ftp" or not parts.hostname or parts.query or parts.fragment:
            raise bad
        path = unquote(parts.path).strip("/")
        if any(segment in ("", ".", "..") for segment in path.split("/")) and path:
            raise bad
        return cls(
            user=unquote(parts.username or "anonymous"),
            password=unquote(parts.password or ""),
            host=parts.hostname,
            port=port,
            path=path,
        )

    @property
    def redacted(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"ftp://{self.user}:{MASK}@{host}:{self.port}/{self.path}"

    def __repr__(self) -> str:
        return f"FtpTarget({self.redacted})"

    def __str__(self) -> str:
        return self.redacted

    def scrub(self, text: str) -> str:
        """``text`` without the password, whatever put it there."""
        return redact_secret(text, self.password)


class FtpSession:
    """One logged-in connection; paths are absolute from the login folder (``home``)."""

    def __init__(self, target: FtpTarget, ftp: ftplib.FTP, home: str) -> None:
        self.target = target
        self._ftp = ftp
        self.home = home

    @classmethod
    @contextmanager
    def open(cls, target: FtpTarget) -> Iterator[FtpSession]:
        ftp = ftplib.FTP(timeout=TIMEOUT_SECONDS)
        with failing(target, f"reach {target.host}:{target.port}"):
            ftp.connect(target.host, target.port)
        try:
            try:
                ftp.login(target.user, target.password)
            except ftplib.error_perm as exc:
                raise UpstreamError(
                    f"FTP registry {target.redacted}: login refused for user "
                    f"{target.user!r} ({target.scrub(str(exc))})"
                ) from None
            except ftplib.all_errors as exc:
                raise _upstream(target, "log in", exc) from None
            with failing(target, "start a session"):
                ftp.voidcmd("TYPE I")
                home = ftp.pwd()
            yield cls(target, ftp, home)
        finally:
            try:
                ftp.quit()
            except ftplib.all_errors:
                ftp.close()

    def path(self, *parts: str) -> str:
        return posixpath.join(self.home, self.target.path, *parts)

    def is_dir(self, path: str) -> bool:
        try:
            self._ftp.cwd(path)
        except ftplib.error_perm:
            return False
        return True

    def make_dirs(self, path: str) -> list[str]:
        """Create ``path`` and its missing parents; returns the folders it created."""
        created: list[str] = []
        current = "/"
        for segment in path.strip("/").split("/"):
            current = posixpath.join(current, segment)
            if not self.is_dir(current):
                self._ftp.mkd(current)
                created.append(current)
        return created

    def entries(self, folder: str) -> list[tuple[str, str]]:
        """(name, 'file' | 'dir') of what ``folder`` holds."""
        return [
            (name, facts.get("type", "file"))
            for name, facts in self._ftp.mlsd(folder, facts=["type"])
            if facts.get("type") not in ("cdir", "pdir") and name not in (".", "..")
        ]

    def read(self, path: str) -> bytes:
        buffer = io.BytesIO()
        self._ftp.retrbinary(f"RETR {path}", buffer.write, blocksize=CHUNK)
        return buffer.getvalue()

    def digest(self, path: str) -> tuple[int, str]:
        h = hashlib.sha256()
        size = 0

        def take(chunk: bytes) -> None:
            nonlocal size
            h.update(chunk)
            size += len(chunk)

        self._ftp.retrbinary(f"RETR {path}", take, blocksize=CHUNK)
        return size, h.hexdigest()

    def store(self, path: str, source: BinaryIO) -> None:
        self._ftp.storbinary(f"STOR {path}", source, blocksize=CHUNK)

    def rename(self, old: str, new: str) -> None:
        self._ftp.rename(old, new)

    def delete(self, path: str) -> None:
        self._ftp.delete(path)

    def remove_dir(self, path: str) -> None:
        self._ftp.rmd(path)

    def clear(self, folder: str) -> None:
        """Remove everything inside ``folder`` (a folder that an interrupted attempt left)."""
        for name, kind in self.entries(folder):
            inner = posixpath.join(folder, name)
            if kind == "dir":
                self.clear(inner)
                self.remove_dir(inner)
            else:
                self.delete(inner)


class FolderUpload:
    """Files going into one folder, each verified and renamed into place; undoable."""

    def __init__(self, session: FtpSession, folder: str, created: list[str]) -> None:
        self.session = session
        self.folder = folder
        self._created_dirs = list(created)
        self._temps: list[str] = []
        self._finals: list[str] = []

    def put_file(self, name: str, local: Path) -> FileEntry:
        size, sha = digest_file(local)
        with local.open("rb") as fh:
            self._put(name, fh, size, sha)
        return FileEntry(name, size, sha)

    def put_bytes(self, name: str, data: bytes) -> FileEntry:
        size, sha = digest_bytes(data)
        self._put(name, io.BytesIO(data), size, sha)
        return FileEntry(name, size, sha)

    def _put(self, name: str, source: BinaryIO, size: int, sha: str) -> None:
        s = self.session
        final = posixpath.join(self.folder, name)
        parent, base = posixpath.split(final)
        if parent != self.folder:
            with failing(s.target, f"create the folder of {name}"):
                self._created_dirs += s.make_dirs(parent)
        temp = posixpath.join(parent, f".{base}.part-{uuid.uuid4().hex[:12]}")
        self._temps.append(temp)
        with failing(s.target, f"upload {name}"):
            s.store(temp, source)
        with failing(s.target, f"read back {name}"):
            got_size, got_sha = s.digest(temp)
        if (got_size, got_sha) != (size, sha):
            raise UpstreamError(
                f"FTP registry {s.target.redacted}: {name} read back as {got_size} bytes "
                f"(sha256 {got_sha[:12]}…), not the {size} bytes (sha256 {sha[:12]}…) sent"
            )
        with failing(s.target, f"rename {name} into place"):
            s.rename(temp, final)
        self._temps.remove(temp)
        self._finals.append(final)

    def rollback(self) -> list[str]:
        """Remove this attempt's temporary files, renamed files and new folders; returns
        what could not be removed. When the connection itself broke, a new one does it."""
        try:
            left = self._remove_all(self.session)
        except (OSError, EOFError):
            try:
                with FtpSession.open(self.session.target) as fresh:
                    left = self._remove_all(fresh)
            except (UpstreamError, OSError, EOFError, ftplib.Error):
                left = [*self._temps, *self._finals, *(d + "/" for d in self._created_dirs)]
        self._temps, self._finals, self._created_dirs = [], [], []
        return left

    def _remove_all(self, session: FtpSession) -> list[str]:
        """Best effort past refusals; a broken connection (OSError, EOFError) is raised."""
        left: list[str] = []
        for path in [*self._temps, *reversed(self._finals)]:
            try:
                session.delete(path)
            except ftplib.Error:
                # 550 also when the file is not there (a STOR refused before creating it).
                if self._exists(session, path):
                    left.append(path)
        for folder in sorted(self._created_dirs, key=len, reverse=True):
            try:
                session.remove_dir(folder)
            except ftplib.Error:
                left.append(folder + "/")
        return left

    @staticmethod
    def _exists(session: FtpSession, path: str) -> bool:
        parent, base = posixpath.split(path)
        try:
            return any(name == base for name, _ in session.entries(parent))
        except ftplib.Error:
            return True


def _upstream(target: FtpTarget, action: str, exc: BaseException) -> UpstreamError:
    detail = target.scrub(str(exc)) or type(exc).__name__
    return UpstreamError(f"FTP registry {target.redacted}: could not {action}: {detail}")


@contextmanager
def failing(target: FtpTarget, action: str) -> Iterator[None]:
    """Turn ftplib's and the socket's errors into an UpstreamError naming ``action``."""
    try:
        yield
    except ftplib.all_errors as exc:
        raise _upstream(target, action, exc) from None
