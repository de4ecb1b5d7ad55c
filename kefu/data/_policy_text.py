# ruff: noqa: E501  (policy paragraphs are prose; one line per paragraph keeps the Markdown exact)
"""The demo shop's policy, written for this project in English and Chinese.

Answers about returns, shipping, payment and the rest quote these sections verbatim, so every
fact here is one the bot may state. Keep the two languages saying the same thing.
"""

from __future__ import annotations

POLICY_EN = """\
# Kefu Demo Shop — Customer Policy

This policy applies to every order placed at the Kefu Demo Shop. Prices are in US dollars (USD).

## Returns
You can return most items within 30 days of delivery for any reason. Items must be unused, in their original packaging and with all tags and accessories included; opened skincare and personalised items can only be returned if they arrived damaged or faulty. To start a return, open the order in your account (or give us the order number, e.g. KF100042) and choose "Return items"; we email you a prepaid return label. Return shipping is free when the item is faulty, damaged or not what you ordered; otherwise a flat fee of $6.95 is deducted from the refund.

## Refunds
We issue the refund within 5–7 business days after the returned parcel arrives at our warehouse and passes inspection. Refunds go back to the original payment method: cards and PayPal usually show the money 3–5 business days after we issue it, Alipay and WeChat Pay within 1–3 business days. If an order is cancelled before it ships, the full amount is refunded right away. Original shipping charges are refunded only when the return is due to our mistake.

## Shipping
Standard shipping takes 3–5 business days and costs $5.99; it is free on orders over $50. Express shipping takes 1–2 business days and costs $14.99. Orders placed before 2 pm Eastern on a business day leave our warehouse the same day. We ship with UPS, FedEx, USPS and DHL in the US, and with DHL or SF Express internationally (7–14 business days; import duties are paid by the recipient). Every shipped order gets a tracking number by email.

## Payment
We accept Visa, Mastercard, American Express, Discover, PayPal, Apple Pay, Alipay and WeChat Pay. Your card is charged when you place the order. If a payment fails, check that the billing address and card details match what your bank has on file, make sure the card allows online purchases, then retry from the order page or choose another payment method. A declined attempt never creates a charge; a pending authorization from a failed attempt disappears within 3–5 business days. If you were charged twice, contact us with the order number and we refund the duplicate.

## Cancellations
You can cancel an order yourself while its status is pending or paid. Once an order has shipped it can no longer be cancelled, but you can return it after delivery under our returns policy. Cancelled orders that were already paid are refunded in full to the original payment method.

## Order changes
While an order is pending or paid we can change the size, colour or quantity of an item, add items, upgrade to express shipping, or correct the shipping address. Ask us with your order number as soon as possible. After an order has shipped we cannot change it or its address; you can ask the carrier to redirect the parcel using the tracking number, or return the item after delivery.

## Coupons
One coupon code can be used per order and it cannot be combined with other promotions unless the coupon says so. Enter the code in the "Promo code" box at checkout; codes cannot be added after the order is placed. Expired codes cannot be reactivated. New subscribers to our newsletter get 10% off their first order.

## Account
You can order as a guest or with an account; an account lets you track orders and start returns. To reset your password, use "Forgot password" on the sign-in page; the reset link is valid for 1 hour. Check your spam folder if a verification or reset email does not arrive within 10 minutes. You can change your email, phone number or newsletter preferences under Account settings, and ask us to delete your account at any time.

## Contact
Our chat assistant answers around the clock. Human agents are available Monday to Friday, 9 am–6 pm Eastern; ask to talk to a person and we will hand your conversation over. You can also email support@example.com; we reply within one business day. Please include your order number so we can help faster.
"""

POLICY_ZH = """\
# Kefu 示范商城 · 顾客须知

本须知适用于在 Kefu 示范商城下的所有订单。商品价格以美元（USD）计价。

## 退货 {#returns}
大部分商品自签收之日起 30 天内可无理由退货。退回的商品须未经使用、保持原包装，吊牌和配件齐全；已开封的护肤品和定制商品仅在到货破损或有质量问题时可退。申请退货：在账户中打开该订单（或告诉我们订单号，例如 KF100042），选择“退货”，我们会通过邮件发送预付运费的退货面单。如因商品有质量问题、破损或发错货而退货，退货运费由我们承担；其他情况将从退款中扣除 6.95 美元的固定运费。

## 退款 {#refunds}
退货包裹到达我们仓库并验收通过后，我们会在 5–7 个工作日内办理退款。退款按原支付方式退回：银行卡和 PayPal 通常在我们发起退款后 3–5 个工作日到账，支付宝和微信支付 1–3 个工作日到账。订单在发货前取消的，全额立即退款。原订单运费仅在因我方原因退货时退还。

## 配送 {#shipping}
标准配送 3–5 个工作日送达，运费 5.99 美元；订单满 50 美元免运费。加急配送 1–2 个工作日送达，运费 14.99 美元。工作日美国东部时间下午 2 点前下单，当天从仓库发出。美国境内使用 UPS、FedEx、USPS 和 DHL 配送，国际订单使用 DHL 或顺丰速运（7–14 个工作日，进口关税由收件人承担）。每个已发货订单都会通过邮件收到物流单号。

## 付款方式 {#payment}
我们接受 Visa、Mastercard、American Express、Discover、PayPal、Apple Pay、支付宝和微信支付。下单时即扣款。如果支付失败，请核对账单地址和卡片信息是否与银行登记一致，确认该卡已开通网上支付，然后在订单页面重新支付或换一种支付方式。被拒绝的支付不会产生扣款；支付失败留下的预授权会在 3–5 个工作日内自动释放。如被重复扣款，请提供订单号联系我们，我们会退还重复的款项。

## 取消订单 {#cancellations}
订单状态为“待付款”或“已付款”时，您可以自行取消。订单一旦发货便无法取消，但签收后可按退货政策办理退货。已付款的订单取消后，款项将全额原路退回。

## 修改订单 {#order-changes}
订单在“待付款”或“已付款”状态时，我们可以修改商品的尺码、颜色或数量，添加商品，升级为加急配送，或更正收货地址。请尽快提供订单号联系我们。订单发货后无法再修改订单内容或收货地址；您可以凭物流单号联系承运商改派，或在签收后办理退货。

## 优惠券 {#coupons}
每个订单限用一张优惠券，除非优惠券另有说明，否则不可与其他优惠同享。请在结算页面的“优惠码”一栏输入优惠码；下单后无法补用优惠码。已过期的优惠码无法重新激活。新订阅我们邮件通讯的顾客，首单可享九折优惠。

## 账户 {#account}
您可以游客身份下单，也可以注册账户；有账户可以查看订单物流、申请退货。忘记密码请在登录页点击“忘记密码”，重置链接 1 小时内有效。如 10 分钟内未收到验证或重置邮件，请检查垃圾邮件箱。在“账户设置”中可以修改邮箱、手机号和邮件订阅偏好，也可以随时联系我们注销账户。

## 联系我们 {#contact}
智能客服全天候在线。人工客服服务时间为美国东部时间周一至周五上午 9 点至下午 6 点；说“转人工”即可转接人工客服。也可以发邮件至 support@example.com，我们会在一个工作日内回复。请附上订单号，方便我们更快为您处理。
"""
