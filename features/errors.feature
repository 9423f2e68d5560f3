Feature: Errors shown so customers and staff understand them
  Every error the API answers comes back as a problem with a title, a detail
  and a trace id, and the shop can say in plain words what went wrong.

  @QA-ERRORS @simulator @test
  Scenario: A reference the API cannot use is refused
    When the shop creates a payment of 249.00 NOK with the reference "ab"
    Then the shop is refused with a problem explained in plain words

  @QA-ERRORS @simulator @test
  Scenario: An amount below the smallest allowed is refused
    When the shop creates a payment of 0.00 NOK with the user flow WEB_REDIRECT
    Then the shop is refused with a problem explained in plain words

  @QA-ERRORS @simulator @test @needs-approval
  Scenario: Capturing more than the customer approved is refused
    Given a payment of 249.00 NOK that the customer has approved
    When the shop captures 250.00 NOK
    Then the shop is refused with a problem explained in plain words
    And the payment is AUTHORIZED with 249.00 NOK authorized and nothing captured

  @QA-ERRORS @simulator @test @needs-approval
  Scenario: Refunding more than was captured is refused
    Given a payment of 249.00 NOK that the customer has approved
    And the shop has captured 100.00 NOK
    When the shop refunds 150.00 NOK
    Then the shop is refused with a problem explained in plain words

  @QA-ERRORS @simulator @test
  Scenario: Capturing before the customer has approved is refused
    Given a payment of 249.00 NOK waiting for the customer
    When the shop captures 249.00 NOK
    Then the shop is refused with a problem explained in plain words

  @QA-ERRORS @simulator @test @production
  Scenario: A payment the shop never made is not found
    When the shop reads a payment that does not exist
    Then the shop is refused with a problem explained in plain words

  @QA-ERRORS @simulator @test @needs-approval
  Scenario: The same idempotency key for a different capture is refused
    Given a payment of 249.00 NOK that the customer has approved
    And the shop has captured 100.00 NOK with the idempotency key "golive-idem-conflict-key"
    When the shop captures 50.00 NOK with the idempotency key "golive-idem-conflict-key"
    Then the shop is refused with a problem explained in plain words

  @QA-ERRORS @simulator @test @production
  Scenario: Wrong credentials are refused, and the shop says why
    When the shop asks for an access token with credentials that are not its own
    Then the shop is refused with a problem explained in plain words
