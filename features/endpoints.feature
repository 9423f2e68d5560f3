Feature: Endpoints to integrate
  The shop creates payments in every way the customer can meet them, reads
  them back, and captures, refunds or cancels them as its orders change.

  @EP-CREATE @simulator @test
  Scenario Outline: The shop creates a payment with the <flow> user flow
    When the shop creates a payment of 249.00 NOK with the user flow <flow>
    Then the answer carries <link> redirect link
    And the payment is CREATED
    When the shop cancels the payment
    Then the payment is TERMINATED

    Examples:
      | flow            | link |
      | WEB_REDIRECT    | a    |
      | NATIVE_REDIRECT | a    |
      | QR              | a    |
      | PUSH_MESSAGE    | no   |

  @EP-GET @EP-EVENTS @simulator @test @production @needs-approval
  Scenario: The shop reads an approved payment and its event log
    Given a payment of 249.00 NOK that the customer has approved
    When the shop reads the payment
    Then the payment is AUTHORIZED with 249.00 NOK authorized and nothing captured
    And the event log reads CREATED, AUTHORIZED

  @EP-CANCEL @simulator @test @production
  Scenario: Cancelling a payment the customer has not approved ends it
    Given a payment of 249.00 NOK waiting for the customer
    When the shop cancels the payment
    Then the payment is TERMINATED
    And the event log reads CREATED, TERMINATED

  @EP-CANCEL @EP-CAPTURE @simulator @test @production @needs-approval
  Scenario: The shop cancels what is left after a partial capture
    Given a payment of 249.00 NOK that the customer has approved
    When the shop captures 100.00 NOK
    And the shop cancels the payment
    Then the payment is AUTHORIZED with 100.00 NOK captured and 149.00 NOK cancelled
    And the event log reads CREATED, AUTHORIZED, CAPTURED, CANCELLED

  @EP-CAPTURE @simulator @test @production @needs-approval
  Scenario: The shop captures part of a payment, then the rest
    Given a payment of 249.00 NOK that the customer has approved
    When the shop captures 100.00 NOK
    And the shop captures 149.00 NOK
    Then the payment is AUTHORIZED with 249.00 NOK captured
    And the event log reads CREATED, AUTHORIZED, CAPTURED, CAPTURED

  @EP-CAPTURE @simulator @test @production @needs-approval
  Scenario: The shop captures the whole payment at once
    Given a payment of 249.00 NOK that the customer has approved
    When the shop captures 249.00 NOK
    Then the payment is AUTHORIZED with 249.00 NOK captured
    And the event log reads CREATED, AUTHORIZED, CAPTURED

  @EP-REFUND @simulator @test @production @needs-approval
  Scenario: The shop refunds part of a captured payment
    Given a payment of 249.00 NOK that the customer has approved
    And the shop has captured 249.00 NOK
    When the shop refunds 50.00 NOK
    Then the payment is AUTHORIZED with 249.00 NOK captured and 50.00 NOK refunded
    And the event log reads CREATED, AUTHORIZED, CAPTURED, REFUNDED

  @EP-REFUND @simulator @test @production @needs-approval
  Scenario: The shop refunds a captured payment in full
    Given a payment of 249.00 NOK that the customer has approved
    And the shop has captured 249.00 NOK
    When the shop refunds 249.00 NOK
    Then the payment is AUTHORIZED with 249.00 NOK captured and 249.00 NOK refunded
    And the event log reads CREATED, AUTHORIZED, CAPTURED, REFUNDED
