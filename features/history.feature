Feature: Receipts and images in the payment history
  The customer sees what they bought in the app: the shop adds a receipt, a
  category with a link to the order, and an image.

  @QA-HISTORY @simulator @test @needs-approval
  Scenario: The shop adds a receipt, a category and an image to a payment
    Given a payment of 249.00 NOK that the customer has approved
    When the shop uploads an image for the order
    And the shop adds a receipt with one line of 249.00 NOK
    And the shop sets the category to an order confirmation with a link to the order and the image
    Then the payment history shows the receipt, the category and the image
