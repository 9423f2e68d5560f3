Feature: Every state and event
  The shop handles every state a payment can reach, and reads each one back
  through the payment and its event log.

  @QA-STATES @simulator @test @production
  Scenario: A payment waits for the customer
    Given a payment of 249.00 NOK waiting for the customer
    When the shop reads the payment
    Then the payment is CREATED
    And the event log reads CREATED

  @QA-STATES @simulator @test @needs-rejection
  Scenario: The customer rejects the payment in the app
    Given a payment of 249.00 NOK waiting for the customer
    When the customer rejects the payment
    Then the shop polls until the payment is ABORTED
    And the event log reads CREATED, ABORTED

  @QA-STATES @slow @simulator @test @needs-expiry
  Scenario: Nobody answers, and the payment expires
    Given a payment of 249.00 NOK waiting for the customer
    When nobody answers before the payment expires
    Then the shop polls until the payment is EXPIRED
    And the event log reads CREATED, EXPIRED

  @QA-STATES @simulator @test @production @needs-approval
  Scenario: Authorized, captured, refunded and cancelled, one after the other
    Given a payment of 249.00 NOK that the customer has approved
    When the shop captures 100.00 NOK
    And the shop refunds 20.00 NOK
    And the shop cancels the payment
    Then the payment is AUTHORIZED with 100.00 NOK captured and 20.00 NOK refunded
    And the event log reads CREATED, AUTHORIZED, CAPTURED, REFUNDED, CANCELLED
