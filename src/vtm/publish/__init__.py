"""Publish a task's best model to the MLflow Model Registry and the FTP model registry.

publish(settings, catalog, repo, request)   choose, register, upload, set the alias; all or nothing
PublishRequest / PublishResult               what is asked and what was done
FtpTarget.parse(url)                         VTM_FTP_URL, printable only redacted
"""

from vtm.publish.ftp import FileEntry, FtpTarget
from vtm.publish.service import (
    DEFAULT_ALIAS,
    FtpResult,
    PublishRequest,
    PublishResult,
    publish,
)

__all__ = [
    "DEFAULT_ALIAS",
    "FileEntry",
    "FtpResult",
    "FtpTarget",
    "PublishRequest",
    "PublishResult",
    "publish",
]
