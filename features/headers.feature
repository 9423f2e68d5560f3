Feature: The HTTP headers on every request
  Every request names the sales unit and the shop's system, and every POST
  carries an idempotency key, so Vipps can trace and safely repeat it.

  @QA-HEADERS @simulator @test @production @needs-approval
  Scenario: Every request the shop sends carries the Vipps headers
    Given a payment of 249.00 NOK that the customer has approved
    When the shop captures 249.00 NOK
    And the shop reads the payment
    Then every request of this scenario carried the Vipps headers
    And every POST of this scenario carried an idempotency key of at most 50 characters
