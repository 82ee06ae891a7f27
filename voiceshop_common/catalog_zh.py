"""The Chinese demo shop's vocabulary: products as Mandarin shoppers name them, brands, units, FAQ.

The zh counterpart of ``voiceshop_common.vocab`` for the catalog generator (`python -m cloud catalog
generate --language zh`): the same ``ProductSpec`` records, with Chinese names, measure words as
units (斤 for produce sold by weight, 个/瓶/袋/盒/箱/包 for the rest), pack sizes as printed on a
Chinese shelf ("3斤", "500毫升", "24瓶") and price ranges in fen (the cents integer of the schema;
the rows carry currency CNY). The first size's price range is centred on a typical price, so the
canonical SKU of 富士苹果 is "3斤 39元", the seed conversation's example.

Brands are invented (no real trademark). Stdlib only; pure data plus the same small API as vocab
(``all_specs``, ``product_names``, ``brand_names``, ``aliases``, ``family``). The NLU's Chinese
vocabulary (voiceshop_common/vocab_zh.py, another branch) should share these names: the lead
reconciles the two lists.
"""

from __future__ import annotations

from voiceshop_common.vocab_products import ProductSpec

__all__ = ["BRANDS", "BRAND_PARTS", "CATEGORIES", "CURRENCY", "FAQ", "SKU_PREFIX", "UNITS", "VARIANTS",
           "aliases", "all_specs", "brand_names", "family", "product_names"]

CURRENCY = "CNY"
UNITS: tuple[str, ...] = ("斤", "个", "瓶", "袋", "盒", "箱", "包")
"""Every selling unit (measure word) a zh spec may use."""


def _p(name: str, unit: str, sizes: str, lo: float, hi: float, tags: str = "", aliases: str = "") -> ProductSpec:
    """Compact constructor: sizes/tags/aliases '|'-separated; prices in yuan for readability (stored in fen)."""
    def split(text: str) -> tuple[str, ...]:
        return tuple(part.strip() for part in text.split("|") if part.strip())
    return ProductSpec(name, unit, split(sizes), (round(lo * 100), round(hi * 100)), split(tags), split(aliases))


