Feature: Sign in

  Scenario: A customer signs in
    Given I open "/login.html"
    When I fill "#email" with "ada@example.com"
    And I fill "#password" with "secret"
    And I check "#remember"
    And I click "#submit"
    Then I should see "Welcome back, ada@example.com"
    And the URL should contain "account.html"
    And "#email" should have value "ada@example.com"

  Scenario: A wrong password is refused
    Given I open "/login.html"
    When I fill "#email" with "ada@example.com"
    And I fill "#password" with "guess"
    And I click "#submit"
    Then "#message" should be visible
    And I should see "Wrong email or password"
    And I should not see "Welcome back"
