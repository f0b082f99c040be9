"""The hotline handoff in two real browser pages: a user in the widget (phone) and a hotline worker in
the console (desktop), against the real stack."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from channels.store.store import Store
from tests.e2e.browser import ANSWER_TIMEOUT, DESKTOP, PHONE, launch_chromium, shot
from tools.stack import Stack

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.slow]

PUSH_TIMEOUT = 5_000  # a staff message or a state change reaches the other side within seconds
STAFF_REPLY = "您好，我是热线工作人员小李。请问孩子现在和谁住在一起？"
USER_ANSWER = "孩子跟着奶奶住，爸妈都在外地打工。"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_chromium()


def staff_login(page: Page, gateway: str, username: str, password: str) -> None:
    page.goto(gateway + "/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(gateway + "/console")
    expect(page.locator("#queue")).to_be_visible()
    # On duty once the console's live connection is open: only then do new tickets arrive live.
    deadline = time.monotonic() + 15
    while page.evaluate("fetch('/console/api/queue').then(r => r.json()).then(d => d.staff_online)") < 1:
        assert time.monotonic() < deadline, "the console's live connection did not open"
        page.wait_for_timeout(200)


def wait_for_answer(page: Page) -> None:
    expect(page.locator(".txw-typing")).to_be_hidden(timeout=ANSWER_TIMEOUT)
    expect(page.locator(".txw-log > li").last).not_to_have_class(re.compile(r"\btxw-from-user\b"))


def test_user_reaches_a_hotline_worker_and_returns_to_the_bot(stack: Stack, browser: Browser) -> None:
    stack.create_staff("xiaoli", "e2e-hotline-pass-1", "staff")
    errors: list[str] = []
    staff_context = browser.new_context(**DESKTOP)
    user_context = browser.new_context(**PHONE)
    try:
        console = staff_context.new_page()
        console.on("pageerror", lambda exc: errors.append(f"console: {exc}"))
        staff_login(console, stack.gateway, "xiaoli", "e2e-hotline-pass-1")
        known = console.locator("#queue tbody tr").evaluate_all("rows => rows.map(r => r.dataset.ticket)")

        widget = user_context.new_page()
        widget.on("pageerror", lambda exc: errors.append(f"widget: {exc}"))
        widget.goto(stack.gateway + "/")
        widget.get_by_role("button", name="我知道了").click()

        # The user asks for a person: the ticket is in the logged-in console's queue within 2 s.
        widget.get_by_role("button", name="转人工：请工作人员帮您").click()
        started = time.monotonic()
        handle = console.wait_for_function(
            "known => { const r = [...document.querySelectorAll('#queue tbody tr')]"
            ".find(tr => !known.includes(tr.dataset.ticket)); return r ? r.dataset.ticket : null; }",
            arg=known,
            timeout=10_000,
            polling=50,
        )
        elapsed = time.monotonic() - started
        ticket_id = handle.json_value()
        assert elapsed < 2.0, f"the ticket took {elapsed:.2f}s to reach the console"
        row = console.locator(f"#queue tbody tr[data-ticket='{ticket_id}']")
        expect(row).to_contain_text("等待中")
        expect(row).to_contain_text("用户要求人工")
        shot(console, "console-queue.png")

        # The widget says honestly where the user stands.
        wait_for_answer(widget)
        expect(widget.locator(".txw-handoff")).to_contain_text(re.compile(r"排在第\d+位"))

        # Staff open the ticket, take it and reply: the reply reaches the widget marked 工作人员.
        row.get_by_role("link", name="查看").click()
        console.wait_for_url(f"**/console/tickets/{ticket_id}")
        expect(console.locator("#take")).to_be_visible()
        console.locator("#take").click()
        expect(console.locator("#take")).to_be_hidden()
        expect(widget.locator(".txw-handoff")).to_contain_text("工作人员已接入", timeout=PUSH_TIMEOUT)
        console.locator("#reply-text").fill(STAFF_REPLY)
        console.locator("#reply-form button[type=submit]").click()
        staff_message = widget.locator(".txw-from-staff", has_text=STAFF_REPLY)
        expect(staff_message).to_be_visible(timeout=PUSH_TIMEOUT)
        expect(staff_message.locator(".txw-badge")).to_have_text("工作人员")
        shot(widget, "widget-staff-reply.png")

        # The user answers in the widget: the answer appears in the console's transcript.
        widget.get_by_label("输入您的问题").fill(USER_ANSWER)
        widget.keyboard.press("Enter")
        expect(console.locator("#transcript li.user", has_text=USER_ANSWER)).to_be_visible(timeout=PUSH_TIMEOUT)
        expect(console.locator("#transcript li.staff", has_text=STAFF_REPLY)).to_be_visible()
        wait_for_answer(widget)
        shot(console, "console-conversation.png")

        # A reply the user's platform refused (as Telegram does once a user blocks the bot) is marked in the
        # transcript with a button to send it again; sent again, the mark goes.
        store = Store(f"sqlite:///{stack.workdir / 'gateway.db'}")
        try:
            conversation = store.get_ticket(ticket_id).conversation_id
            [reply] = [m for m in store.last_messages(conversation, 50) if m.text == STAFF_REPLY]
            store.set_delivery([reply.id], "Forbidden: bot was blocked by the user")
        finally:
            store.close()
        console.reload()
        refused = console.locator("#transcript li.failed", has_text=STAFF_REPLY)
        expect(refused.locator(".undelivered")).to_contain_text("未送达")
        refused.scroll_into_view_if_needed()
        shot(console, "console-undelivered.png")
        refused.get_by_role("button", name="重新发送").click()
        expect(console.locator("#transcript li.failed")).to_have_count(0, timeout=PUSH_TIMEOUT)
        expect(widget.locator(".txw-from-staff", has_text=STAFF_REPLY)).to_have_count(1)  # the widget knows its id

        # Staff close with an outcome: the widget shows the closing message and the rating buttons.
        console.locator("#outcome").select_option("resolved")
        console.locator("#close-form button[type=submit]").click()
        console.wait_for_url(stack.gateway + "/console")
        expect(widget.locator(".txw-log")).to_contain_text("工作人员已结束本次对话", timeout=PUSH_TIMEOUT)
        for rating in ("满意", "一般", "不满意"):
            expect(widget.get_by_role("button", name=rating, exact=True)).to_be_visible()
        expect(widget.locator(".txw-handoff")).to_be_hidden(timeout=PUSH_TIMEOUT)

        # The bot answers the user's next question again, with its sources.
        widget.get_by_label("输入您的问题").fill("什么是事实无人抚养儿童")
        widget.keyboard.press("Enter")
        card = widget.locator(".txw-from-bot").last.locator(".txw-source", has_text="民发〔2019〕62号")
        expect(card).to_be_visible(timeout=ANSWER_TIMEOUT)
        expect(widget.locator(".txw-from-staff")).to_have_count(1)
        assert errors == []
    finally:
        user_context.close()
        staff_context.close()
