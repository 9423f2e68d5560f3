Feature: The return to the shop
  After paying, the phone opens the returnUrl in its default browser, without
  the shop's session: the address must carry everything the page needs.

  @PF-REDIRECTS @simulator @test @production
  Scenario: The return address is safe and names the payment
    When the shop creates a payment of 249.00 NOK with the user flow WEB_REDIRECT
    Then the return address is https and carries the reference
    When the shop cancels the payment
    Then the payment is TERMINATED

  @PF-REDIRECTS @simulator @test @production @needs-return-page
  Scenario: The shop's return page opens in a fresh browser
    Given the shop's own return page
    Then the return page answers without cookies
