"""Hand-written vocabulary for the demo catalog: categories, invented brands, models, attributes.

Every brand here is made up for the demo shop. Prices follow each category's usual spread so
queries such as "running shoes under 100" have answers on both sides of the line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

COLORS: list[tuple[str, str]] = [
    ("Black", "黑色"), ("White", "白色"), ("Navy", "藏青色"), ("Grey", "灰色"), ("Red", "红色"),
    ("Olive", "橄榄绿"), ("Beige", "米色"), ("Blue", "蓝色"), ("Pink", "粉色"), ("Green", "绿色"),
    ("Brown", "棕色"), ("Silver", "银色"),
]


@dataclass(frozen=True)
class Category:
    """One catalog category and everything needed to write plausible products for it."""

    name: str
    zh: str
    count: int
    brands: list[str]
    models: list[str]
    # (english type, chinese type)
    types: list[tuple[str, str]]
    price: tuple[float, float]
    materials: list[tuple[str, str]]
    features: list[str]
    uses: list[str]
    colors: list[str] = field(default_factory=list)  # english names from COLORS; empty = all
    audiences: list[tuple[str, str]] = field(default_factory=list)  # ("Men's", "男款")
    sizes: list[str] = field(default_factory=list)
    specs: list[str] = field(default_factory=list)  # format strings filled from spec values


SHOE_SIZES = ["6", "6.5", "7", "7.5", "8", "8.5", "9", "9.5", "10", "10.5", "11", "12"]
APPAREL_SIZES = ["XS", "S", "M", "L", "XL", "XXL"]
JEANS_SIZES = ["28", "29", "30", "31", "32", "33", "34", "36", "38"]
MF = [("Men's", "男款"), ("Women's", "女款")]

CATEGORIES: list[Category] = [
    Category(
        "running shoes", "跑步鞋", 36, ["Stride", "Pacer", "Veloce", "Northpeak"],
        ["Runner", "Tempo", "Glide", "Swift", "Cloudline", "Apex", "Rally", "Drift"],
        [("Road Running Shoes", "公路跑鞋"), ("Trail Running Shoes", "越野跑鞋"),
         ("Cushioned Running Shoes", "缓震跑鞋"), ("Racing Flats", "竞速跑鞋")],
        (39.0, 189.0),
        [("engineered mesh", "工程网布"), ("stretch knit", "弹力针织面料"), ("recycled mesh", "再生网布")],
        ["a responsive foam midsole", "a grippy rubber outsole", "reflective heel details",
         "a padded collar", "an 8 mm heel-to-toe drop", "a rock plate for rough trails",
         "a breathable tongue"],
        ["daily training", "long runs", "race day", "muddy trails", "easy recovery miles"],
        [], MF, SHOE_SIZES, ["Weighs about {w} g per shoe (size 9)."],
    ),
    Category(
        "sneakers", "休闲运动鞋", 30, ["Urbanfolk", "Kestrel", "Stride"],
        ["Court", "Metro", "Classic", "Low", "Skate", "Retro", "Canvas"],
        [("Low-Top Sneakers", "低帮板鞋"), ("High-Top Sneakers", "高帮板鞋"),
         ("Slip-On Sneakers", "一脚蹬休闲鞋"), ("Canvas Sneakers", "帆布鞋")],
        (29.0, 139.0),
        [("full-grain leather", "头层牛皮"), ("cotton canvas", "棉质帆布"), ("suede", "翻毛皮")],
        ["a cupsole for all-day comfort", "a removable insole", "contrast stitching",
         "a vulcanised rubber sole", "metal eyelets"],
        ["everyday wear", "weekend outings", "the office on casual Fridays", "city walking"],
        [], MF, SHOE_SIZES, [],
    ),
    Category(
        "boots", "靴子", 28, ["Northpeak", "Oakline", "Kestrel"],
        ["Ridge", "Timberline", "Chelsea", "Summit", "Harbor", "Tundra"],
        [("Hiking Boots", "登山靴"), ("Chelsea Boots", "切尔西靴"), ("Winter Boots", "雪地靴"),
         ("Work Boots", "工装靴")],
        (59.0, 249.0),
        [("waterproof nubuck", "防水磨砂皮"), ("oiled leather", "油蜡皮"), ("suede", "翻毛皮")],
        ["a waterproof membrane", "a lugged outsole", "insulation rated to -20 °C", "a steel shank",
         "elastic side panels", "a cushioned footbed"],
        ["wet hikes", "snowy commutes", "job sites", "autumn city days"],
        ["Black", "Brown", "Olive", "Beige"], MF, SHOE_SIZES, [],
    ),
    Category(
        "t-shirts", "T恤", 34, ["Loomcraft", "Urbanfolk", "Tidewater"],
        ["Everyday", "Essential", "Heavyweight", "Pocket", "Slub", "Performance"],
        [("Crew Neck T-Shirt", "圆领T恤"), ("V-Neck T-Shirt", "V领T恤"),
         ("Graphic T-Shirt", "印花T恤"), ("Quick-Dry T-Shirt", "速干T恤")],
        (9.99, 39.0),
        [("100% combed cotton", "100%精梳棉"), ("organic cotton", "有机棉"),
         ("recycled polyester", "再生涤纶"), ("cotton-modal blend", "棉莫代尔混纺")],
        ["a relaxed fit", "a tagless neck label", "double-stitched hems", "a pre-shrunk fabric",
         "a chest pocket", "moisture-wicking fibres"],
        ["layering", "workouts", "hot summer days", "lounging at home"],
        [], MF, APPAREL_SIZES, ["Fabric weight {gsm} gsm."],
    ),
    Category(
        "jackets", "夹克外套", 32, ["Northpeak", "Tidewater", "Kestrel"],
        ["Storm", "Alpine", "Harbor", "Puffer", "Field", "Windline"],
        [("Rain Jacket", "防雨夹克"), ("Down Jacket", "羽绒服"), ("Fleece Jacket", "抓绒外套"),
         ("Softshell Jacket", "软壳外套"), ("Denim Jacket", "牛仔夹克")],
        (39.0, 299.0),
        [("recycled nylon", "再生尼龙"), ("600-fill duck down", "600蓬白鸭绒"), ("polar fleece", "摇粒绒"),
         ("stretch softshell", "弹力软壳面料"), ("cotton denim", "纯棉牛仔布")],
        ["taped seams", "a packable hood", "zip hand pockets", "adjustable cuffs", "a two-way zip",
         "a DWR water-repellent finish"],
        ["rainy commutes", "winter travel", "camping trips", "cool evenings"],
        [], MF, APPAREL_SIZES, [],
    ),
    Category(
        "jeans", "牛仔裤", 28, ["Urbanfolk", "Loomcraft", "Copperleaf"],
        ["501X", "Slim", "Straight", "Relaxed", "Taper", "Bootcut"],
        [("Slim Fit Jeans", "修身牛仔裤"), ("Straight Leg Jeans", "直筒牛仔裤"),
         ("Wide Leg Jeans", "阔腿牛仔裤"), ("Skinny Jeans", "紧身牛仔裤")],
        (24.0, 119.0),
        [("stretch denim", "弹力牛仔布"), ("rigid selvedge denim", "原色赤耳牛仔布"),
         ("organic cotton denim", "有机棉牛仔布")],
        ["a mid rise", "five-pocket styling", "a button fly", "a light stone wash", "reinforced rivets"],
        ["everyday wear", "casual Fridays", "weekend trips"],
        ["Blue", "Black", "Grey", "White"], MF, JEANS_SIZES, ["Inseam {inseam} inches."],
    ),
    Category(
        "dresses", "连衣裙", 28, ["Copperleaf", "Loomcraft", "Tidewater"],
        ["Wren", "Marigold", "Sienna", "Juniper", "Clara", "Poppy"],
        [("Midi Wrap Dress", "中长款裹身连衣裙"), ("Floral Sundress", "碎花吊带裙"),
         ("Knit Sweater Dress", "针织毛衣裙"), ("Shirt Dress", "衬衫裙")],
        (22.0, 129.0),
        [("viscose", "粘胶纤维"), ("linen blend", "亚麻混纺"), ("merino knit", "美利奴羊毛针织"),
         ("cotton poplin", "府绸棉")],
        ["side pockets", "a tie waist", "a lined skirt", "adjustable straps", "a smocked bodice"],
        ["summer weddings", "the office", "weekend brunch", "vacations"],
        [], [("Women's", "女款")], APPAREL_SIZES, [],
    ),
    Category(
        "backpacks", "双肩包", 30, ["Tidewater", "Northpeak", "Orbitel"],
        ["Commuter", "Trek", "Daypack", "Voyager", "Metro", "Scout"],
        [("Laptop Backpack", "电脑双肩包"), ("Hiking Daypack", "徒步背包"),
         ("Travel Backpack", "旅行背包"), ("Rolltop Backpack", "卷口背包")],
        (25.0, 179.0),
        [("recycled polyester", "再生涤纶"), ("waxed canvas", "油蜡帆布"), ("ripstop nylon", "防撕裂尼龙")],
        ["a padded 15.6-inch laptop sleeve", "a luggage pass-through strap", "water-resistant zips",
         "a hidden anti-theft pocket", "a ventilated back panel", "a hip belt"],
        ["daily commutes", "weekend hikes", "carry-on travel", "school"],
        [], [], [], ["Capacity {litres} L."],
    ),
    Category(
        "headphones", "耳机", 30, ["Soniq", "Auralis", "Orbitel"],
        ["Aura", "Pulse", "Echo", "Studio", "Bass", "Halo", "Air"],
        [("Wireless Earbuds", "真无线蓝牙耳机"), ("Noise Cancelling Headphones", "头戴式降噪耳机"),
         ("Open-Ear Sport Earphones", "开放式运动耳机"), ("Wired Studio Headphones", "有线监听耳机")],
        (19.0, 349.0),
        [("matte plastic", "磨砂塑料"), ("aluminium", "铝合金"), ("memory foam and leatherette", "记忆棉皮质耳罩")],
        ["active noise cancellation", "Bluetooth 5.3 multipoint", "an IPX4 sweat rating",
         "a USB-C fast charge", "a transparency mode", "custom EQ in the app"],
        ["flights", "the gym", "calls at work", "music production"],
        ["Black", "White", "Silver", "Blue", "Pink"], [], [], ["Battery life up to {hours} hours."],
    ),
    Category(
        "smartphones", "手机", 26, ["Orbitel", "Lumio", "Veloce"],
        ["Nova", "Pixelon", "Zen", "Edge", "Lite", "Ultra"],
        [("5G Smartphone", "5G智能手机"), ("Camera Phone", "影像旗舰手机"), ("Compact Smartphone", "小屏手机")],
        (149.0, 1199.0),
        [("glass and aluminium", "玻璃铝合金机身"), ("recycled plastic", "再生塑料机身")],
        ["a 120 Hz OLED display", "a 50 MP main camera", "dual SIM", "45 W wired charging",
         "an IP68 rating", "wireless charging"],
        ["photography", "mobile gaming", "everyday use", "business travel"],
        ["Black", "Silver", "Blue", "Green"], [], [], ["{storage} GB storage, {pscreen}-inch screen."],
    ),
    Category(
        "laptops", "笔记本电脑", 26, ["Lumio", "Orbitel", "Veloce"],
        ["Book", "Air", "Pro", "Gamer", "Slate", "Studio"],
        [("Ultrabook", "轻薄本"), ("Gaming Laptop", "游戏本"), ("2-in-1 Laptop", "二合一笔记本"),
         ("Chromebook", "Chromebook笔记本")],
        (279.0, 2199.0),
        [("aluminium unibody", "铝合金一体机身"), ("magnesium alloy", "镁合金机身")],
        ["a backlit keyboard", "a 1080p webcam", "Wi-Fi 7", "two Thunderbolt ports",
         "a 165 Hz display", "a fingerprint reader"],
        ["students", "office work", "gaming", "video editing"],
        ["Silver", "Grey", "Black"], [], [], ["{ram} GB RAM, {ssd} GB SSD, {screen}-inch display."],
    ),
    Category(
        "smartwatches", "智能手表", 26, ["Pacer", "Orbitel", "Lumio"],
        ["Fit", "Trek", "Sense", "Motion", "Active", "Core"],
        [("GPS Smartwatch", "GPS智能手表"), ("Fitness Tracker", "运动手环"), ("Hybrid Smartwatch", "混合智能手表")],
        (29.0, 449.0),
        [("aluminium case and silicone band", "铝合金表壳硅胶表带"), ("stainless steel", "不锈钢表壳")],
        ["heart-rate and SpO2 sensors", "built-in GPS", "5 ATM water resistance",
         "sleep tracking", "contactless payments", "an always-on display"],
        ["runners", "swimmers", "everyday health tracking", "hikers"],
        ["Black", "Silver", "Pink", "Green"], [], [], ["Battery life up to {days} days."],
    ),
    Category(
        "kitchen appliances", "厨房电器", 34, ["Cuisio", "Hearthwell", "Ferrox"],
        ["Crisp", "Vortex", "Brew", "Pure", "Chef", "Daily"],
        [("Air Fryer", "空气炸锅"), ("High-Speed Blender", "破壁料理机"), ("Drip Coffee Maker", "滴滤咖啡机"),
         ("Electric Kettle", "电热水壶"), ("Rice Cooker", "电饭煲"), ("Stand Mixer", "厨师机")],
        (19.0, 399.0),
        [("stainless steel", "不锈钢"), ("BPA-free plastic", "无双酚A塑料"), ("glass", "玻璃")],
        ["a digital touch panel", "a 24-hour timer", "dishwasher-safe parts", "auto shut-off",
         "six preset programs", "a keep-warm mode"],
        ["small kitchens", "busy mornings", "family dinners", "meal prep"],
        ["Black", "White", "Silver", "Red"], [], [], ["{watts} W, {capacity} L capacity."],
    ),
    Category(
        "cookware", "锅具", 30, ["Ferrox", "Hearthwell", "Cuisio"],
        ["Forge", "Everyday", "Pro", "Heritage", "Ceramica"],
        [("Nonstick Frying Pan", "不粘煎锅"), ("Cast Iron Dutch Oven", "铸铁珐琅锅"),
         ("Stainless Steel Saucepan", "不锈钢奶锅"), ("10-Piece Cookware Set", "十件套锅具"),
         ("Carbon Steel Wok", "碳钢炒锅")],
        (15.0, 299.0),
        [("hard-anodised aluminium", "硬质阳极氧化铝"), ("enamelled cast iron", "珐琅铸铁"),
         ("tri-ply stainless steel", "三层复合不锈钢"), ("carbon steel", "碳钢")],
        ["a PFOA-free ceramic coating", "an induction-ready base", "stay-cool handles",
         "oven-safe to 260 °C", "a tempered glass lid"],
        ["searing", "slow braising", "everyday cooking", "stir-fries"],
        ["Black", "Red", "Silver", "Blue", "Green"], [], [], ["Diameter {cm} cm."],
    ),
    Category(
        "sofas", "沙发", 24, ["Oakline", "Dreamnest", "Lumen & Co"],
        ["Harlow", "Oslo", "Monroe", "Luna", "Bexley", "Aspen"],
        [("3-Seater Sofa", "三人位沙发"), ("Sectional Sofa", "L型转角沙发"), ("Loveseat", "双人沙发"),
         ("Sleeper Sofa", "沙发床")],
        (249.0, 1899.0),
        [("performance velvet", "科技绒"), ("linen blend", "亚麻混纺"), ("top-grain leather", "头层真皮")],
        ["removable cushion covers", "solid oak legs", "high-density foam seats", "a pull-out bed",
         "tool-free assembly"],
        ["small living rooms", "family movie nights", "guest rooms", "open-plan spaces"],
        ["Grey", "Beige", "Navy", "Green", "Brown"], [], [], ["{width} cm wide."],
    ),
    Category(
        "desks", "书桌", 24, ["Oakline", "Lumen & Co", "Kestrel"],
        ["Ascend", "Studio", "Nook", "Atlas", "Linea"],
        [("Electric Standing Desk", "电动升降桌"), ("Writing Desk", "简约书桌"), ("Corner Desk", "转角电脑桌")],
        (79.0, 699.0),
        [("solid oak veneer", "橡木贴面"), ("bamboo top", "竹制桌面"), ("engineered wood", "人造板")],
        ["dual motors", "four height presets", "a cable tray", "a built-in drawer", "anti-collision sensors"],
        ["home offices", "small bedrooms", "gaming setups", "students"],
        ["Black", "White", "Brown"], [], [], ["Top {width} x {depth} cm."],
    ),
    Category(
        "chairs", "椅子", 26, ["Kestrel", "Oakline", "Dreamnest"],
        ["Ergo", "Flex", "Task", "Lounge", "Bistro"],
        [("Ergonomic Office Chair", "人体工学椅"), ("Gaming Chair", "电竞椅"), ("Dining Chair Set of 2", "餐椅两把装"),
         ("Accent Armchair", "单人休闲椅")],
        (49.0, 599.0),
        [("breathable mesh", "透气网布"), ("PU leather", "PU皮"), ("solid beech", "实木山毛榉"),
         ("boucle fabric", "羊羔绒面料")],
        ["adjustable lumbar support", "4D armrests", "a 135° recline", "a headrest", "silent castors"],
        ["long work days", "gaming sessions", "dining rooms", "reading corners"],
        ["Black", "Grey", "Beige", "White"], [], [], ["Supports up to {load} kg."],
    ),
    Category(
        "lamps", "灯具", 26, ["Lumen & Co", "Glowlab", "Lumio"],
        ["Arc", "Halo", "Beam", "Glow", "Orbit"],
        [("LED Desk Lamp", "LED护眼台灯"), ("Floor Lamp", "落地灯"), ("Bedside Lamp", "床头灯"),
         ("Clip-On Reading Light", "夹子阅读灯")],
        (12.0, 189.0),
        [("aluminium", "铝合金"), ("brass", "黄铜"), ("oak with a linen shade", "橡木灯身配亚麻灯罩")],
        ["five colour temperatures", "a dimmer", "a USB-C charging port", "a flicker-free driver",
         "a touch switch"],
        ["late-night reading", "desk work", "cosy living rooms", "kids' rooms"],
        ["Black", "White", "Silver", "Beige"], [], [], ["{lumens} lumens."],
    ),
    Category(
        "bedding", "床上用品", 30, ["Dreamnest", "Loomcraft", "Tidewater"],
        ["Cloud", "Breeze", "Haven", "Nimbus", "Percale"],
        [("Duvet Cover Set", "被套四件套"), ("Down Alternative Comforter", "羽丝绒被"),
         ("Sheet Set", "床单套装"), ("Memory Foam Pillow", "记忆棉枕头")],
        (19.0, 249.0),
        [("long-staple cotton", "长绒棉"), ("washed linen", "水洗亚麻"), ("bamboo lyocell", "竹纤维莱赛尔"),
         ("microfibre", "超细纤维")],
        ["deep pockets", "hidden button closures", "an OEKO-TEX certified fabric", "a cooling finish",
         "corner ties"],
        ["hot sleepers", "guest rooms", "winter nights", "kids' beds"],
        ["White", "Grey", "Beige", "Navy", "Pink", "Green"], [], ["Twin", "Full", "Queen", "King"],
        ["{tc} thread count."],
    ),
    Category(
        "toys", "玩具", 30, ["Brickley", "Pacer", "Glowlab"],
        ["Builder", "Racer", "Explorer", "Junior", "Galaxy"],
        [("Building Blocks Set", "拼装积木"), ("Remote Control Car", "遥控车"), ("Wooden Puzzle", "木质拼图"),
         ("STEM Robot Kit", "STEM编程机器人"), ("Plush Toy", "毛绒玩具")],
        (9.0, 149.0),
        [("ABS plastic", "ABS塑料"), ("FSC-certified wood", "FSC认证木材"), ("soft polyester plush", "柔软毛绒")],
        ["rechargeable batteries", "step-by-step instructions", "child-safe paints",
         "a storage box", "app-guided coding lessons"],
        ["ages 3 and up", "ages 6 and up", "ages 8 and up", "family game nights"],
        [], [], [], ["{pieces} pieces."],
    ),
    Category(
        "skincare", "护肤品", 30, ["Glowlab", "Copperleaf", "Dreamnest"],
        ["Hydra", "Calm", "Bright", "Barrier", "Daily"],
        [("Hydrating Moisturizer", "保湿面霜"), ("SPF 50 Sunscreen", "SPF50防晒霜"),
         ("Vitamin C Serum", "维C精华"), ("Gentle Foaming Cleanser", "温和洁面泡沫"), ("Night Cream", "晚霜")],
        (8.0, 79.0),
        [("hyaluronic acid", "玻尿酸"), ("niacinamide", "烟酰胺"), ("ceramides", "神经酰胺"), ("squalane", "角鲨烷")],
        ["a fragrance-free formula", "a non-comedogenic texture", "dermatologist testing",
         "a recyclable pump bottle", "no added alcohol"],
        ["dry skin", "oily skin", "sensitive skin", "combination skin"],
        [], [], [], ["{ml} ml."],
    ),
    Category(
        "books", "图书", 26, ["Inkwell Press", "Copperleaf", "Tidewater"],
        ["The Quiet Harbor", "Salt and Ember", "Small Kitchens", "Miles Ahead", "The Clockmaker's Garden",
         "Code for Curious Kids", "Maps of Home"],
        [("Novel, Hardcover", "精装小说"), ("Cookbook, Paperback", "平装菜谱"),
         ("Running Guide, Paperback", "平装跑步指南"), ("Children's Picture Book", "儿童绘本")],
        (7.99, 45.0),
        [("hardcover", "精装"), ("paperback", "平装")],
        ["full-colour photographs", "a ribbon bookmark", "an index of recipes", "illustrated chapters",
         "a foreword by the author"],
        ["gift giving", "beginners", "bedtime reading", "book clubs"],
        ["White"], [], [], ["{pages} pages."],
    ),
]

# Value ranges for the {spec} placeholders.
SPEC_RANGES: dict[str, list[int | float]] = {
    "pscreen": [6.1, 6.3, 6.5, 6.7, 6.8],
    "w": [198, 215, 232, 247, 260, 275, 290, 310],
    "gsm": [140, 160, 180, 220, 240],
    "inseam": [28, 30, 32, 34],
    "litres": [18, 22, 25, 28, 30, 35],
    "hours": [8, 24, 30, 36, 40, 50, 60],
    "storage": [128, 256, 512],
    "screen": [6, 13, 14, 15, 16],
    "ram": [8, 16, 32],
    "ssd": [256, 512, 1024],
    "days": [5, 7, 10, 14, 21],
    "watts": [600, 800, 1200, 1500, 1700],
    "capacity": [1, 2, 4, 6],
    "cm": [20, 24, 26, 28, 30],
    "width": [140, 160, 180, 200, 220],
    "depth": [60, 70, 80],
    "load": [100, 120, 136, 150],
    "lumens": [400, 600, 800, 1200],
    "tc": [300, 400, 600],
    "pieces": [50, 120, 300, 500, 850, 1000],
    "ml": [30, 50, 100, 150],
    "pages": [128, 192, 256, 320, 416],
}
