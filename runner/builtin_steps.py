"""The built-in steps of DESIGN.md, on Playwright locators and ``expect``.

Every action and assertion auto-waits (Playwright's actionability checks and retrying
assertions), so features need no sleeps. Selectors are Playwright selectors; paths are
relative to the test set's base URL. Command steps run tools of the runner image
(``runner.commands``); their output is attached to the step and written to ``runner.log``.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from runner.commands import run_command
from runner.context import StepContext
from runner.steps import step

# ----- navigation and actions ----------------------------------------------------------


@step("I open {string}")
def open_page(ctx: StepContext, path_or_url: str) -> None:
    ctx.page.goto(ctx.url(path_or_url))


@step("I click {string}")
def click(ctx: StepContext, selector: str) -> None:
    ctx.page.locator(selector).click()


@step("I fill {string} with {string}")
def fill(ctx: StepContext, selector: str, text: str) -> None:
    ctx.page.locator(selector).fill(text)


@step("I press {string} in {string}")
def press(ctx: StepContext, key: str, selector: str) -> None:
    ctx.page.locator(selector).press(key)


@step("I select {string} in {string}")
def select(ctx: StepContext, option: str, selector: str) -> None:
    ctx.page.locator(selector).select_option(option)


@step("I check {string}")
def check(ctx: StepContext, selector: str) -> None:
    ctx.page.locator(selector).check()


@step("I uncheck {string}")
def uncheck(ctx: StepContext, selector: str) -> None:
    ctx.page.locator(selector).uncheck()


@step("I wait for {string}")
def wait_for(ctx: StepContext, selector: str) -> None:
    ctx.page.locator(selector).first.wait_for(state="visible")


@step("I take a screenshot {string}")
def take_screenshot(ctx: StepContext, name: str) -> None:
    ctx.screenshot(name)


# ----- assertions ----------------------------------------------------------------------


@step("I should see {string}")
def should_see(ctx: StepContext, text: str) -> None:
    expect(ctx.page.locator("body")).to_contain_text(
        text, use_inner_text=True, timeout=ctx.expect_timeout_ms
    )


@step("I should not see {string}")
def should_not_see(ctx: StepContext, text: str) -> None:
    expect(ctx.page.locator("body")).not_to_contain_text(
        text, use_inner_text=True, timeout=ctx.expect_timeout_ms
    )


@step("{string} should contain {string}")
def should_contain(ctx: StepContext, selector: str, text: str) -> None:
    expect(ctx.page.locator(selector)).to_contain_text(text, timeout=ctx.expect_timeout_ms)


@step("{string} should have value {string}")
def should_have_value(ctx: StepContext, selector: str, value: str) -> None:
    expect(ctx.page.locator(selector)).to_have_value(value, timeout=ctx.expect_timeout_ms)


@step("{string} should be visible")
def should_be_visible(ctx: StepContext, selector: str) -> None:
    expect(ctx.page.locator(selector)).to_be_visible(timeout=ctx.expect_timeout_ms)


@step("{string} should be hidden")
def should_be_hidden(ctx: StepContext, selector: str) -> None:
    expect(ctx.page.locator(selector)).to_be_hidden(timeout=ctx.expect_timeout_ms)


@step("there should be {int} {string}")
def should_count(ctx: StepContext, count: int, selector: str) -> None:
    expect(ctx.page.locator(selector)).to_have_count(count, timeout=ctx.expect_timeout_ms)


@step("the URL should contain {string}")
def url_should_contain(ctx: StepContext, text: str) -> None:
    expect(ctx.page).to_have_url(re.compile(re.escape(text)), timeout=ctx.expect_timeout_ms)


@step("the title should be {string}")
def title_should_be(ctx: StepContext, title: str) -> None:
    expect(ctx.page).to_have_title(title, timeout=ctx.expect_timeout_ms)


# ----- command-line tools --------------------------------------------------------------


def _run(ctx: StepContext, command: str, limit_s: float) -> None:
    result = run_command(command, base_url=ctx.base_url, limit_s=limit_s, stop=ctx.stop)
    ctx.command = result
    ctx.log(f"$ {command}\n{result.output.rstrip()}\n[{result.describe()}]")
    if result.timed_out or result.stopped:
        raise AssertionError(result.describe())


@step("I run {string}")
def run(ctx: StepContext, command: str) -> None:
    _run(ctx, command, ctx.command_limit_s)


@step("I run {string} within {int} seconds")
def run_within(ctx: StepContext, command: str, seconds: int) -> None:
    _run(ctx, command, float(seconds))


def _last_command(ctx: StepContext) -> None:
    if ctx.command is None:
        raise AssertionError('no command has run in this scenario (use: When I run "…")')


@step("the command should succeed")
def command_should_succeed(ctx: StepContext) -> None:
    _last_command(ctx)
    assert ctx.command is not None
    if not ctx.command.succeeded:
        raise AssertionError(
            f"expected success, but {ctx.command.describe()}; output:\n{ctx.command.output}"
        )


@step("the command should fail")
def command_should_fail(ctx: StepContext) -> None:
    _last_command(ctx)
    assert ctx.command is not None
    if ctx.command.exit_code in (0, None):
        raise AssertionError(f"expected a failure exit status, but {ctx.command.describe()}")


@step("the output should contain {string}")
def output_should_contain(ctx: StepContext, text: str) -> None:
    _last_command(ctx)
    assert ctx.command is not None
    if text not in ctx.command.output:
        raise AssertionError(
            f"the output of `{ctx.command.command}` does not contain {text!r}; "
            f"output:\n{ctx.command.output}"
        )
