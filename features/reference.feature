Feature: A useful reference
  The shop's references are 8 to 50 letters, digits and dashes, not digits
  only, without a leading zero, and never reused for the same sales unit.

  @PF-REFERENCE @simulator @test @production
  Scenario: The references the shop makes follow the rules
    Given a payment of 249.00 NOK waiting for the customer
    And a payment of 249.00 NOK waiting for the customer
    Then every reference of this scenario is a useful reference
    And no two references of this scenario are the same
