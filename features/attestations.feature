Feature: What only a person can confirm
  Some items are not traffic: a person at the shop confirms them, and the
  report records who and when (vipps-golive run --attest PF-DESIGN="Name, role").

  @PF-DESIGN @manual
  Scenario: The shop follows the design guidelines
    Then a person has confirmed that the design guidelines are followed

  @PF-SUPPORT @manual
  Scenario: Customer support can do its normal work in the shop's own system
    Then a person has confirmed that customer support works in the shop's own system
