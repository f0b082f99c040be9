"""One place that turns errors into JSON: 4xx with a code for bad input, never an HTML page or a 500."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

logger = logging.getLogger(__name__)


def error_body(code: str, message: str, detail: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if detail is not None:
        body["error"]["detail"] = detail
    return body


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class Unauthorised(ApiError):
    """No valid proof of owning the conversation; says nothing about whether it exists."""

    def __init__(self) -> None:
        super().__init__(401, "unauthorised", "a valid session token for this conversation is required")


def _validation_code(exc: RequestValidationError) -> tuple[int, str, str]:
    errors = exc.errors()
    kinds = {e.get("type") for e in errors}
    if "json_invalid" in kinds:
        return 400, "invalid_json", "the request body is not valid JSON"
    if any("sender_id" in e.get("loc", ()) for e in errors if e.get("type") != "missing"):
        return 422, "invalid_sender_id", "sender_id must be 16-128 characters of A-Z, a-z, 0-9 and _ . : @ -"
    if kinds & {"string_too_long"}:
        return 422, "text_too_long", "the text is too long"
    if kinds & {"string_too_short"}:
        return 422, "empty_text", "the text is empty"
    if kinds & {"missing"}:
        return 422, "missing_field", "a required field is missing"
    return 422, "invalid_request", "the request does not match the schema"


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def on_validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        status, code, message = _validation_code(exc)
        detail = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()]
        return JSONResponse(error_body(code, message, json.loads(json.dumps(detail, default=str))), status)

    @app.exception_handler(ApiError)
    async def on_api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message), exc.status)

    @app.exception_handler(HTTPException)
    async def on_http(_: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}
        return JSONResponse(
            error_body(code.get(exc.status_code, "http_error"), str(exc.detail)),
            exc.status_code,
            headers=getattr(exc, "headers", None),
        )
