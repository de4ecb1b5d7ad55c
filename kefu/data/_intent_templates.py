"""Hand-written phrasings for the bundled intent set (English and Chinese).

Each intent has its own cores written the way shoppers actually type: short, casual, sometimes
rude, sometimes with an order id or a product. Slots in braces are filled by the generator
from the vocabularies below so one core yields several distinct utterances.
"""

from __future__ import annotations

# ---------------------------------------------------------------- slot vocabularies
# (the-form, plural, a-form)
EN_PRODUCTS: list[tuple[str, str, str]] = [
    ("running shoes", "running shoes", "a pair of running shoes"),
    ("trail shoes", "trail shoes", "a pair of trail shoes"),
    ("sneakers", "sneakers", "a pair of sneakers"),
    ("hiking boots", "hiking boots", "a pair of hiking boots"),
    ("chelsea boots", "chelsea boots", "a pair of chelsea boots"),
    ("t-shirt", "t-shirts", "a t-shirt"),
    ("rain jacket", "rain jackets", "a rain jacket"),
    ("down jacket", "down jackets", "a down jacket"),
    ("jeans", "jeans", "a pair of jeans"),
    ("summer dress", "summer dresses", "a summer dress"),
    ("backpack", "backpacks", "a backpack"),
    ("laptop backpack", "laptop backpacks", "a laptop backpack"),
    ("wireless earbuds", "wireless earbuds", "some wireless earbuds"),
    ("noise cancelling headphones", "noise cancelling headphones", "noise cancelling headphones"),
    ("phone", "phones", "a new phone"),
    ("laptop", "laptops", "a laptop"),
    ("gaming laptop", "gaming laptops", "a gaming laptop"),
    ("smartwatch", "smartwatches", "a smartwatch"),
    ("fitness tracker", "fitness trackers", "a fitness tracker"),
    ("air fryer", "air fryers", "an air fryer"),
    ("blender", "blenders", "a blender"),
    ("coffee maker", "coffee makers", "a coffee maker"),
    ("frying pan", "frying pans", "a frying pan"),
    ("dutch oven", "dutch ovens", "a dutch oven"),
    ("sofa", "sofas", "a sofa"),
    ("standing desk", "standing desks", "a standing desk"),
    ("office chair", "office chairs", "an office chair"),
    ("desk lamp", "desk lamps", "a desk lamp"),
    ("duvet", "duvets", "a duvet"),
    ("bed sheets", "bed sheets", "a set of bed sheets"),
    ("building blocks set", "building block sets", "a building blocks set"),
    ("moisturizer", "moisturizers", "a moisturizer"),
    ("sunscreen", "sunscreens", "a sunscreen"),
    ("cookbook", "cookbooks", "a cookbook"),
]

ZH_PRODUCTS: list[str] = [
    "跑鞋", "跑步鞋", "越野跑鞋", "运动鞋", "小白鞋", "马丁靴", "登山靴", "T恤", "短袖", "冲锋衣",
    "羽绒服", "牛仔裤", "阔腿裤", "连衣裙", "碎花裙", "双肩包", "电脑包", "蓝牙耳机", "降噪耳机",
    "头戴式耳机", "手机", "笔记本电脑", "游戏本", "智能手表", "运动手环", "空气炸锅", "破壁机",
    "咖啡机", "电饭煲", "不粘锅", "铸铁锅", "沙发", "懒人沙发", "升降桌", "电脑桌", "人体工学椅",
    "台灯", "落地灯", "四件套", "被子", "乳胶枕", "积木", "遥控车", "面霜", "防晒霜", "洗面奶",
    "精华", "小说", "绘本",
]

BRANDS: list[str] = [
    "Stride", "Northpeak", "Veloce", "Urbanfolk", "Kestrel", "Lumio", "Soniq", "Orbitel",
    "Auralis", "Cuisio", "Ferrox", "Hearthwell", "Loomcraft", "Oakline", "Lumen & Co",
    "Dreamnest", "Brickley", "Glowlab", "Inkwell Press", "Tidewater", "Pacer", "Copperleaf",
]

