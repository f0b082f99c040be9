"""The web chat widget in a real (headless) browser against the real stack, at a phone-sized viewport.

Screenshots go to docs/screenshots/ so a person can look at what users see.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from tests.e2e.browser import ANSWER_TIMEOUT, PHONE, launch_chromium, shot
from tools.stack import Stack

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.slow]

XSS = "<img src=x onerror=alert(1)>"
NO_SOCKET = "window.WebSocket = undefined;"  # a network that blocks WebSockets: the widget must use REST


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_chromium()


@pytest.fixture
def phone(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh device: empty localStorage, so a new sender_id and the first-visit notice."""
    context = browser.new_context(**PHONE)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page_errors() -> list[str]:
    return []


def open_widget(context: BrowserContext, url: str, errors: list[str]) -> Page:
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    expect(page.locator("#txw-root .txw-panel")).to_be_visible()
    return page


def close_notice(page: Page) -> None:
    notice = page.locator(".txw-notice")
    expect(notice).to_contain_text("110")
    page.get_by_role("button", name="我知道了").click()
    expect(notice).to_be_hidden()


def ask(page: Page, text: str) -> None:
    page.get_by_label("输入您的问题").fill(text)
    page.get_by_role("button", name="发送", exact=True).click()


def wait_for_answer(page: Page) -> None:
    """The typing indicator is gone and the newest message is not the user's own."""
    expect(page.locator(".txw-typing")).to_be_hidden(timeout=ANSWER_TIMEOUT)
    expect(page.locator(".txw-log > li").last).not_to_have_class(re.compile(r"\btxw-from-user\b"))


def font_px(page: Page, selector: str) -> float:
    return float(page.locator(selector).first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)"))


def test_cited_answer_quick_reply_elder_mode_history_and_xss(
    stack: Stack, phone: BrowserContext, page_errors: list[str]
) -> None:
    page = open_widget(phone, stack.gateway + "/", page_errors)
    close_notice(page)

    # A policy question gets an answer with its source: a card, collapsed, opened from the keyboard.
    ask(page, "什么是事实无人抚养儿童")
    card = page.locator(".txw-from-bot .txw-source", has_text="民发〔2019〕62号").first
    expect(card).to_be_visible(timeout=ANSWER_TIMEOUT)
    toggle = card.locator("button.txw-source-toggle")
    details = card.locator(".txw-source-details")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(details).to_be_hidden()
    toggle.focus()
    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(details).to_be_visible()
    expect(details).to_contain_text("民政部")
    expect(details).to_contain_text("2019")
    page.keyboard.press("Space")
    expect(details).to_be_hidden()
    page.keyboard.press("Enter")
    expect(details).to_be_visible()
    wait_for_answer(page)
    # The definition says a prison or rehabilitation term counts by its length, at once: no six-month wait.
    answer = page.locator(".txw-from-bot", has_text="事实无人抚养儿童").first
    expect(answer).to_contain_text("期限够的马上就算")
    answer.evaluate("e => e.scrollIntoView({block: 'start'})")
    shot(page, "widget-de-facto-definition.png")
    card.evaluate("e => e.closest('.txw-msg').scrollIntoView({block: 'end'})")  # the card and any choices
    shot(page, "widget-answer.png")

    # A quick-reply button: the user's bubble shows its title (never a payload) and it is answered.
    current = page.locator(".txw-quick:not(.txw-quick-old) button.txw-quick-btn").filter(has_not_text="转人工")
    if current.count() == 0:  # this answer offered no choices: the greeting always does
        ask(page, "你好")
        wait_for_answer(page)
    choice = current.first
    expect(choice).to_be_visible()
    title = choice.inner_text().strip()
    choice.click()
    expect(page.locator(".txw-from-user .txw-bubble").last).to_have_text(title)
    wait_for_answer(page)
    expect(page.locator(".txw-log > li").last.locator(".txw-bubble")).not_to_be_empty()

    # 长辈模式: bigger text and buttons, remembered on this device.
    before = font_px(page, ".txw-from-bot .txw-bubble")
    elder = page.get_by_role("button", name="长辈模式")
    expect(elder).to_have_attribute("aria-pressed", "false")
    elder.click()
    expect(elder).to_have_attribute("aria-pressed", "true")
    after = font_px(page, ".txw-from-bot .txw-bubble")
    assert after >= 22 and after > before, (before, after)
    send_box = page.get_by_role("button", name="发送", exact=True).bounding_box()
    assert send_box is not None and send_box["height"] >= 56
    page.locator(".txw-from-user").last.evaluate("e => e.scrollIntoView({block: 'start'})")
    shot(page, "widget-elder-mode.png")

    # Reload: the same conversation from /api/history (the user's bubbles as they were, buttons by their
    # titles), elder mode still on, the first-visit notice not shown again.
    user_bubbles = page.locator(".txw-from-user .txw-bubble")
    said = user_bubbles.all_inner_texts()
    sources = page.locator(".txw-source").count()
    page.reload()
    elder = page.get_by_role("button", name="长辈模式")
    expect(elder).to_have_attribute("aria-pressed", "true")
    expect(user_bubbles).to_have_text(said)
    expect(page.locator(".txw-source")).to_have_count(sources)
    expect(page.locator(".txw-source", has_text="民发〔2019〕62号").first).to_be_attached()
    assert "什么是事实无人抚养儿童" in said and title in said
    assert font_px(page, ".txw-from-bot .txw-bubble") >= 22
    expect(page.locator(".txw-notice")).to_be_hidden()

    # Markup typed by a user is shown as text: no element is created, no script runs.
    elder.click()
    expect(elder).to_have_attribute("aria-pressed", "false")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    ask(page, XSS)
    expect(page.locator(".txw-from-user .txw-bubble").last).to_have_text(XSS)
    wait_for_answer(page)
    page.wait_for_timeout(500)
    assert page.locator(".txw-log img").count() == 0
    assert page.locator("#txw-root img").count() == 0
    assert dialogs == []
    page.locator(".txw-from-user .txw-bubble").last.scroll_into_view_if_needed()
    shot(page, "widget-xss.png")
    assert page_errors == []


