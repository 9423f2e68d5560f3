Feature: Polling for the payment's outcome
  The shop learns the outcome by asking: it never relies on the return to the
  shop or on a webhook alone.

  @PF-POLLING @simulator @test @production @needs-approval
  Scenario: The shop polls until the customer has answered
    Given a payment of 249.00 NOK waiting for the customer
    When the customer approves the payment
    Then the shop polls until the payment is AUTHORIZED
    And the first poll came no sooner than 5 seconds after the payment was created
    And the polls came about 2 seconds apart

  @PF-POLLING @simulator @needs-webhooks @needs-approval
  Scenario: The shop still reads the outcome when a webhook arrived first
    Given the shop listens for webhooks
    And a payment of 249.00 NOK waiting for the customer
    When the customer approves the payment
    And the webhook for AUTHORIZED arrives
    Then the shop polls until the payment is AUTHORIZED