CATEGORIES: dict[str, tuple[ProductSpec, ...]] = {
    "水果": (
        _p("富士苹果", "斤", "3斤|5斤|1斤", 35, 43, "苹果|新鲜", "苹果|红富士|富士"),
        _p("香蕉", "斤", "2斤|3斤", 9, 13, "新鲜", "芭蕉"),
        _p("赣南脐橙", "斤", "5斤|3斤", 35, 45, "橙子|新鲜", "橙子|脐橙"),
        _p("库尔勒香梨", "斤", "3斤|5斤", 25, 33, "梨|新鲜", "香梨|梨"),
        _p("巨峰葡萄", "斤", "2斤|1斤", 18, 26, "葡萄|新鲜", "葡萄"),
        _p("草莓", "盒", "1斤|2斤", 25, 35, "莓果|新鲜", "奶油草莓"),
        _p("西瓜", "个", "1个", 25, 35, "瓜|夏季", "麒麟瓜"),
        _p("猕猴桃", "盒", "12个|6个", 29, 39, "新鲜", "奇异果"),
        _p("芒果", "斤", "3斤|5斤", 19, 29, "新鲜", "小台芒"),
        _p("柠檬", "斤", "1斤|2斤", 9, 15, "新鲜", ""),
    ),
    "蔬菜": (
        _p("西红柿", "斤", "2斤|1斤", 7, 11, "新鲜", "番茄"),
        _p("土豆", "斤", "5斤|3斤", 9, 13, "新鲜", "马铃薯"),
        _p("黄瓜", "斤", "2斤|1斤", 5, 9, "新鲜", "青瓜"),
        _p("大白菜", "个", "1个", 4, 8, "新鲜", "白菜"),
        _p("胡萝卜", "斤", "2斤|3斤", 4, 8, "新鲜", "红萝卜"),
        _p("青椒", "斤", "1斤", 5, 9, "新鲜", "辣椒"),
        _p("洋葱", "斤", "3斤|2斤", 5, 9, "新鲜", ""),
        _p("大蒜", "斤", "1斤", 7, 11, "新鲜", "蒜头"),
        _p("生菜", "斤", "1斤", 5, 9, "新鲜|沙拉", ""),
        _p("菠菜", "斤", "1斤", 6, 10, "新鲜", ""),
    ),
    "乳品蛋类": (
        _p("纯牛奶", "箱", "12盒|24盒", 45, 69, "牛奶", "牛奶|奶"),
        _p("鲜牛奶", "瓶", "950毫升|450毫升", 15, 22, "牛奶|冷藏", "鲜奶"),
        _p("酸奶", "盒", "4杯|8杯", 12, 20, "冷藏", "老酸奶"),
        _p("鸡蛋", "盒", "10个|30个", 15, 22, "蛋", "土鸡蛋|蛋"),
        _p("奶酪", "包", "200克", 25, 35, "冷藏", "芝士"),
        _p("黄油", "盒", "250克", 22, 32, "烘焙", ""),
    ),
    "粮油调味": (
        _p("东北大米", "袋", "5公斤|10公斤", 39, 59, "大米", "大米|米"),
        _p("面粉", "袋", "5公斤|2.5公斤", 25, 35, "面食", "白面"),
        _p("挂面", "包", "1公斤|500克", 9, 15, "面食", "面条"),
        _p("花生油", "瓶", "5升|1.8升", 89, 119, "食用油", "食用油|油"),
        _p("生抽酱油", "瓶", "500毫升|1升", 9, 15, "调味", "酱油|生抽"),
        _p("香醋", "瓶", "500毫升", 7, 12, "调味", "醋"),
        _p("食盐", "袋", "400克", 2, 4, "调味", "盐"),
        _p("白砂糖", "袋", "1公斤|500克", 9, 14, "调味|烘焙", "白糖|糖"),
    ),
    "肉禽水产": (
        _p("五花肉", "斤", "1斤|2斤", 15, 22, "猪肉|冷鲜", "猪肉"),
        _p("牛腱子", "斤", "1斤|2斤", 45, 59, "牛肉|冷鲜", "牛肉"),
        _p("鸡胸肉", "盒", "500克|1公斤", 12, 19, "鸡肉|冷鲜", "鸡肉"),
        _p("鸡翅中", "盒", "500克", 25, 35, "鸡肉|冷鲜", "鸡翅"),
        _p("基围虾", "盒", "500克", 45, 65, "海鲜|冷冻", "虾|大虾"),
        _p("带鱼", "斤", "2斤|1斤", 29, 39, "海鲜|冷冻", "鱼"),
    ),
    "饮料": (
        _p("矿泉水", "箱", "24瓶|12瓶", 25, 35, "饮用水", "水|饮用水|纯净水"),
        _p("可乐", "瓶", "2升|500毫升", 6, 9, "汽水", "可口可乐"),
        _p("橙汁", "瓶", "1升|300毫升", 10, 16, "果汁", "果汁"),
        _p("绿茶", "瓶", "500毫升", 3, 5, "茶饮料", "冰绿茶"),
        _p("啤酒", "箱", "12罐|24罐", 45, 69, "酒", "罐装啤酒"),
        _p("速溶咖啡", "盒", "30条|15条", 35, 49, "咖啡", "咖啡"),
        _p("红茶", "盒", "25包", 19, 29, "茶叶", "茶叶"),
    ),
    "零食": (
        _p("薯片", "袋", "70克|135克", 7, 10, "膨化", "土豆片"),
        _p("苏打饼干", "盒", "400克", 12, 18, "饼干", "饼干"),
        _p("每日坚果", "盒", "30包|7包", 69, 99, "坚果", "坚果"),
        _p("黑巧克力", "盒", "100克|200克", 15, 25, "巧克力", "巧克力"),
        _p("方便面", "包", "5连包", 12, 16, "速食", "泡面"),
    ),
    "烘焙": (
        _p("全麦面包", "袋", "400克", 12, 18, "面包", "面包"),
        _p("吐司", "袋", "400克", 10, 15, "面包", "切片面包"),
        _p("蛋黄酥", "盒", "6个", 25, 35, "糕点", "点心"),
    ),
    "清洁用品": (
        _p("洗衣液", "瓶", "2公斤|3公斤", 39, 59, "洗衣", ""),
        _p("洗洁精", "瓶", "1.5公斤", 12, 18, "厨房", ""),
        _p("抽纸", "包", "6包|12包", 19, 29, "纸品", "纸巾|餐巾纸"),
        _p("卷纸", "包", "10卷|20卷", 29, 45, "纸品", "卫生纸"),
    ),
    "日用品": (
        _p("牙膏", "盒", "120克", 12, 19, "口腔", ""),
        _p("洗发水", "瓶", "400毫升|750毫升", 35, 55, "洗护", ""),
        _p("沐浴露", "瓶", "750毫升", 35, 49, "洗护", ""),
    ),
    "母婴": (
        _p("纸尿裤", "包", "56片|84片", 89, 129, "宝宝", "尿不湿"),
        _p("婴儿奶粉", "盒", "800克|400克", 199, 289, "宝宝", "奶粉"),
    ),
}
"""Category -> its products (names unique across categories)."""

BRANDS: dict[str, tuple[str, ...]] = {
    "水果": ("绿源果园", "山野农庄", "阳光果业", "鲜丰农场", "百果鲜"),
    "蔬菜": ("绿源果园", "田园小筑", "山野农庄", "每日鲜蔬", "青禾农场"),
    "乳品蛋类": ("草原牧场", "蓝天乳业", "晨光牧场", "白云牧歌", "农家蛋园"),
    "粮油调味": ("北大荒田", "金穗粮仓", "老灶坊", "好味道", "丰收园"),
    "肉禽水产": ("牧野肉业", "海之鲜", "金鸡农场", "渔港码头", "草原牧场"),
    "饮料": ("清泉山", "甜橙园", "畅饮坊", "茶香里", "麦香酒坊", "晨光咖啡"),
    "零食": ("脆香坊", "果仁铺", "可可山", "小食光", "乐嘻嘻"),
    "烘焙": ("麦田烘焙", "金麦穗", "晨光面包坊", "老饼铺"),
    "清洁用品": ("洁净家", "清风", "亮晶晶", "柔云"),
    "日用品": ("洁净家", "清风", "柔云", "白云山下"),
    "母婴": ("小嫩芽", "宝贝家", "暖暖宝", "小脚印"),
}
"""Category -> invented brands (a brand may serve several categories)."""

