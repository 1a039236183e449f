"""The marshmallow schemas `_validation` checks with, kept apart so that marshmallow and the
generated rules load on the first validated call (`run`, `list`, `save`), not on
`import neuro_sync`. Only `_validation` imports this module, inside its functions.
"""

from __future__ import annotations

from marshmallow import Schema
from neuro_sync_api import validation as rules

from .config import DIALECTS


class RemoteImageSchema(Schema):
    name = rules.non_blank(required=True)
    # A tag is one reference component: `name:a/b` or `name:` would be parsed differently.
    tag = rules.String(
        allow_none=True,
        validate=rules.Pattern(r"^[^:/\s]+$", error="must be non-empty without ':' or '/'"),
    )
    owner = rules.non_blank(allow_none=True)
    registry = rules.non_blank(allow_none=True)


IMAGE = RemoteImageSchema()
# Per dialect: under 2019 a key of the 2022 dialect is an unknown key.
JOB_REQUEST = {d: rules.for_dialect(rules.JobRequest, d) for d in DIALECTS}
LIST_QUERY = rules.ListJobsQuery()
LIFE_SPAN = rules.LifeSpanRequest()