def test_rest_fallback_retry_resends_the_same_client_id(
    stack: Stack, phone: BrowserContext, page_errors: list[str]
) -> None:
    """Without a WebSocket the widget uses POST /api/chat; a network error is retried with the same
    client_id, so the message is stored and answered once."""
    phone.add_init_script(NO_SOCKET)
    sent: list[dict[str, str]] = []

    def flaky(route: Route) -> None:
        sent.append(route.request.post_data_json)
        if len(sent) == 1:
            route.abort("failed")
        else:
            route.continue_()

    phone.route("**/api/chat", flaky)
    page = open_widget(phone, stack.gateway + "/", page_errors)
    close_notice(page)
    ask(page, "什么是留守儿童")
    wait_for_answer(page)
    assert len(sent) == 2, sent
    assert sent[0]["client_id"] and sent[0]["client_id"] == sent[1]["client_id"]
    page.wait_for_timeout(4000)  # the widget re-reads the history after a retry: nothing may appear twice
    token = page.evaluate("localStorage.getItem('txw-token')")
    history = httpx.get(f"{stack.gateway}/api/history", headers={"X-Session-Token": token}, timeout=10).json()
    assert [m["from"] for m in history["messages"]].count("user") == 1
    expect(page.locator(".txw-msg:not(.txw-local)")).to_have_count(len(history["messages"]))
    expect(page.locator(".txw-from-user")).to_have_count(1)
    assert page_errors == []


def test_unreachable_server_is_explained_politely_and_too_long_text_is_refused(
    stack: Stack, phone: BrowserContext, page_errors: list[str]
) -> None:
    phone.add_init_script(NO_SOCKET)
    # A returning device (its id and token kept): the history it asks for on opening cannot be fetched.
    phone.add_init_script(
        "localStorage.setItem('txw-sender', 'w-returning-device-0001');"
        f"localStorage.setItem('txw-token', '999999.{'A' * 43}');"
    )
    phone.route("**/api/**", lambda route: route.abort("connectionrefused"))
    page = open_widget(phone, stack.gateway + "/", page_errors)
    close_notice(page)
    expect(page.locator(".txw-log")).to_contain_text("连不上服务器")
    expect(page.locator(".txw-conn")).to_be_visible()

    ask(page, "你好")
    resend = page.get_by_role("button", name="重新发送")
    expect(resend).to_be_visible(timeout=20_000)
    expect(page.locator(".txw-failed")).to_contain_text("110")
    expect(page.locator(".txw-typing")).to_be_hidden()

    phone.unroute("**/api/**")
    resend.click()
    wait_for_answer(page)
    expect(resend).to_have_count(0)
    expect(page.locator(".txw-conn")).to_be_hidden()
    expect(page.locator(".txw-from-user")).to_have_count(1)

    # Over 2000 characters: a counter, a kind message, and nothing is sent.
    box = page.get_by_label("输入您的问题")
    box.fill("童" * 2001)
    expect(page.locator(".txw-counter")).to_have_text("2001/2000")
    expect(page.locator(".txw-warn")).to_contain_text("2000")
    expect(box).to_have_attribute("aria-invalid", "true")
    send = page.get_by_role("button", name="发送", exact=True)
    expect(send).to_have_attribute("aria-disabled", "true")
    send.click(force=True)  # tapped anyway
    box.press("Enter")
    expect(page.locator(".txw-from-user")).to_have_count(1)
    expect(box).to_have_value("童" * 2001)
    box.fill("童" * 10)
    expect(page.locator(".txw-warn")).to_be_empty()
    assert page_errors == []


def test_embedded_collapsed_widget_opens_from_its_launcher(
    stack: Stack, phone: BrowserContext, page_errors: list[str]
) -> None:
    """Another page of the site embeds the widget without data-open: a launcher, the panel on demand."""
    host = stack.gateway + "/embed-example"
    phone.route(
        host,
        lambda route: route.fulfill(
            content_type="text/html; charset=utf-8",
            body=(
                '<!doctype html><html lang="zh-CN"><head><meta name="viewport" content="width=device-width">'
                "<style>button { background: red; font-size: 9px; }</style></head>"
                "<body><h1>某县民政局</h1>"
                '<script src="/static/widget.js" data-title="儿童关爱咨询"></script></body></html>'
            ),
        ),
    )
    page = phone.new_page()
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    page.goto(host)
    launcher = page.get_by_role("button", name="咨询童心守护")
    expect(launcher).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    expect(page.locator(".txw-panel")).to_be_hidden()
    launcher.click()
    expect(page.locator(".txw-panel")).to_be_visible()
    expect(page.get_by_role("heading", name="儿童关爱咨询")).to_be_visible()
    expect(page.get_by_role("button", name="我知道了")).to_be_focused()
    assert font_px(page, ".txw-send") >= 16  # the host page's button styles do not shrink ours
    page.get_by_role("button", name="收起聊天窗口").click()
    expect(page.locator(".txw-panel")).to_be_hidden()
    expect(launcher).to_be_focused()
    assert page_errors == []
