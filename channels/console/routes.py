"""Console routes. Every route except the login page requires a staff session; every state-changing
request also requires the session's CSRF token; every read of a conversation and every write is audited."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Header, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field, StringConstraints

from channels.console import auth
from channels.errors import ApiError, error_body
from channels.handoff.service import CONSOLE
from channels.safety.context import risk_labels
from channels.safety.privacy import mask_phone, mask_pii
from channels.store.records import MAX_ROW_ID, StaffRecord, TicketRecord
from channels.store.store import Store, TicketStateError

router = APIRouter(prefix="/console")
HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
LOGIN_LIMIT = (5, 1 / 60)  # five tries at once per client and name, then one a minute
OUTCOMES = ("resolved", "referred_local", "reported_police", "callback_scheduled", "no_response", "other")


class LoginRequired(Exception):
    def __init__(self, page: bool) -> None:
        self.page = page


def install(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        if exc.page:
            return RedirectResponse("/console/login", status_code=303)
        return JSONResponse(error_body("unauthorized", "login required"), status_code=401)


def _secret(request: Request) -> str:
    secret: str = request.app.state.session_secret
    return secret


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def _staff(request: Request, page: bool) -> tuple[StaffRecord, auth.Session]:
    session = auth.read_session(_secret(request), request.cookies.get(auth.SESSION_COOKIE))
    if session is None:
        raise LoginRequired(page)
    staff = await asyncio.to_thread(_store(request).staff_by_id, session.staff_id)
    if staff is None or not staff.active:
        raise LoginRequired(page)
    request.state.session = session
    return staff, session


async def page_staff(request: Request) -> StaffRecord:
    return (await _staff(request, page=True))[0]


async def api_staff(request: Request) -> StaffRecord:
    return (await _staff(request, page=False))[0]


async def csrf_staff(request: Request, x_csrf_token: Annotated[str | None, Header()] = None) -> StaffRecord:
    staff, session = await _staff(request, page=False)
    if not auth.check_csrf(_secret(request), session, x_csrf_token):
        raise ApiError(403, "csrf", "missing or wrong CSRF token")
    return staff


async def supervisor(staff: Annotated[StaffRecord, Depends(csrf_staff)]) -> StaffRecord:
    if not staff.supervisor:
        raise ApiError(403, "forbidden", "supervisors only")
    return staff


PageStaff = Annotated[StaffRecord, Depends(page_staff)]
ApiStaff = Annotated[StaffRecord, Depends(api_staff)]
WriteStaff = Annotated[StaffRecord, Depends(csrf_staff)]
Supervisor = Annotated[StaffRecord, Depends(supervisor)]
RowId = Annotated[int, PathParam(ge=1, le=MAX_ROW_ID)]


# --- login ------------------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, error: str | None = None) -> Response:
    token = request.cookies.get(auth.LOGIN_CSRF_COOKIE) or auth.issue_session(_secret(request), 0)[1].nonce
    response = templates.TemplateResponse(request, "login.html", {"csrf_token": token, "error": error})
    response.set_cookie(
        auth.LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path="/console",
        secure=request.app.state.settings.cookie_secure,
    )
    return response


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    csrf_token: Annotated[str, Form(max_length=64)],
) -> Response:
    cookie_token = request.cookies.get(auth.LOGIN_CSRF_COOKIE)
    if not cookie_token or cookie_token != csrf_token:
        raise ApiError(403, "csrf", "missing or wrong CSRF token")
    client = request.client.host if request.client else "?"
    if not await request.app.state.login_limiter.allow(f"{client}:{username}"):
        return RedirectResponse("/console/login?error=too_many", status_code=303)
    store = _store(request)
    staff = await asyncio.to_thread(store.staff_by_username, username)
    valid = auth.verify_password(staff.password_hash if staff else auth.DUMMY_HASH, password)
    if staff is None or not valid or not staff.active:
        await asyncio.to_thread(store.audit, staff.id if staff else None, "login_failed", "staff", username)
        return RedirectResponse("/console/login?error=invalid", status_code=303)
    if auth.needs_rehash(staff.password_hash):
        await asyncio.to_thread(store.set_password_hash, staff.id, auth.hash_password(password))
    cookie, _ = auth.issue_session(_secret(request), staff.id)
    await asyncio.to_thread(store.audit, staff.id, "login", "staff", str(staff.id))
    response = RedirectResponse("/console", status_code=303)
    response.set_cookie(
        auth.SESSION_COOKIE,
        cookie,
        max_age=auth.SESSION_TTL_S,
        httponly=True,
        samesite="strict",
        path="/console",
        secure=request.app.state.settings.cookie_secure,
    )
    response.delete_cookie(auth.LOGIN_CSRF_COOKIE, path="/console")
    return response


@router.post("/logout")
async def logout(request: Request, staff: WriteStaff) -> Response:
    await asyncio.to_thread(_store(request).audit, staff.id, "logout", "staff", str(staff.id))
    response = JSONResponse({"ok": True})
    response.delete_cookie(auth.SESSION_COOKIE, path="/console")
    return response


# --- pages --------------------------------------------------------------------------------
def _page(request: Request, name: str, staff: StaffRecord, **context: Any) -> Response:
    session: auth.Session = request.state.session
    return templates.TemplateResponse(
        request,
        name,
        {"staff": staff, "csrf_token": session.csrf_token(_secret(request)), "outcomes": OUTCOMES, **context},
    )


@router.get("", response_class=HTMLResponse)
async def queue_page(request: Request, staff: PageStaff) -> Response:
    return _page(request, "queue.html", staff)


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
async def ticket_page(request: Request, ticket_id: str, staff: PageStaff) -> Response:
    return _page(request, "ticket.html", staff, ticket_id=ticket_id)


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(request: Request, staff: PageStaff) -> Response:
    if not staff.supervisor:
        raise ApiError(403, "forbidden", "supervisors only")
    entries = await asyncio.to_thread(_store(request).audit_log, 300)
    return _page(request, "audit.html", staff, entries=entries)


# --- API ------------------------------------------------------------------------------------
def _visible(ticket: TicketRecord, staff: StaffRecord) -> bool:
    return staff.supervisor or ticket.state == "waiting" or ticket.assignee_id == staff.id


def _list_item(ticket: TicketRecord, position: int | None, names: dict[int, str]) -> dict[str, Any]:
    summary = ticket.summary or {}
    preview = summary.get("message") or next(
        (m["text"] for m in reversed(summary.get("recent", [])) if m.get("from") == "user"), ""
    )
    return {
        "id": ticket.id,
        "priority": ticket.priority,
        "state": ticket.state,
        "reason": ticket.reason,
        "channel": ticket.channel,
        "created_at": ticket.created_at.isoformat(),
        "waiting_s": max(0, int(time.time() - ticket.created_at.timestamp())),
        "assignee": names.get(ticket.assignee_id) if ticket.assignee_id else None,
        # Staff read Chinese: the screen's category codes (suicide_implicit, …) are shown by their names.
        "risk_flags": [risk_labels().get(f, f) for f in summary.get("risk_flags", [])],
        "risk_level": summary.get("risk_level"),
        "evidence": summary.get("evidence", []),
        "preview": mask_pii(str(preview))[:80],
        "callback_phone": mask_phone(ticket.callback_phone),
        "queue_position": position,
    }


@router.get("/api/queue")
async def queue(request: Request, staff: ApiStaff, closed: bool = False) -> dict[str, Any]:
    store = _store(request)
    tickets = await asyncio.to_thread(store.queue, include_closed=closed and staff.supervisor)
    names = {s.id: s.display_name for s in await asyncio.to_thread(store.all_staff)}
    items, position = [], 0
    for ticket in tickets:
        if ticket.state == "waiting":
            position += 1
        if _visible(ticket, staff):
            items.append(_list_item(ticket, position if ticket.state == "waiting" else None, names))
    presence = request.app.state.presence
    return {"tickets": items, "staff_online": await presence.online(), "on_duty": request.app.state.settings.on_duty()}


@router.get("/api/tickets/{ticket_id}")
async def ticket_detail(request: Request, ticket_id: str, staff: ApiStaff) -> dict[str, Any]:
    store = _store(request)
    ticket = await asyncio.to_thread(store.get_ticket, ticket_id)
    if ticket is None or not (_visible(ticket, staff) or (ticket.state == "closed" and staff.supervisor)):
        raise ApiError(404, "not_found", "no such ticket")
    messages = await asyncio.to_thread(store.last_messages, ticket.conversation_id, 300)
    await asyncio.to_thread(store.audit, staff.id, "read", "ticket", ticket_id, {"messages": len(messages)})
    staff_names = {s.id: s.display_name for s in await asyncio.to_thread(store.all_staff)}
    return {
        "ticket": {
            **_list_item(ticket, await asyncio.to_thread(store.queue_position, ticket.id), staff_names),
            "summary": ticket.summary,
            "outcome_code": ticket.outcome_code,
            "outcome_note": ticket.outcome_note,
            "callback_phone": ticket.callback_phone,
            "assignee_id": ticket.assignee_id,
        },
        "transcript": [
            {
                "id": m.id,
                "from": m.author,
                "text": m.text,
                "at": m.created_at.isoformat(),
                "staff": staff_names.get(m.staff_id) if m.staff_id else None,
                "delivery": m.payload.get("delivery"),
            }
            for m in messages
        ],
        "canned": [
            {"id": c.id, "title": c.title, "text": c.text} for c in await asyncio.to_thread(store.canned_replies)
        ],
        "staff": [{"id": s.id, "name": s.display_name} for s in await asyncio.to_thread(store.all_staff) if s.active]
        if staff.supervisor
        else [],
    }


class ReplyBody(BaseModel):
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class CloseBody(BaseModel):
    outcome_code: Annotated[str, Field(pattern="^(" + "|".join(OUTCOMES) + ")$")]
    note: Annotated[str, StringConstraints(max_length=2000)] | None = None


class ReassignBody(BaseModel):
    staff_id: int


class CannedBody(BaseModel):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    text: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    id: int | None = None


async def _state_guard(coro: Any) -> Any:
    try:
        return await coro
    except TicketStateError as exc:
        raise ApiError(409, "conflict", str(exc)) from exc


@router.post("/api/tickets/{ticket_id}/take")
async def take(request: Request, ticket_id: str, staff: WriteStaff) -> dict[str, Any]:
    ticket = await _state_guard(request.app.state.handoff.take(ticket_id, staff))
    return {"ok": True, "state": ticket.state}


@router.post("/api/tickets/{ticket_id}/reply")
async def reply(request: Request, ticket_id: str, body: ReplyBody, staff: WriteStaff) -> dict[str, Any]:
    ticket = await asyncio.to_thread(_store(request).get_ticket, ticket_id)
    if ticket is None or not _visible(ticket, staff):
        raise ApiError(404, "not_found", "no such open ticket")
    message = await _state_guard(request.app.state.handoff.staff_reply(ticket_id, staff, body.text))
    if message is None:
        raise ApiError(409, "conflict", "the ticket is closed")
    return {"ok": True, "message_id": message.id}


@router.post("/api/messages/{message_id}/retry")
async def retry_delivery(request: Request, message_id: int, staff: WriteStaff) -> dict[str, Any]:
    """Send a message that did not reach the user's platform again (a staff reply, a closing note)."""
    store = _store(request)
    message = await asyncio.to_thread(store.get_message, message_id)
    ticket = await asyncio.to_thread(store.open_ticket_for, message.conversation_id) if message else None
    if message is None or ticket is None or not _visible(ticket, staff) or message.author == "user":
        raise ApiError(404, "not_found", "no such message in an open ticket of yours")
    error = await request.app.state.handoff.retry_delivery(message_id, staff)
    return {"ok": error is None, "delivered": error is None, "error": error}


