"""Which texts report a cut in water, power, gas or heating (the outage time limits)."""

import pytest

from understand.outage import reports_outage


@pytest.mark.parametrize(
    ("title", "content"),
    [
        ("A3区枫华府邸小区停水7天了！", ""),
        ("用水问题", "A1区才子佳郡低层水压极低，甚至经常无水可用"),
        ("", "每次都是无通知，突然断电，居民小孩经常被困电梯"),
        ("投诉物业", "物业公司停掉整个小区供水，几百户居民没有水用"),
        ("暖气不热", "家里暖气不热，室温只有十度"),
        ("", "暖气片冰凉，家里只有14度。"),
        ("", "供暖公司12月起停止供暖，老人孩子受冻"),
        ("", "今天早上我洗澡时停气了"),
        ("", "整栋楼没有电用已经两天"),
        ("", "水龙头不出水，打自来水公司电话没人接"),
        # traditional characters (Hong Kong / Taiwan input methods)
        ("A3區小區停電三天了", ""),
        ("暖氣不熱", "家裡暖氣不熱，室溫只有十度"),
        ("", "小區斷水兩天，沒水用了"),
    ],
)
def test_a_reported_cut(title: str, content: str) -> None:
    assert reports_outage(title, content)


@pytest.mark.parametrize(
    ("title", "content"),
    [
        ("A市可以实现集中供暖吗？", "北方城市都有集中供暖，A市何时规划"),
        ("A7县自来水公司费用收取太高了", "水费每吨3.88元，比周边县高"),
        ("快递员服务差", "快递员挂断电话后，迟迟不肯派件"),
        ("", "准备开车回K市，却发现车子没油没电了"),
        ("小区停车难", "停车位太少，晚上只能停在路边"),
        ("天然气开户费太贵", "燃气入户开户费要三千多元"),
        ("", "A" * 300 + "停水"),  # read up front only
    ],
)
def test_no_cut(title: str, content: str) -> None:
    assert not reports_outage(title, content)


def test_the_first_character_set_covers_every_branch() -> None:
    # the pattern scans for its branches' first characters before trying them
    from understand.outage import _OUTAGE

    for text in ("暂停送水", "中断送暖", "来水时断时续", "水压过低"):  # one branch each
        assert _OUTAGE.search(text), text
