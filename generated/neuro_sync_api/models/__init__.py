"""Contains all the data models used in inputs/outputs"""

from .cluster_config import ClusterConfig
from .container_request import ContainerRequest
from .container_request_env import ContainerRequestEnv
from .container_response import ContainerResponse
from .container_response_env import ContainerResponseEnv
from .error_body import ErrorBody
from .forbidden_body import ForbiddenBody
from .get_job_log_timestamps import GetJobLogTimestamps
from .http_request import HTTPRequest
from .http_response import HTTPResponse
from .job import Job
from .job_history import JobHistory
from .job_list import JobList
from .job_request import JobRequest
from .job_request_priority import JobRequestPriority
from .job_request_restart_policy import JobRequestRestartPolicy
from .job_status_filter import JobStatusFilter
from .job_status_item import JobStatusItem
from .job_telemetry import JobTelemetry
from .life_span_request import LifeSpanRequest
from .list_jobs_reverse import ListJobsReverse
from .missing_permission import MissingPermission
from .resource_preset import ResourcePreset
from .resource_preset_2022 import ResourcePreset2022
from .resources_request import ResourcesRequest
from .resources_response import ResourcesResponse
from .save_container import SaveContainer
from .save_progress import SaveProgress
from .save_progress_aux import SaveProgressAux
from .save_progress_details import SaveProgressDetails
from .save_progress_error_detail import SaveProgressErrorDetail
from .save_request import SaveRequest
from .server_config import ServerConfig
from .ssh_port import SSHPort
from .volume_request import VolumeRequest
from .volume_response import VolumeResponse

__all__ = (
    "ClusterConfig",
    "ContainerRequest",
    "ContainerRequestEnv",
    "ContainerResponse",
    "ContainerResponseEnv",
    "ErrorBody",
    "ForbiddenBody",
    "GetJobLogTimestamps",
    "HTTPRequest",
    "HTTPResponse",
    "Job",
    "JobHistory",
    "JobList",
    "JobRequest",
    "JobRequestPriority",
    "JobRequestRestartPolicy",
    "JobStatusFilter",
    "JobStatusItem",
    "JobTelemetry",
    "LifeSpanRequest",
    "ListJobsReverse",
    "MissingPermission",
    "ResourcePreset",
    "ResourcePreset2022",
    "ResourcesRequest",
    "ResourcesResponse",
    "SaveContainer",
    "SaveProgress",
    "SaveProgressAux",
    "SaveProgressDetails",
    "SaveProgressErrorDetail",
    "SaveRequest",
    "ServerConfig",
    "SSHPort",
    "VolumeRequest",
    "VolumeResponse",
)