@router.post("/api/tickets/{ticket_id}/close")
async def close(request: Request, ticket_id: str, body: CloseBody, staff: WriteStaff) -> dict[str, Any]:
    ticket = await asyncio.to_thread(_store(request).get_ticket, ticket_id)
    if ticket is None or not _visible(ticket, staff):
        raise ApiError(404, "not_found", "no such open ticket")
    await _state_guard(request.app.state.handoff.close(ticket_id, staff, body.outcome_code, body.note))
    return {"ok": True}


@router.post("/api/tickets/{ticket_id}/reassign")
async def reassign(request: Request, ticket_id: str, body: ReassignBody, staff: Supervisor) -> dict[str, Any]:
    target = await asyncio.to_thread(_store(request).staff_by_id, body.staff_id)
    if target is None or not target.active:
        raise ApiError(422, "invalid_request", "no such active staff member")
    await _state_guard(request.app.state.handoff.take(ticket_id, staff, reassign_to=target.id))
    return {"ok": True}


@router.post("/api/conversations/{conversation_id}/pickup")
async def pickup(request: Request, conversation_id: RowId, staff: WriteStaff) -> dict[str, Any]:
    """Staff pick up a conversation the bot is having (no ticket yet): a ticket is opened and taken."""
    store = _store(request)
    conversation = await asyncio.to_thread(store.get_conversation, conversation_id)
    if conversation is None:
        raise ApiError(404, "not_found", "no such conversation")
    handoff, _ = await request.app.state.handoff.open(conversation, "staff_pickup", "normal", {})
    await _state_guard(request.app.state.handoff.take(handoff.ticket_id, staff))
    return {"ok": True, "ticket_id": handoff.ticket_id}