COLORS_EN = ["black", "white", "navy", "grey", "red", "olive", "beige", "pink", "blue", "green"]
COLORS_ZH = ["黑色", "白色", "藏青色", "灰色", "红色", "军绿色", "米色", "粉色", "蓝色", "绿色"]
SIZES = ["S", "M", "L", "XL", "8", "9", "10", "10.5", "11", "38", "39", "40", "42", "44"]
PRICES = ["20", "30", "40", "50", "60", "80", "100", "120", "150", "200", "250", "300", "500"]
ZH_PRICES = ["50", "100", "200", "300", "500", "800", "1000", "1500", "2000", "3000", "5000"]
DAYS = ["3", "4", "5", "6", "7", "8", "10", "12", "14", "two", "three", "five", "ten"]
ZH_DAYS = ["3", "5", "7", "10", "半个月", "两", "三", "五", "十"]
USES_EN = ["marathon training", "the gym", "commuting", "hiking", "travel", "working from home",
           "a small apartment", "gaming", "school", "cold weather", "sensitive skin", "a beginner"]
USES_ZH = ["跑马拉松", "健身", "通勤", "爬山", "出差", "居家办公", "小户型", "打游戏", "上学",
           "冬天穿", "敏感肌", "新手"]
PERSONS_EN = ["mom", "dad", "wife", "husband", "girlfriend", "boyfriend", "son", "daughter",
              "boss", "best friend"]
PERSONS_ZH = ["妈妈", "爸爸", "老婆", "老公", "女朋友", "男朋友", "儿子", "女儿", "领导", "闺蜜",
              "同事"]
COUNTRIES_EN = ["canada", "the UK", "Germany", "Australia", "Mexico", "Japan", "France", "Brazil"]
COUNTRIES_ZH = ["香港", "台湾", "加拿大", "美国", "日本", "新加坡", "澳洲", "英国"]
CITIES_EN = ["Chicago", "Seattle", "Boston", "Denver", "Austin", "London", "Tokyo", "Paris"]
CITIES_ZH = ["北京", "上海", "广州", "深圳", "成都", "杭州", "武汉", "西安", "南京", "重庆"]
ADDRESSES_EN = ["42 Maple Street", "17 Harbor View Rd apt 5", "880 Cedar Lane", "9 Willow Court",
                "2210 Pine Ave unit 12", "315 Elm Drive"]
ADDRESSES_ZH = ["朝阳区建国路88号", "浦东新区张江路100弄", "天河区体育西路5号",
                "南山区科技园12栋", "武侯区人民南路三段", "西湖区文三路200号"]
CODES = ["SAVE10", "WELCOME15", "FREESHIP", "SPRING20", "VIP25", "HELLO5", "FALL30", "NEW2026"]
PERCENTS = ["10", "15", "20", "25", "30", "50"]
PAY_EN = ["paypal", "apple pay", "alipay", "wechat pay", "a debit card", "amex", "klarna"]
PAY_ZH = ["支付宝", "微信", "信用卡", "花呗", "PayPal", "银联卡", "Apple Pay"]
CARRIERS = ["UPS", "FedEx", "DHL", "USPS", "SF Express"]
WEEKDAYS = ["friday", "monday", "the weekend", "christmas", "next tuesday", "saturday"]
TEAMS_EN = ["lakers", "yankees", "patriots", "warriors", "arsenal", "real madrid"]
TEAMS_ZH = ["湖人", "勇士", "国足", "皇马", "曼联", "广东队"]
TOPICS_EN = ["climate change", "world war 2", "my summer vacation", "shakespeare", "the french revolution"]
AGES = ["3", "5", "7", "10", "12", "16"]

