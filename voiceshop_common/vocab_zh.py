"""The Mandarin shop's words: products by category with their selling unit and price, brands, units.

Plain data (stdlib only) shared by the Mandarin NLU's training-data generator
(`export.nlu_zh_data`) and the Chinese demo catalog. Prices are typical shelf prices in yuan for
one selling unit; produce sells by the 斤 (500 g) as Chinese markets do.

Held-out split: the NLU is scored on products and brands it never saw in training. Which ones is
fixed here, in the data, so the catalog and every rebuild agree: a product or brand is held out
when ``held_out(name)`` says so (every fifth entry of each category, counting from the third).
Do not reorder entries without expecting the split (and the model) to change.

Stable API: ``ZhProduct``, ``CATEGORIES``, ``BRANDS``, ``UNITS``, ``all_products()``,
``product_names(split)``, ``brand_names(split)``, ``held_out(name)``, ``product(name)``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ZhProduct:
    """One product as a shopper names it in Mandarin."""

    name: str
    """Spoken name in Simplified Chinese ("苹果", "纯牛奶")."""
    category: str
    """Category key (English, as in `voiceshop_common.vocab`)."""
    unit: str
    """Selling unit (measure word), one of UNITS ("斤", "瓶")."""
    price_yuan: tuple[float, float]
    """Typical shelf price range for one unit, in yuan (low, high)."""


def _p(category: str, unit: str, low: float, high: float, names: str) -> tuple[ZhProduct, ...]:
    return tuple(ZhProduct(n, category, unit, (low, high)) for n in names.split())


CATEGORIES: dict[str, tuple[ZhProduct, ...]] = {
    "produce": (
        *_p("produce", "斤", 4, 9, "苹果 香蕉 橙子 梨 葡萄 草莓 西瓜 桃子 芒果 猕猴桃 柚子 樱桃 荔枝 哈密瓜 蓝莓"),
        *_p("produce", "斤", 2, 6, "西红柿 黄瓜 土豆 白菜 胡萝卜 茄子 青椒 洋葱 大蒜 生姜 菠菜 芹菜 西兰花 冬瓜 南瓜 玉米 生菜 香菇"),
    ),
    "dairy": (
        *_p("dairy", "盒", 3, 8, "纯牛奶 酸奶 鲜牛奶 豆浆 奶酪 黄油 低脂牛奶 早餐奶 椰奶"),
        *_p("dairy", "个", 1, 2, "鸡蛋 鸭蛋 咸鸭蛋"),
    ),
    "bakery": (
        *_p("bakery", "个", 3, 12, "面包 吐司 蛋糕 馒头 包子 月饼 牛角包 饼干 蛋挞 花卷"),
    ),
    "meat": (
        *_p("meat", "斤", 15, 45, "猪肉 牛肉 羊肉 鸡胸肉 鸡翅 五花肉 排骨 鸡腿 虾仁 带鱼 三文鱼 鲈鱼"),
        *_p("meat", "根", 2, 5, "火腿肠 香肠"),
    ),
    "pantry": (
        *_p("pantry", "袋", 20, 60, "大米 面粉 黄小米 糯米 燕麦片"),
        *_p("pantry", "瓶", 6, 30, "酱油 醋 食用油 花生油 蚝油 料酒 香油 辣椒酱 番茄酱"),
        *_p("pantry", "包", 3, 12, "方便面 挂面 意大利面 白糖 盐 鸡精 花椒 火锅底料 榨菜 粉丝"),
    ),
    "drinks": (
        *_p("drinks", "瓶", 2, 8, "矿泉水 可乐 雪碧 橙汁 绿茶 红茶 苏打水 啤酒 椰子水 功能饮料 乌龙茶 酸梅汤"),
        *_p("drinks", "盒", 20, 80, "咖啡 茶叶 奶茶粉 蜂蜜"),
    ),
    "snacks": (
        *_p("snacks", "包", 4, 15, "薯片 瓜子 花生 巧克力 糖果 坚果 牛肉干 辣条 海苔 果冻 爆米花 虾条 锅巴 话梅 开心果 夏威夷果"),
    ),
    "household": (
        *_p("household", "提", 15, 40, "卫生纸 抽纸 厨房纸"),
        *_p("household", "瓶", 10, 40, "洗洁精 洗衣液 洗发水 沐浴露 洗手液 消毒液 柔顺剂 漱口水"),
        *_p("household", "个", 5, 30, "垃圾袋 牙刷 牙膏 毛巾 肥皂 保鲜膜 湿巾 拖把 衣架 电池 口罩 纸杯"),
    ),
    "electronics": (
        *_p("electronics", "个", 30, 300, "充电器 数据线 耳机 充电宝 蓝牙音箱 鼠标 键盘 插线板 灯泡 台灯 U盘 电子秤"),
        *_p("electronics", "台", 100, 800, "电饭煲 电水壶 吹风机 榨汁机 微波炉 电风扇"),
    ),
    "baby": (
        *_p("baby", "包", 50, 150, "纸尿裤 奶粉 米粉 婴儿湿巾"),
    ),
    "pet": (
        *_p("pet", "袋", 30, 120, "狗粮 猫粮 猫砂 宠物零食"),
    ),
}
"""Category -> its products (names unique across categories)."""

BRANDS: dict[str, tuple[str, ...]] = {
    "produce": ("鲜果园", "绿野", "田园优选", "山里红", "阳光农场"),
    "dairy": ("伊利", "蒙牛", "光明", "圣牧", "君乐宝", "新希望"),
    "bakery": ("桃李", "好利来", "稻香村", "达利园", "盼盼"),
    "meat": ("双汇", "雨润", "金锣", "正大", "温氏"),
    "pantry": ("金龙鱼", "海天", "福临门", "鲁花", "李锦记", "太太乐", "五得利", "老干妈"),
    "drinks": ("农夫山泉", "怡宝", "康师傅", "统一", "娃哈哈", "元气森林", "百事", "青岛"),
    "snacks": ("三只松鼠", "良品铺子", "百草味", "旺旺", "洽洽", "乐事", "卫龙", "徐福记"),
    "household": ("维达", "清风", "心相印", "蓝月亮", "立白", "舒肤佳", "云南白药", "妙洁"),
    "electronics": ("小米", "华为", "美的", "苏泊尔", "公牛", "飞利浦", "倍思", "绿联"),
    "baby": ("帮宝适", "好奇", "飞鹤", "贝因美"),
    "pet": ("皇家", "伯纳天纯", "麦富迪", "比瑞吉"),
}
"""Category -> brand names (real Chinese brands shoppers say; the demo catalog may invent its own)."""

UNITS: tuple[str, ...] = (
    "斤", "公斤", "个", "瓶", "袋", "盒", "箱", "包", "罐", "支", "只", "份", "条", "桶", "打", "板", "听", "提",
    "根", "颗", "串", "把", "卷", "片", "升", "杯", "件", "台", "双", "套",
)
"""Every measure word a shopper may buy by (斤 = 500 g, 公斤 = 1 kg, 打 = a dozen)."""

HOLDOUT_EVERY = 5


def _held(index: int) -> bool:
    return index % HOLDOUT_EVERY == 2


_HELD_PRODUCTS = frozenset(p.name for items in CATEGORIES.values() for i, p in enumerate(items) if _held(i))
_HELD_BRANDS = frozenset(b for brands in BRANDS.values() for i, b in enumerate(brands) if _held(i))


def held_out(name: str) -> bool:
    """True for products and brands the NLU never sees in training (it is scored on them)."""
    return name in _HELD_PRODUCTS or name in _HELD_BRANDS


def all_products() -> list[ZhProduct]:
    return [p for items in CATEGORIES.values() for p in items]


def product(name: str) -> ZhProduct | None:
    return next((p for p in all_products() if p.name == name), None)


def product_names(split: str = "all") -> list[str]:
    """"train", "held_out" or "all" product names, in a stable order."""
    return [p.name for p in all_products() if split == "all" or held_out(p.name) == (split == "held_out")]


def brand_names(split: str = "all") -> list[str]:
    """"train", "held_out" or "all" brand names, in a stable order (first appearance)."""
    names = list(dict.fromkeys(b for brands in BRANDS.values() for b in brands))
    return [b for b in names if split == "all" or held_out(b) == (split == "held_out")]


def brands_for(category: str) -> tuple[str, ...]:
    return BRANDS.get(category, ())
