Feature: Command steps
  Tools of the runner image, run with a time limit and the base URL in their environment.

  Scenario: A command sees the base URL but not the runner's token
    When I run "echo testing $BASE_URL" within 10 seconds
    Then the command should succeed
    And the output should contain "testing http://127.0.0.1"
    When I run "test -n \"$PROCTOR_RUNNER_TOKEN\""
    Then the command should fail