# ------------------------------------------------------------------------- english
EN: dict[str, list[str]] = {
    "greeting": [
        "{hi}", "{hi}!", "{hi}, anyone there?", "{hi}, is this the shop's support?",
        "{hi}, can you help me?", "{hi}, how are you today?", "{hi} :)", "{hi}, i have a question",
        "{hi} there", "{hi}, hope you're doing well", "{hi}!! anybody home", "{hi}, is this chat working?",
        "{hi}, quick question", "{hi} hi", "{hi}, you there?", "{hi}... hello?",
    ],
    "goodbye": [
        "{bye}", "{bye}!", "ok {bye}", "that's all, {bye}", "alright, {bye}", "i'm done for now, {bye}",
        "{bye} then", "gotta go, {bye}", "nothing else, {bye}", "ok that's everything. {bye}",
        "{bye}, have a nice day", "cool, {bye}", "ok i'll check later, {bye}", "thanks, {bye}",
        "that's it for today. {bye}", "i'm all set, {bye}", "signing off, {bye}",
    ],
    "thanks": [
        "{ty}", "{ty}!", "ok {ty}", "great, {ty}", "{ty} for the help", "{ty}, that helps",
        "perfect, {ty}", "{ty}, you've been very helpful", "got it, {ty}", "awesome {ty}",
        "{ty} so much for sorting that out", "that answers my question, {ty}", "nice, {ty}!",
        "appreciate it", "really appreciate your help", "you're a lifesaver", "{ty}, super quick reply",
        "that's exactly what i needed, {ty}", "wonderful, {ty} again",
    ],
    "order_status": [
        "where is my order {order}?", "where's my order", "can you check the status of order {order}",
        "what's the status of my order", "has my order shipped yet?", "has {order} shipped",
        "i ordered {a_product} last week and it still hasn't arrived", "when will my package arrive?",
        "when will order {order} be delivered", "track my order {order}", "tracking info for {order} please",
        "my order hasn't arrived yet", "it's been {days} days and no package",
        "any update on my order {order}?", "is my order on the way?", "order {order} status?",
        "i want to know where my parcel is", "where is my {product}",
        "can you tell me when my {product} will get here",
        "my package says in transit for {days} days, where is it?", "has my order been dispatched",
        "did you ship {order} yet", "check order {order}", "i placed an order {days} days ago, any news?",
        "wheres my stuff", "whens my order coming", "{order} where is it", "what's the eta on {order}",
        "tracking number for my {product} order?", "is {order} out for delivery yet",
    ],
    "cancel_order": [
        "i want to cancel my order", "cancel order {order}", "please cancel {order}",
        "can i still cancel my order?", "how do i cancel an order",
        "i changed my mind, cancel the {product} order", "i ordered by mistake, please cancel it",
        "cancel my order asap", "is it too late to cancel {order}?",
        "i'd like to cancel order {order} please", "don't ship {order}, i want to cancel",
        "i need to cancel the order i just placed", "cancel the whole order",
        "how can i cancel my purchase of the {product}", "i accidentally ordered twice, cancel one of them",
        "found it cheaper elsewhere, cancel my order {order}", "stop my order {order}",
        "can you void order {order}", "i no longer need the {product}, cancel {order}",
        "please cancel before it ships", "cancel {order}, wrong item ordered",
        "how do i cancel the {product} i ordered {days} days ago",
    ],
    "change_order": [
        "can i change the size on order {order}?", "i want to change my order",
        "i need to swap the {color} one for {color2}", "can i add another item to {order}",
        "please change the size to {size}", "i ordered the wrong size, can i change it before it ships",
        "can i update the quantity on my order", "change order {order} to size {size} please",
        "i want to switch to the {color} color", "remove the {product} from my order {order}",
        "can i modify my order {order}", "i'd like to add {a_product} to my existing order",
        "can i change from standard to express shipping on {order}",
        "i picked the wrong color, can you change it", "is it possible to edit my order",
        "change qty to 2 on order {order}", "can i upgrade the {product} in my order to the bigger version",
        "add one more {product} to {order}", "make it size {size} instead of {size2}",
        "swap the {product} in {order} for the {color} version",
    ],
    "return_request": [
        "i want to return my {product}", "how do i return an item", "can i return order {order}",
        "the {product} doesn't fit, i want to send it back",
        "i'd like to return this, it's not what i expected", "what's the return process",
        "return the {product} from {order}", "i need a return label",
        "can i return something i bought {days} days ago",
        "the {product} arrived damaged, i want to return it",
        "i received the wrong item and want to return it", "how do i send back the {color} {product}",
        "start a return for {order}", "i want to send the {product} back for a refund",
        "is it too late to return my order", "can i exchange the {product} for another size",
        "return request for order {order}", "the size is too small, i want to return it",
        "the {product} stopped working after a week, can i return it",
        "where do i ship returns to", "do i have to pay for return shipping on the {product}",
    ],
    "refund_status": [
        "where is my refund", "when will i get my refund for {order}",
        "i returned the {product} {days} days ago and still no refund",
        "has my refund been processed?", "refund status for {order}", "how long do refunds take",
        "i haven't received my money back", "did you refund order {order} yet",
        "my refund still isn't showing on my card", "any update on my refund?",
        "when does the refund hit my account", "check refund for {order} please",
        "you said refund approved but nothing yet", "is my refund on the way",
        "refund for the cancelled order {order}?", "how much will be refunded for {order}",
        "still waiting on refund, it's been {days} days", "will the refund go back to {pay}?",
        "the return was delivered to you, where's my money", "refund {order} status pls",
    ],
    "shipping_info": [
        "how long does shipping take?", "do you ship to {country}?", "how much is shipping",
        "is there free shipping", "what's the minimum for free shipping", "do you offer express delivery",
        "which carriers do you use", "how long does delivery to {country} take",
        "can i get it by {weekday} if i order now?", "do you ship internationally",
        "what are the shipping options", "how fast is express shipping",
        "is shipping free over ${price}?", "shipping cost for {a_product}?", "do you deliver on weekends",
        "when will it ship if i order today", "can i choose the delivery carrier",
        "do you ship with {carrier}", "how much does express shipping cost",
        "do you ship {products} to {country}", "standard shipping time?",
    ],
    "change_address": [
        "i need to change my shipping address", "can i update the address on order {order}",
        "wrong address on my order, please fix", "please ship {order} to {address} instead",
        "i moved, can you change the delivery address", "can i change the address after placing the order",
        "update delivery address for {order}", "i typed the wrong zip code",
        "send it to my work address instead", "change the address to {address}",
        "the apartment number is missing on my order", "can i redirect my package",
        "i want it delivered to a different address", "my address is wrong on {order}",
        "fix the street name on my order please", "new address for {order}: {address}",
        "i put my old address by mistake", "can you change the shipping address before it ships",
    ],
    "payment_issue": [
        "my payment failed", "card declined but i have money", "i was charged twice for {order}",
        "payment not going through", "why was my card declined", "paypal keeps giving an error",
        "i got charged but the order shows pending", "can't pay with my credit card",
        "the checkout page errors when i pay", "payment failed for {order}, what now",
        "do you accept {pay}?", "double charged!!",
        "my bank says the payment went through but the order isn't confirmed",
        "{pay} payment isn't working", "how do i retry a failed payment",
        "i see a pending charge on my card", "can i pay with a different card",
        "checkout keeps saying transaction declined", "money left my account but no order",
        "charged ${price} but my order was less",
    ],
    "product_search": [
        "show me {products}", "{products} under {price}", "do you have {products}",
        "looking for {color} {products}", "i need {a_product} for {use}", "find me {products} below ${price}",
        "any {brand} {products}?", "show me cheap {products}", "what {products} do you sell",
        "search {products}", "i'm looking for {products} in size {size}",
        "{products} between {price} and {price2} dollars", "got any {products}?",
        "show me {color} {products} under ${price}", "i want to buy {a_product}",
        "list your {products}", "budget {products}", "{brand} {products}",
        "do you carry {products} from {brand}", "{products} less than {price} bucks",
        "need {a_product} asap, what do you have", "browse {products}",
    ],
    "product_question": [
        "is the {brand} {product} waterproof?", "what material is the {product} made of",
        "does the {product} come with a warranty", "what's the battery life of the {product}",
        "is this {product} true to size?", "how heavy is the {product}",
        "what are the dimensions of the {product}", "does the {brand} {product} work with iphone",
        "is the {product} machine washable", "what colors does the {product} come in",
        "does it come with a charger", "is the {product} suitable for {use}", "how big is the {product}",
        "tell me more about the {brand} {product}", "does the {product} have noise cancelling",
        "is it dishwasher safe", "what's the difference between these two models",
        "can the {product} be used outdoors", "what's the warranty on {brand} stuff",
        "is the {product} vegan leather or real", "does the {product} run small",
    ],
    "recommendation": [
        "what do you recommend for {use}?", "can you recommend {a_product}", "which {product} should i buy",
        "what's your best {product}", "any suggestions for a gift for my {person}?",
        "recommend something for a {age} year old", "which is better for {use}",
        "what's popular right now", "best {products} for beginners?",
        "i need a gift under ${price}, ideas?", "help me choose {a_product}",
        "what would you suggest for {use}", "top rated {products}?", "what's a good {product} for {use}",
        "bestsellers in {products}?", "which {brand} {product} would you pick",
        "not sure which {product} to get, advice?", "what should i get my {person} for christmas",
        "best value {products} you have?",
    ],
    "price_question": [
        "how much is the {brand} {product}?", "what's the price of the {product}",
        "how much does {a_product} cost", "price for {brand} {product}?", "is the {product} on sale?",
        "how much", "what does the {product} cost now", "is that price in USD?",
        "why did the price of the {product} go up", "will the {product} get cheaper",
        "how much is it", "price check on the {brand} {product}", "does the price include tax",
        "how much is it with shipping", "what's the total for 2 of the {product}",
        "cost of the {color} {product}?", "is the {brand} {product} still ${price}",
        "how much r the {products}",
    ],
    "stock_availability": [
        "is the {product} in stock?", "do you have the {product} in size {size}",
        "when will the {color} {product} be back in stock", "is the {brand} {product} available",
        "is it sold out?", "any {products} left in {color}?", "restock date for the {product}?",
        "how many {products} do you have left", "can you notify me when the {product} is back",
        "out of stock again??", "is size {size} available", "do you still carry the {brand} {product}",
        "is the {product} available now", "will you get more {products}",
        "{product} in {color}, any left?", "is the {size} sold out", "when do you restock {brand}",
    ],
    "coupon": [
        "do you have any discount codes?", "my coupon code {code} isn't working", "how do i use a coupon",
        "is there a promo for first orders?", "can i apply a coupon after ordering",
        "coupon {code} says expired", "any sales coming up?", "student discount?",
        "can i use two coupons", "where do i enter the promo code",
        "do you have a code for {percent}% off", "the discount wasn't applied to {order}",
        "i got a voucher by email, how do i use it", "free shipping coupon?",
        "is there a discount on the {product}", "black friday deals?", "{code} not valid??",
        "promo code for {products}?", "can i stack {code} with the sale price",
    ],
    "complaint": [
        "this is unacceptable", "your service is terrible",
        "the {product} broke after {days} days, very disappointed",
        "i've been waiting for weeks, this is ridiculous", "worst shopping experience ever",
        "i want to file a complaint", "the delivery guy threw my package",
        "the {product} arrived damaged and nobody is helping me", "i'm really unhappy with the quality",
        "you charged me wrong and no one answers", "i'm so frustrated with this order",
        "the item looks nothing like the photos", "nobody replied to my emails",
        "your support staff were rude to me", "i'll leave a bad review",
        "this {brand} {product} is total junk", "completely let down by your shop",
        "{order} is a mess, fix it", "third time i'm writing about {order}!!",
        "cheap quality, the {product} fell apart", "i'm never ordering from you again",
    ],
    "human_agent": [
        "i want to talk to a human", "can i speak to a real person", "get me an agent",
        "transfer me to customer service", "human please", "is there a live agent",
        "i don't want to talk to a bot", "connect me with someone from support", "agent",
        "let me talk to your manager", "representative please",
        "can a real person help me with {order}", "you're not helping, get me a person",
        "speak to human", "operator", "i need a human to look at this",
        "are there any real people working there", "live chat with staff please",
        "pass me to a human agent about {order}", "real person, now",
    ],
    "account_help": [
        "i forgot my password", "can't log in", "how do i reset my password",
        "change the email on my account", "delete my account", "i didn't get the verification email",
        "my account got locked", "how do i update my phone number", "how do i create an account",
        "can i order without an account", "how do i change my password",
        "unsubscribe me from emails", "log in keeps failing", "where do i see my order history",
        "update my profile name", "i want to merge two accounts", "someone else is using my account",
        "password reset link doesn't work", "i signed up with the wrong email",
        "how do i turn on two factor login",
    ],
    "out_of_scope": [
        "what's the weather like tomorrow", "tell me a joke", "who will win the election",
        "can you help with my math homework", "how do i cook rice",
        "what was the score of the {team} game", "write a python function to sort a list",
        "what is the capital of {country}", "who are you voting for", "how do i make pancakes",
        "what's the meaning of life", "sing me a song", "what time is it in tokyo",
        "translate this to french", "solve 2x + 3 = 7", "who won the world cup",
        "recommend a good movie", "what's bitcoin's price today", "how tall is mount everest",
        "fix my javascript error", "is it going to rain in {city}", "what's your favorite color",
        "explain quantum physics", "help me write an essay about {topic}", "how do i lose weight",
        "book me a flight to {city}", "did the {team} win last night", "what's 17 times 23",
        "how do i center a div in css", "best pizza place near me",
    ],
}

