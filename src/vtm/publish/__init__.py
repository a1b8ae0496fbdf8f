"""Publish a task's best model to the MLflow Model Registry and the FTP model registry.

publish(settings, catalog, repo, request)   choose, judge, register, upload, set the alias:
                                             all of it or nothing
PublishRequest / PublishResult               what is asked and what was done
GateRequest / Verdict                        how a pipeline's step judges the model, the outcome
FtpTarget.parse(url)                         VTM_FTP_URL, printable only redacted
"""

from vtm.publish.ftp import FileEntry, FtpTarget
from vtm.publish.gate import Verdict
from vtm.publish.service import (
    DEFAULT_ALIAS,
    FtpResult,
    GateRequest,
    PublishRequest,
    PublishResult,
    publish,
)

__all__ = [
    "DEFAULT_ALIAS",
    "FileEntry",
    "FtpResult",
    "FtpTarget",
    "GateRequest",
    "PublishRequest",
    "PublishResult",
    "Verdict",
    "publish",
]
