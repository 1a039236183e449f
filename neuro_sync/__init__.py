"""neuro-sync: a synchronous, blocking client for the Neuromation platform Jobs API.

import neuro_sync
job = neuro_sync.run("ubuntu", "echo hello")      # module-level calls on a default client
for line in neuro_sync.logs(job.id):
    print(line)

with neuro_sync.get() as client:
    job = client.jobs.run(neuro_sync.Container(
        image=neuro_sync.RemoteImage("ubuntu"),
        resources=neuro_sync.Resources(memory_mb=100, cpu=0.5),
        command="echo hello",
    ))
    client.jobs.wait(job.id)
"""

import builtins

from . import _default
from ._default import *  # noqa: F403 - the module-level calls; names in _default.__all__
from ._joblist import JobStream
from ._ssh import ExecResult, PortForward
from ._streams import LogLines, LogStream, TelemetryStream
from ._timeouts import CLIENT_DEFAULT, ClientDefault, Timeout
from ._version import __version__ as __version__
from .client import Client, ClientOptions, Factory, get
from .config import ClusterConfig, Preset
from .errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    AuthError,
    AuthorizationError,
    ClientError,
    ConfigError,
    ExecTimeout,
    HostKeyMismatch,
    IllegalArgumentError,
    JobNotFound,
    JobNotRunning,
    JobSaveError,
    JobSubmissionUncertain,
    MethodNotAllowed,
    MissingPermission,
    ReplyTooLarge,
    ResourceNotFound,
    ResponseValidationError,
    ServerError,
    SSHNotAvailable,
    StreamInterrupted,
    ValidationError,
    WaitTimeout,
)
from .jobs import JobOptions, Jobs
from .models import (
    Container,
    HTTPPort,
    JobDescription,
    JobList,
    JobRestartPolicy,
    JobStatus,
    JobStatusHistory,
    JobStatusItem,
    JobTelemetry,
    RemoteImage,
    Resources,
    Volume,
)
from .parsing import Parser

__all__ = [
    "CLIENT_DEFAULT",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthError",
    "AuthenticationError",
    "AuthorizationError",
    "Client",
    "ClientDefault",
    "ClientError",
    "ClientOptions",
    "ClusterConfig",
    "ConfigError",
    "Container",
    "ExecResult",
    "ExecTimeout",
    "Factory",
    "HTTPPort",
    "HostKeyMismatch",
    "IllegalArgumentError",
    "JobDescription",
    "JobList",
    "JobNotFound",
    "JobNotRunning",
    "JobOptions",
    "JobRestartPolicy",
    "JobSaveError",
    "JobStatus",
    "JobStatusHistory",
    "JobStatusItem",
    "JobSubmissionUncertain",
    "JobTelemetry",
    "JobStream",
    "Jobs",
    "LogLines",
    "LogStream",
    "MethodNotAllowed",
    "MissingPermission",
    "Parser",
    "PortForward",
    "Preset",
    "RemoteImage",
    "ResourceNotFound",
    "Resources",
    "ReplyTooLarge",
    "ResponseValidationError",
    "SSHNotAvailable",
    "ServerError",
    "StreamInterrupted",
    "TelemetryStream",
    "Timeout",
    "ValidationError",
    "Volume",
    "WaitTimeout",
    "get",
]
# neuro_sync.run, .logs, ...: listed once, there. `list`, `iter` and `exec` stay reachable as
# neuro_sync.list etc. but out of `__all__`: `from neuro_sync import *` must not shadow builtins.
__all__ += [name for name in _default.__all__ if not hasattr(builtins, name)]
