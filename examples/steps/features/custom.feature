@shop
Feature: The shop, with the project's own steps
  Steps from examples/steps/shop_steps.py, next to the built-in ones. The @cart hooks open
  an empty cart before each @cart scenario and attach its lines afterwards.

  @cart
  Rule: The total follows what is in the cart

    Scenario: A custom parameter type names the product
      When I add 2 T-shirts to the cart
      Then the total should be 40.00
      And the cart should have 1 line

    Scenario: A Data Table adds several products
      When I add these products to the cart:
        | product    | quantity |
        | Coffee mug | 1        |
        | Cap        | 2        |
      Then the cart should have 2 lines
      And the total should be 42.00

    Scenario Outline: Gift wrap on <quantity> <product>
      When I add <quantity> <product> to the cart
      And I check "#gift"
      Then the total should be <total>

      Examples:
        | quantity | product    | total |
        | 1        | Coffee mug | 17.00 |
        | 3        | Caps       | 50.00 |

  Rule: Signing in

    Background:
      Given I open "/index.html"
      And I click "#login-link"

    @smoke
    Scenario: A Doc String carries the account
      When I sign in with:
        """json
        {"email": "ada@example.com", "password": "secret"}
        """
      Then I should see "Welcome back, ada@example.com"
      And the URL should contain "account.html"
