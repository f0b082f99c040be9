"""Two whole conversations in the widget on a phone (Debian's Chromium, 长辈模式 for the grandparent): what
the people the product is for see. Screenshots go to docs/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.browser import PHONE, launch_chromium, shot
from tests.e2e.test_widget_browser import ask, close_notice, open_widget, wait_for_answer
from tools.stack import Stack

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch_chromium()


@pytest.fixture
def phone(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(**PHONE)
    try:
        yield context
    finally:
        context.close()


def bot_says(page: Page, text: str) -> None:
    expect(page.locator(".txw-from-bot").last).to_contain_text(text)


def shot_from_question(page: Page, name: str) -> None:
    """The user's last message at the top of the screen, the reply below it."""
    page.locator(".txw-from-user").last.evaluate("e => e.scrollIntoView({block: 'start'})")
    shot(page, name)


def test_a_grandparent_in_dialect_gets_the_verdict_then_where_to_apply(stack: Stack, phone: BrowserContext) -> None:
    errors: list[str] = []
    page = open_widget(phone, stack.gateway + "/", errors)
    close_notice(page)
    page.get_by_role("button", name="长辈模式").click()

    ask(page, "我孙伢他爹判了三年刑 他娘走了几年冇得音信 伢十岁 农村户口 这算不算事实无人抚养")
    wait_for_answer(page)
    # The verdict comes first, with its basis; nothing already said is asked again.
    verdict = page.locator(".txw-from-bot", has_text="事实无人抚养儿童保障").first
    expect(verdict).to_contain_text("符合")
    expect(verdict).to_contain_text("民发〔2019〕62号")
    expect(page.locator(".txw-from-bot", has_text="孩子今年几岁")).to_have_count(0)
    shot_from_question(page, "widget-grandparent-verdict.png")

    ask(page, "那要到哪里克申请 要带么子")
    wait_for_answer(page)
    bot_says(page, "乡镇")
    shot_from_question(page, "widget-grandparent-follow-up.png")
    assert errors == []


def test_a_child_director_gets_the_clause_list_and_the_follow_up(stack: Stack, phone: BrowserContext) -> None:
    errors: list[str] = []
    page = open_widget(phone, stack.gateway + "/", errors)
    close_notice(page)

    ask(page, "我是村里的儿童主任 事实无人抚养儿童父母的8种情形全部列给我")
    wait_for_answer(page)
    answer = page.locator(".txw-from-bot", has_text="撤销监护资格").last
    expect(answer).to_contain_text("遣送")
    expect(answer).to_contain_text("民发〔2020〕125号")
    shot_from_question(page, "widget-child-director.png")

    ask(page, "服刑的6个月是从哪天算")
    wait_for_answer(page)
    bot_says(page, "期限")
    shot_from_question(page, "widget-child-director-follow-up.png")
    assert errors == []


def test_a_parent_comparing_two_programmes_then_asking_for_a_hotline(stack: Stack, phone: BrowserContext) -> None:
    errors: list[str] = []
    page = open_widget(phone, stack.gateway + "/", errors)
    close_notice(page)

    ask(page, "困境儿童和留守儿童是一回事吗")
    wait_for_answer(page)
    # Both programmes side by side, each with its own document.
    answer = page.locator(".txw-from-bot", has_text="留守儿童").last
    expect(answer).to_contain_text("困境儿童")
    expect(answer).to_contain_text("国发〔2016〕13号")
    expect(answer).to_contain_text("国发〔2016〕36号")
    shot_from_question(page, "widget-comparison.png")

    ask(page, "家里老公打老婆也打孩子 妇联有热线吗")
    wait_for_answer(page)
    # The passage that answers it, with its basis (and, for violence at home, the gentle safety check).
    hotline = page.locator(".txw-from-bot", has_text="12338").last
    expect(hotline).to_contain_text("110")
    expect(hotline).to_contain_text("依据")
    shot_from_question(page, "widget-hotline-answer.png")
    assert errors == []
