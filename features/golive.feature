Feature: The go-live references
  The references Vipps asks for before go-live: in the test environment one
  that ended CAPTURED, one REFUNDED and one CANCELLED; in production also one
  AUTHORIZED, each approved by a real person with the smallest amounts.

  @GL-TEST @GL-PROD @simulator @test @production @needs-approval
  Scenario: A payment that ends captured
    Given a payment of 2.00 NOK that the customer has approved
    When the shop captures 2.00 NOK
    Then the payment is kept as the go-live reference ending CAPTURED

  @GL-TEST @GL-PROD @simulator @test @production @needs-approval
  Scenario: A payment that ends refunded
    Given a payment of 2.00 NOK that the customer has approved
    And the shop has captured 2.00 NOK
    When the shop refunds 2.00 NOK
    Then the payment is kept as the go-live reference ending REFUNDED

  @GL-TEST @GL-PROD @simulator @test @production @needs-approval
  Scenario: A payment that ends cancelled
    Given a payment of 2.00 NOK that the customer has approved
    When the shop cancels the payment
    Then the payment is kept as the go-live reference ending CANCELLED

  @GL-PROD @simulator @production @needs-approval
  Scenario: A payment that stays authorized
    Given a payment of 2.00 NOK that the customer has approved
    Then the payment is kept as the go-live reference ending AUTHORIZED