BRAND_PARTS: tuple[tuple[str, ...], tuple[str, ...]] = (
    ("金", "银", "绿", "蓝", "红", "青", "白", "东", "南", "北", "山", "江", "湖", "云", "星", "春", "秋", "禾",
     "松", "竹"),
    ("源", "丰", "乐", "家", "园", "坊", "记", "品", "鲜", "味", "谷", "田", "泉", "森", "港", "庄", "堂", "阁",
     "屋", "苑"),
)
"""Invented two-character brands for large catalogs (first x second)."""

VARIANTS: dict[str, tuple[tuple[str, float], ...]] = {
    "水果": (("", 1.0), ("有机", 1.35)),
    "蔬菜": (("", 1.0), ("有机", 1.35)),
    "乳品蛋类": (("", 1.0), ("有机", 1.4), ("低脂", 1.1)),
    "粮油调味": (("", 1.0), ("有机", 1.3)),
    "肉禽水产": (("", 1.0), ("家庭装", 1.8)),
    "饮料": (("", 1.0), ("无糖", 1.0)),
    "零食": (("", 1.0), ("家庭装", 1.6)),
    "烘焙": (("", 1.0),),
    "清洁用品": (("", 1.0), ("薰衣草香", 1.05)),
    "日用品": (("", 1.0),),
    "母婴": (("", 1.0),),
}
"""Category -> (prefix, price factor); the empty prefix is the plain product ("有机富士苹果")."""

VARIANT_TAGS = frozenset({"苹果", "新鲜", "牛奶", "冷藏", "蛋", "大米", "面食", "猪肉", "鸡肉", "汽水", "果汁",
                          "茶饮料", "膨化", "饼干", "洗衣", "橙子", "梨", "葡萄"})
"""A variant applies only to specs carrying one of these tags (有机大米, not 有机食盐)."""

SKU_PREFIX = {"水果": "FRU", "蔬菜": "VEG", "乳品蛋类": "DAI", "粮油调味": "PAN", "肉禽水产": "MEA",
              "饮料": "DRI", "零食": "SNA", "烘焙": "BAK", "清洁用品": "CLE", "日用品": "HOU", "母婴": "BAB"}

FAMILY_GROUPS: dict[str, tuple[str, ...]] = {
    "牛奶": ("纯牛奶", "鲜牛奶"),
    "面包": ("全麦面包", "吐司"),
    "茶": ("绿茶", "红茶"),
    "纸巾": ("抽纸", "卷纸"),
}
"""Family key -> specs that are "the same thing" for recommendations; others are their own family."""

FAQ: tuple[tuple[str, str, str], ...] = (
    ("退货政策是什么？", "未开封的商品三十天内凭小票可以退货；生鲜商品不满意的话七天内可以退。", "退货 退款"),
    ("配送费多少钱？", "订单满六十九元免配送费，不满的话收六元。", "配送 运费"),
    ("什么时候送货？", "每天早上八点到晚上九点配送，每两个小时一个时段。", "配送 时间"),
    ("门店几点营业？", "门店每天早上七点到晚上十点营业。", "营业 时间"),
    ("订单可以取消吗？", "确认后十五分钟内可以取消，打包之前也可以取消。", "取消 订单"),
    ("缺货怎么办？", "我们会换成同价或更便宜的相近商品，除非您说不要替换。", "缺货 替换"),
    ("怎么付款？", "打包时从您账户绑定的支付方式扣款。", "付款 支付"),
    ("怎么查订单？", "问我“我的订单到哪了”，我会告诉您订单状态。", "订单 状态"),
)
"""(question, answer, tags) customer-service entries of the zh shop."""

_FAMILY_OF = {spec: key for key, specs in FAMILY_GROUPS.items() for spec in specs}


def all_specs() -> list[tuple[str, ProductSpec]]:
    """(category, spec) for every product spec, in a stable order."""
    return [(category, spec) for category, specs in CATEGORIES.items() for spec in specs]


def product_names() -> list[str]:
    return [spec.name for _category, spec in all_specs()]


def brand_names() -> list[str]:
    return list(dict.fromkeys(brand for brands in BRANDS.values() for brand in brands))


def aliases() -> dict[str, str]:
    """Alias -> canonical product name (the first product claiming an alias wins)."""
    table: dict[str, str] = {}
    for _category, spec in all_specs():
        for alias in spec.aliases:
            table.setdefault(alias, spec.name)
    return table


def family(spec_name: str) -> str:
    """The family key of a spec; an ungrouped spec is its own family."""
    return _FAMILY_OF.get(spec_name.strip(), spec_name.strip())