# ------------------------------------------------------------------------- chinese
ZH: dict[str, list[str]] = {
    "greeting": [
        "{zhi}", "{zhi}！", "{zhi}，在吗", "{zhi}，有人吗？", "{zhi}，想咨询一下", "{zhi}呀",
        "{zhi}～", "{zhi}，客服小姐姐在吗", "{zhi}，打扰一下", "{zhi}，有个问题想问问", "{zhi}啊",
        "{zhi}，请问有人吗", "{zhi}{zhi2}",
    ],
    "goodbye": [
        "{zbye}", "{zbye}！", "好的，{zbye}", "那{zbye}", "没别的问题了，{zbye}", "就这些，{zbye}",
        "我先下了，{zbye}", "行，{zbye}", "明白了，{zbye}", "OK{zbye}", "那先这样吧，{zbye}",
        "好嘞{zbye}", "谢谢，{zbye}", "没事了，{zbye}",
    ],
    "thanks": [
        "{zty}", "{zty}！", "好的{zty}", "明白了，{zty}", "{zty}，帮大忙了", "好的好的，{zty}",
        "OK，{zty}", "了解了{zty}", "{zty}客服", "{zty}，解答得很清楚", "收到，{zty}",
        "那太好了，{zty}", "{zty}，服务真好", "懂了，{zty}",
    ],
    "order_status": [
        "我的订单{order}到哪了", "帮我查一下订单{order}", "订单{order}发货了吗", "我买的{zp}怎么还没到",
        "快递到哪了", "什么时候能到货啊", "物流信息怎么一直不更新", "查下物流 {order}",
        "我的包裹到哪里了", "下单{zdays}天了还没收到", "{order}这个单发了没", "请问我的订单什么时候发货",
        "能帮我看看{order}的物流吗", "我的{zp}发货了吗", "订单状态怎么看", "已经{zdays}天了快递还没动",
        "麻烦查一下我的快递", "单号{order}，到哪了", "我的货啥时候到", "查询订单进度",
        "{zp}到底什么时候发", "{order}显示已发货，但一直没收到", "快递单号是多少",
    ],
    "cancel_order": [
        "我要取消订单", "帮我取消订单{order}", "订单{order}不要了，取消吧", "拍错了，能取消吗",
        "怎么取消订单", "还没发货的话帮我取消一下", "我不想要了，取消{order}", "下单下重复了，取消一个",
        "{zp}不要了，帮我把订单取消", "现在还能取消吗", "取消订单怎么操作", "麻烦把{order}这单撤销",
        "刚下的单，想取消", "不买了，取消吧", "订单能不能取消啊", "别发货了，我要取消",
        "{order}取消掉，谢谢", "买的{zp}不想要了，还没发货吧，取消",
    ],
    "change_order": [
        "订单{order}能改尺码吗", "我想改一下订单", "颜色拍错了，能换成{zcolor}吗", "帮我把尺码改成{size}",
        "还没发货的话能改个颜色吗", "能不能再加一件到订单{order}里", "数量改成两件",
        "{order}里的{zp}不要了，其他照发", "我想把{zp}换成{zcolor}的", "能修改订单吗",
        "订单里的规格选错了", "帮我把{order}改成加急发货", "下单后还能改款式吗", "能把码数改大一码吗",
        "订单内容想调整一下", "{order}的{zp}改成{size}码", "再帮我加一个{zp}到这单里",
    ],
    "return_request": [
        "我要退货", "{zp}不合适，想退", "怎么申请退货", "订单{order}想退货", "七天无理由退货可以吗",
        "收到的{zp}有质量问题，要退", "尺码小了，能退换吗", "发错货了，我要退", "退货流程是什么",
        "退货地址在哪", "{zp}颜色跟图片不一样，想退掉", "买了{zdays}天了还能退吗", "帮我办理一下退货",
        "这个{zp}我不想要了，能退吗", "退货运费谁出", "想换个尺码，怎么换货", "{order}申请退货退款",
        "{zp}穿着不舒服，退了吧",
    ],
    "refund_status": [
        "退款什么时候到账", "我的退款到哪了", "订单{order}退款了吗", "退货{zdays}天了还没退款",
        "退款怎么还没到", "查一下{order}的退款进度", "钱什么时候退回来", "退款多久能到",
        "已经寄回去了，退款呢", "取消订单的钱退了吗", "退款到哪个账户", "说好的退款怎么还没收到",
        "{order}退款状态", "退款是原路返回吗", "{zp}退了，钱还没到", "退款会退到{zpay}吗",
        "{order}的钱退了没",
    ],
    "shipping_info": [
        "运费多少", "包邮吗", "满多少包邮", "发什么快递", "能发{zcountry}吗", "一般几天能到",
        "可以发顺丰吗", "今天下单什么时候发货", "有加急吗", "到{zcity}要几天", "支持海外配送吗",
        "快递费怎么算", "周末发货吗", "加急配送多少钱", "默认发哪家快递", "{zp}包邮吗",
        "寄到{zcity}运费多少", "发{zcountry}大概多久",
    ],
    "change_address": [
        "我要改收货地址", "地址填错了，能改吗", "订单{order}的地址帮我改一下", "帮我改成{zaddress}",
        "搬家了，收货地址要换", "能改收件地址吗", "门牌号写错了", "收件人电话填错了", "改到公司地址",
        "发货前能改地址吗", "{order}收货地址改成{zaddress}", "快递能改派吗", "地址少写了一个单元号",
        "修改一下收货信息", "{order}地址选成老地址了", "新地址是{zaddress}，帮我换一下",
    ],
    "payment_issue": [
        "付款失败了", "支付不成功怎么办", "扣了两次钱", "钱扣了订单还显示未付款", "支付宝付不了",
        "微信支付一直报错", "信用卡被拒了", "{order}付款的时候失败了", "能用{zpay}付款吗",
        "重复扣款了，怎么处理", "付款页面一直转圈", "怎么重新支付", "银行卡显示扣款了但是没订单",
        "支付的时候提示异常", "可以换张卡付吗", "{zpay}支付一直失败", "{order}被扣了两次款",
    ],
    "product_search": [
        "有没有{zp}", "{zprice}元以下的{zp}", "给我看看{zp}", "想买{zp}", "找一下{zp}", "{zcolor}的{zp}有吗",
        "搜一下{brand}的{zp}", "有{brand}的{zp}吗", "{zp}，{zprice}块左右的", "我要买{zp}",
        "有便宜点的{zp}吗", "看看{zp}", "{zprice}到{zprice2}之间的{zp}", "你们卖{zp}吗",
        "{size}码的{zp}有吗", "帮我找{zcolor}{zp}", "{zp}都有哪些", "{zprice}以内的{zp}有哪些",
    ],
    "product_question": [
        "这款{zp}防水吗", "{zp}是什么材质的", "{brand}这个{zp}有保修吗", "续航多久", "{zp}尺码标准吗",
        "偏大还是偏小", "{zp}多重", "尺寸是多少", "能机洗吗", "{zp}有几个颜色", "送充电器吗",
        "这个适合{zuse}吗", "{zp}质量怎么样", "{brand}的{zp}和别的有什么区别", "支持降噪吗",
        "能放洗碗机吗", "{zp}的详细参数发我看看", "是正品吗", "{brand}{zp}保修多久",
    ],
    "recommendation": [
        "推荐一款{zp}", "有什么好用的{zp}推荐吗", "送{zperson}礼物买什么好", "{zprice}左右的{zp}推荐哪个",
        "哪款{zp}性价比最高", "适合{zuse}的{zp}推荐下", "新手买哪个{zp}好", "最近什么卖得好",
        "帮我挑一个{zp}", "{zp}选哪个好，纠结", "你们家最火的{zp}是哪款", "给{zperson}买{zp}，推荐一下",
        "有没有口碑好的{zp}", "预算{zprice}，推荐个{zp}", "{zuse}用什么{zp}比较好",
    ],
    "price_question": [
        "{zp}多少钱", "{brand}的{zp}什么价格", "这个多少钱", "价格是多少", "{zp}现在卖多少",
        "怎么又涨价了", "能便宜点吗", "这个价格含税吗", "{zp}降价了吗", "标价是美元吗",
        "{brand}{zp}价格多少", "两件一共多少钱", "多少钱一件", "这个价还能再低吗",
        "{zcolor}的{zp}多少钱", "{zp}加运费一共多少",
    ],
    "stock_availability": [
        "{zp}有货吗", "{size}码还有吗", "{zcolor}的{zp}什么时候补货", "{brand}的{zp}还有货吗",
        "卖完了吗", "还有库存吗", "这个缺货了吗", "什么时候能补货", "到货能通知我吗", "{zcolor}还有吗",
        "还剩几件", "{zp}断货了吗", "现货还是预售", "补货大概要多久", "{zp}{size}码有现货吗",
    ],
    "coupon": [
        "有优惠券吗", "优惠码{code}用不了", "怎么领券", "新人有优惠吗", "下单了能补券吗",
        "优惠券过期了", "满减怎么算", "能叠加使用吗", "在哪里输入优惠码", "有没有折扣",
        "{order}没用上优惠券", "双十一有活动吗", "学生有优惠吗", "会员有折扣吗", "包邮券怎么用",
        "{zp}有优惠吗", "{code}这个码还能用吗",
    ],
    "complaint": [
        "太差劲了", "我要投诉", "服务态度太差", "{zp}用了{zdays}天就坏了", "等了这么久，太离谱了",
        "东西跟图片完全不一样，失望", "快递员态度恶劣", "质量太差了", "客服一直不回消息",
        "再这样我就给差评了", "买到假货了吧", "包装破了，东西也坏了", "{order}这个单处理得一塌糊涂",
        "你们怎么回事啊", "什么破东西", "体验太糟糕了", "{zp}一股怪味，太失望了", "再也不买你们家了",
    ],
    "human_agent": [
        "转人工", "人工客服", "我要找人工", "有真人吗", "不要机器人", "帮我转接人工客服",
        "叫你们客服经理来", "人工人工人工", "能不能让真人来处理", "找个人工帮我看看{order}",
        "机器人听不懂，转人工", "接人工", "怎么联系真人客服", "我要和真人说话", "{order}的问题要找人工处理",
        "别自动回复了，找个人来",
    ],
    "account_help": [
        "忘记密码了", "登录不上", "怎么重置密码", "换绑邮箱", "注销账号", "收不到验证码", "账号被锁了",
        "手机号怎么改", "怎么注册", "不注册能下单吗", "改密码在哪里", "取消订阅邮件", "账号登录一直失败",
        "在哪看历史订单", "修改昵称", "账号被盗了怎么办", "重置密码的邮件没收到",
    ],
    "out_of_scope": [
        "明天天气怎么样", "讲个笑话", "你觉得谁会当选", "帮我做一下数学作业", "红烧肉怎么做",
        "昨晚{zteam}比赛谁赢了", "用python写个排序", "{zcity}今天下雨吗", "人生的意义是什么", "唱首歌吧",
        "现在几点了", "帮我翻译成英文", "解一下这个方程", "世界杯冠军是谁", "推荐部电影", "比特币现在多少钱",
        "珠穆朗玛峰多高", "帮我写篇作文", "怎么减肥", "帮我订张去{zcity}的机票", "你喜欢什么颜色",
        "股票明天会涨吗", "{zcity}有什么好玩的", "西红柿炒蛋先放什么",
    ],
}

