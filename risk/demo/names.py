"""Chinese place names for the demo: Lingyuan's real townships, and generators for villages, streets, units.

Only the 30 township-level units of 凌源市 are real names (placed on synthetic terrain, not at
their real sites); everything else is generated from common northern-Chinese name patterns.
"""

from __future__ import annotations

import numpy as np

LINGYUAN_BBOX = (118.80, 40.55, 119.68, 41.47)
"""lon/lat box around 凌源市; an AOI centred in it and larger than 1,500 km^2 gets the real names."""

# (name, pinyin, kind, code) -- kind: subdistrict 街道 / town 镇 / township 乡; codes follow the
# national 9-digit pattern under 211382 (凌源市).
SUBDISTRICTS = [
    ("城关街道", "Chengguan Subdistrict"),
    ("北街街道", "Beijie Subdistrict"),
    ("南街街道", "Nanjie Subdistrict"),
    ("东城街道", "Dongcheng Subdistrict"),
    ("红山街道", "Hongshan Subdistrict"),
    ("热水汤街道", "Reshuitang Subdistrict"),
    ("凌北街道", "Lingbei Subdistrict"),
]
SUBDISTRICT_BEARINGS = [None, 90.0, 270.0, 0.0, 180.0, 315.0, 45.0]
"""Compass-free bearings (degrees counter-clockwise from east) of each subdistrict seat from the city centre."""

TOWNS = [
    ("宋杖子镇", "Songzhangzi Town"),
    ("三十家子镇", "Sanshijiazi Town"),
    ("杨杖子镇", "Yangzhangzi Town"),
    ("刀尔登镇", "Dao'erdeng Town"),
    ("四官营子镇", "Siguanyingzi Town"),
    ("万元店镇", "Wanyuandian Town"),
    ("沟门子镇", "Goumenzi Town"),
    ("大河北镇", "Dahebei Town"),
    ("乌兰白镇", "Wulanbai Town"),
    ("松岭子镇", "Songlingzi Town"),
    ("小城子镇", "Xiaochengzi Town"),
    ("四合当镇", "Sihedang Town"),
]
TOWNSHIPS = [
    ("三家子蒙古族乡", "Sanjiazi Mongol Ethnic Township"),
    ("河坎子乡", "Hekanzi Township"),
    ("北炉乡", "Beilu Township"),
    ("前进乡", "Qianjin Township"),
    ("大王杖子乡", "Dawangzhangzi Township"),
    ("佛爷洞乡", "Foyedong Township"),
    ("瓦房店乡", "Wafangdian Township"),
    ("牛营子乡", "Niuyingzi Township"),
    ("三道河子乡", "Sandaohezi Township"),
    ("刘杖子乡", "Liuzhangzi Township"),
    ("郭杖子乡", "Guozhangzi Township"),
]
N_LINGYUAN_UNITS = len(SUBDISTRICTS) + len(TOWNS) + len(TOWNSHIPS)

SURNAMES = list("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔"
                "钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔向汤佟关富那")
_VILLAGE_SURNAME_PATTERNS = ["{s}杖子", "{s}家营子", "{s}家沟", "{s}家窝铺", "{s}家店", "{s}家台", "{s}家屯",
                             "{s}营子", "{s}家洼", "{s}家梁"]
_VILLAGE_PLACE = ["东山", "西沟", "南台", "北岭", "石门", "河南", "前进", "红旗", "新民", "太平", "三家", "五家",
                  "大营子", "小营子", "下河", "上河", "双庙", "黄土坎", "马架子", "榆树林", "柳条沟", "杏树沟",
                  "梨树沟", "山咀", "平房", "东升", "向阳", "富裕", "和平", "兴隆", "四道沟", "三道沟", "二道沟",
                  "头道沟", "大杖子", "小杖子", "水泉", "泉水", "西台", "东台", "八家", "六家", "十八台", "大西沟",
                  "小西沟", "北沟", "南沟", "东沟", "北台", "石佛", "龙泉", "青山", "松树台", "核桃沟", "桃花山",
                  "牛心山", "鹰嘴", "炮手", "半截沟", "瓦房", "庙台", "铁匠炉", "烧锅", "碾子沟", "罗圈沟"]
COMMUNITY_NAMES = ["红旗", "新华", "朝阳", "建设", "胜利", "和平", "团结", "幸福", "新民", "文化", "光明", "友谊",
                   "兴隆", "站前", "河东", "河西", "南山", "北山", "育才", "凌河", "铁路", "钢城", "青年", "安居",
                   "东兴", "西苑", "金山", "滨河", "福民", "长青", "民主", "振兴", "富强", "向阳", "东风", "新兴",
                   "永安", "康宁", "龙山", "文昌", "锦华", "丽景", "春城", "泉湖", "园林", "新城"]
STREET_NAMES = ["凌河路", "建设路", "朝阳街", "和平路", "西大街", "东大街", "南环路", "北环路", "站前路", "兴源路",
                "胜利街", "新华路", "文化路", "友谊街", "民主街", "红山路", "钢城大街", "滨河路", "育才街", "富民路",
                "迎宾路", "工业路", "光明街", "人民路", "解放街"]


_NUMERALS = "一二三四五六七八九十"
_PREFIXES = ["前", "后", "东", "西", "上", "下", "大", "小", "南", "北", "新", "老"]


def _pick(rng: np.random.Generator, items):
    return items[int(rng.integers(len(items)))]


def unique_namer(rng: np.random.Generator):
    """A function making fresh village names (``…村``) that never repeat."""
    used: set[str] = set()

    def make() -> str:
        if rng.random() < 0.55:
            base = _pick(rng, _VILLAGE_SURNAME_PATTERNS).format(s=_pick(rng, SURNAMES))
        else:
            base = _pick(rng, _VILLAGE_PLACE)
        tries = [base] + [p + base for p in _PREFIXES] + [base + n for n in _NUMERALS]
        start = 0 if rng.random() < 0.7 else 1 + int(rng.integers(len(_PREFIXES)))
        for nm in tries[start:] + tries[:start]:
            if nm + "村" not in used:
                used.add(nm + "村")
                return nm + "村"
        k = 11
        while f"{base}{k}村" in used:
            k += 1
        used.add(f"{base}{k}村")
        return f"{base}{k}村"

    make.used = used  # type: ignore[attr-defined]
    return make


def community_namer(rng: np.random.Generator):
    """A function making fresh community names (``…社区``)."""
    pool = list(COMMUNITY_NAMES)
    rng.shuffle(pool)
    used: set[str] = set()

    def make(prefix: str = "") -> str:
        if prefix and prefix + "社区" not in used:
            used.add(prefix + "社区")
            return prefix + "社区"
        while pool:
            nm = pool.pop() + "社区"
            if nm not in used:
                used.add(nm)
                return nm
        nm = f"第{len(used) + 1}社区"
        used.add(nm)
        return nm

    return make


def short_name(township: str) -> str:
    """Township name without its 街道/镇/乡 suffix (``宋杖子镇`` -> ``宋杖子``)."""
    for suffix in ("蒙古族乡", "街道", "镇", "乡"):
        if township.endswith(suffix) and len(township) > len(suffix):
            return township[: -len(suffix)]
    return township
