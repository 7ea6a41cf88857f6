@smoke
Feature: Browse the shop
  Shoppers see the products and can search them.

  Background:
    Given I open "/index.html"

  Scenario: The home page lists the products
    Then the title should be "Proctor Demo Shop"
    And I should see "Everything a browser test needs"
    And there should be 3 ".product"
    And "#products" should contain "Coffee mug"

  Scenario Outline: Searching finds products
    When I fill "#search" with "<term>"
    And I press "Enter" in "#search"
    Then "#results" should contain "<count> result(s)"

    Examples:
      | term | count |
      | mug  | 1     |
      | c    | 2     |