# Words the chat-level slots draw from.
EN_HI = ["hi", "hello", "hey", "hiya", "good morning", "good afternoon", "good evening", "morning",
         "howdy", "hi there", "helo", "hallo", "heya", "greetings"]
EN_BYE = ["bye", "goodbye", "bye bye", "see you", "see ya", "later", "take care", "cya",
          "talk later", "have a good one", "good night"]
EN_TY = ["thanks", "thank you", "thx", "ty", "thanks a lot", "many thanks", "thank you so much",
         "cheers", "much appreciated", "thanks a ton", "tysm"]
ZH_HI = ["你好", "您好", "在吗", "在不在", "哈喽", "嗨", "亲", "早上好", "下午好", "晚上好", "hello",
         "客服在吗", "有人吗", "老板在吗"]
ZH_BYE = ["再见", "拜拜", "88", "拜了", "回头见", "下次见", "先这样", "好的拜拜", "晚安", "溜了"]
ZH_TY = ["谢谢", "谢啦", "多谢", "感谢", "谢谢亲", "谢谢你", "3q", "太感谢了", "辛苦了", "麻烦了"]

# Casual wrappers; chat-level intents are left unwrapped so a greeting stays a greeting.
EN_PREFIXES = ["hi, ", "hey ", "hello, ", "excuse me, ", "quick question: ", "um ", "so ",
               "ok so ", "sorry, ", "hi there, ", "yo "]
EN_SUFFIXES = [" please", " pls", " thanks", "!", " asap", " :(", "??", " thx", " plz", "..."]
ZH_PREFIXES = ["你好，", "亲，", "请问", "在吗，", "您好，", "麻烦问下，", "那个，", "客服，", "哈喽，"]
ZH_SUFFIXES = ["？", "呢", "啊", "呀", "，谢谢", "，急", "！！", "？？", "，麻烦了", "哈"]
CHAT_INTENTS = {"greeting", "goodbye", "thanks"}

# Common shopper misspellings, applied now and then.
EN_MISSPELLINGS = {
    "receive": "recieve", "address": "adress", "refund": "refnd", "order": "ordr",
    "cancel": "cancell", "package": "pakage", "shipping": "shiping", "delivery": "delivry",
    "tomorrow": "tommorow", "password": "pasword", "account": "acount", "available": "availble",
    "recommend": "reccomend", "waterproof": "water proof", "please": "plese", "where": "were",
    "coupon": "cupon", "discount": "discout", "payment": "paymnet", "warranty": "waranty",
}