@router.get("/api/conversations")
async def recent_conversations(request: Request, staff: ApiStaff) -> dict[str, Any]:
    store = _store(request)
    tickets = await asyncio.to_thread(store.queue, include_closed=True, limit=50)
    return {
        "conversations": [
            {"conversation_id": t.conversation_id, "channel": t.channel, "ticket_id": t.id, "state": t.state}
            for t in tickets
            if _visible(t, staff)
        ]
    }


@router.get("/api/canned")
async def canned(request: Request, staff: ApiStaff) -> dict[str, Any]:
    replies = await asyncio.to_thread(_store(request).canned_replies)
    return {"canned": [{"id": c.id, "title": c.title, "text": c.text} for c in replies]}


@router.post("/api/canned")
async def save_canned(request: Request, body: CannedBody, staff: Supervisor) -> dict[str, Any]:
    saved = await asyncio.to_thread(_store(request).save_canned_reply, body.title, body.text, staff.id, body.id)
    await asyncio.to_thread(_store(request).audit, staff.id, "canned_save", "canned", str(saved.id))
    return {"ok": True, "id": saved.id}


@router.post("/api/canned/{canned_id}/delete")
async def delete_canned(request: Request, canned_id: RowId, staff: Supervisor) -> dict[str, Any]:
    await asyncio.to_thread(_store(request).delete_canned_reply, canned_id)
    await asyncio.to_thread(_store(request).audit, staff.id, "canned_delete", "canned", str(canned_id))
    return {"ok": True}


@router.get("/events")
async def events(request: Request, staff: ApiStaff) -> StreamingResponse:
    """Server-sent events: queue changes, new messages and urgent alerts; also marks the staff member on duty."""
    bus, presence = request.app.state.bus, request.app.state.presence

    async def stream() -> AsyncIterator[str]:
        async with bus.subscribe(CONSOLE) as queue:
            await presence.seen(staff.id)
            yield "retry: 3000\n\n"
            while not await request.is_disconnected():
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=15)
                    yield f"data: {json.dumps(event, ensure_ascii=False)}\n\n"
                except TimeoutError:
                    yield ": keep-alive\n\n"
                await presence.seen(staff.id)

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    )
