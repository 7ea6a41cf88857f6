"""Project steps for the example shop (examples/site), as a test author would write them.

The page docs/writing-tests.md quotes this module, and tests/integration/test_example_steps.py
runs examples/steps/features/ against it, so every example in that page is known to work.
Point the runner at this folder with ``PROCTOR_STEPS_PATH=examples/steps``.

It shows each way a project extends the built-in steps: a custom parameter type
(``{product}``, ``{price}``), a regular-expression step, a Data Table step, a Doc String
step, and hooks that only run for scenarios tagged ``@cart``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal

from playwright.sync_api import expect

from runner.context import StepContext
from runner.features import DataTable
from runner.steps import after_scenario, after_step, before_scenario, parameter_type, step


@dataclass(frozen=True)
class Product:
    sku: str  # the <option value> on cart.html
    name: str


CATALOGUE = {
    "Coffee mug": Product("mug", "Coffee mug"),
    "T-shirt": Product("tee", "T-shirt"),
    "Cap": Product("cap", "Cap"),
}


# ----- custom parameter types ------------------------------------------------------------


@parameter_type("product", r"Coffee mug|T-shirt|Cap")
def product(name: str) -> Product:
    """``{product}`` matches a product's name and hands the step a ``Product``."""
    return CATALOGUE[name]


@parameter_type("price", r"\d+\.\d{2}")
def price(text: str) -> Decimal:
    return Decimal(text)


# ----- steps -----------------------------------------------------------------------------


def _add_to_cart(ctx: StepContext, item: Product, quantity: int) -> None:
    ctx.page.locator("#product").select_option(item.sku)
    ctx.page.locator("#quantity").fill(str(quantity))
    ctx.page.locator("#add").click()
    ctx.state["lines"] = ctx.state.get("lines", 0) + 1


@step("I add {int} {product}(s) to the cart")
def add_to_cart(ctx: StepContext, quantity: int, item: Product) -> None:
    _add_to_cart(ctx, item, quantity)


@step("I add these products to the cart:")
def add_table_to_cart(ctx: StepContext, table: DataTable) -> None:
    """A Data Table comes after the expression's parameters; ``hashes()`` keys rows by
    the header row."""
    for row in table.hashes():
        _add_to_cart(ctx, CATALOGUE[row["product"]], int(row["quantity"]))


@step("the total should be {price}")
def total_should_be(ctx: StepContext, amount: Decimal) -> None:
    # expect() retries until the page agrees or the assertion timeout (5 s) runs out.
    expect(ctx.page.locator("#total")).to_have_text(f"{amount:.2f}")


@step(re.compile(r"^the cart should have (\d+) lines?$"))
def cart_lines(ctx: StepContext, count: int) -> None:
    """A regular expression: one argument per capture group. A group written as a
    parameter type's pattern is converted like it (``\\d+`` is ``{int}``'s, so ``count``
    is an int); any other group arrives as a string."""
    expect(ctx.page.locator("#lines .line")).to_have_count(count)


@step("I sign in with:")
def sign_in_with(ctx: StepContext, document: str) -> None:
    """A Doc String arrives as one string (its media type is on ``ctx.doc_string``)."""
    assert ctx.doc_string is not None and ctx.doc_string.media_type == "json"
    account = json.loads(document)
    ctx.page.locator("#email").fill(account["email"])
    ctx.page.locator("#password").fill(account["password"])
    ctx.page.locator("#submit").click()
    ctx.log(f"signed in as {account['email']}")


# ----- hooks -----------------------------------------------------------------------------


@before_scenario(tags="@cart")
def open_cart(ctx: StepContext) -> None:
    """Every @cart scenario starts on an empty cart."""
    ctx.page.goto(ctx.url("/cart.html"))
    ctx.state["lines"] = 0


@after_step(tags="@cart")
def note_cart(ctx: StepContext) -> None:
    """After each step of a @cart scenario: its total in the step's output."""
    if ctx.step_status == "passed":
        ctx.log(f"cart total: {ctx.page.locator('#total').inner_text()}")


@after_scenario(tags="@cart")
def attach_cart(ctx: StepContext) -> None:
    """Keep what the cart held, passed or failed, in cucumber.json and runner.log."""
    lines = ctx.page.locator("#lines .line").all_inner_texts()
    ctx.attach("\n".join(lines), "text/plain", "cart lines")
    ctx.log(f"{ctx.scenario.name}: {ctx.scenario_status}, {ctx.state['lines']} line(s) added")
