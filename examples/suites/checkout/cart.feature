Feature: Cart totals
  This test set fails on purpose: the last scenario expects a discount the shop does not
  give, so the example batch shows what a failure looks like (a screenshot, the step's
  error, the video).

  Scenario: Adding products updates the total
    Given I open "/cart.html"
    When I select "tee" in "#product"
    And I fill "#quantity" with "2"
    And I click "#add"
    Then "#total" should contain "40.00"
    And there should be 1 ".line"

  Scenario: Gift wrap costs extra
    Given I open "/cart.html"
    When I click "#add"
    And I check "#gift"
    Then "#total" should contain "17.00"
    When I uncheck "#gift"
    Then "#total" should contain "12.00"
    And I take a screenshot "cart-without-gift"

  Scenario: Three caps get a bulk discount
    Given I open "/cart.html"
    When I select "cap" in "#product"
    And I fill "#quantity" with "3"
    And I click "#add"
    Then "#total" should contain "40.00"
