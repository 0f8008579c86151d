"""Bitrix24's envelopes (robot calls, lifecycle events, the install POST): lenient schemas."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate


class CallAuthSchema(Schema):
    """The auth[...] block of a handler call or event (lenient: Bitrix24 adds keys)."""

    class Meta:
        unknown = EXCLUDE

    member_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    application_token = fields.String(required=True, validate=validate.Length(min=1, max=128))
    domain = fields.String(load_default="")
    access_token = fields.String(load_default="")
    refresh_token = fields.String(load_default="")
    expires_in = fields.Integer(load_default=3600)
    scope = fields.String(load_default="")
    status = fields.String(load_default="")
    user_id = fields.Integer(load_default=None, allow_none=True)


class HandlerCallSchema(Schema):
    """The envelope of a robot or activity call (form-encoded, bracket keys)."""

    class Meta:
        unknown = EXCLUDE

    workflow_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    code = fields.String(required=True, validate=validate.Length(min=1, max=128))
    document_id = fields.List(fields.String(), required=True, validate=validate.Length(equal=3))
    document_type = fields.List(fields.String(), load_default=list)
    event_token = fields.String(required=True, validate=validate.Length(min=1, max=255))
    properties = fields.Dict(keys=fields.String(), load_default=dict)
    use_subscription = fields.String(load_default="Y")
    timeout_duration = fields.Integer(load_default=0)
    auth = fields.Nested(CallAuthSchema, required=True)


class FrameInstallSchema(Schema):
    """The install page's frame POST (tokens of the admin who opened it)."""

    class Meta:
        unknown = EXCLUDE

    AUTH_ID = fields.String(required=True, validate=validate.Length(min=1, max=255))
    REFRESH_ID = fields.String(required=True, validate=validate.Length(min=1, max=255))
    AUTH_EXPIRES = fields.Integer(load_default=3600)
    member_id = fields.String(required=True, validate=validate.Length(min=1, max=64))
    APPLICATION_TOKEN = fields.String(required=True, validate=validate.Length(min=1, max=128))
    APPLICATION_SCOPE = fields.String(load_default="")
    status = fields.String(load_default="")


class LifecycleEventSchema(Schema):
    """ONAPPINSTALL / ONAPPUPDATE / ONAPPUNINSTALL event forms."""

    class Meta:
        unknown = EXCLUDE

    event = fields.String(
        required=True, validate=validate.OneOf(["ONAPPINSTALL", "ONAPPUPDATE", "ONAPPUNINSTALL"])
    )
    data = fields.Dict(load_default=dict)
    ts = fields.String(load_default="")
    auth = fields.Nested(CallAuthSchema, required=True)
