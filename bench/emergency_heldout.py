"""Recall of the emergency rules on calls for help they were not written for.

Usage: ``.venv/bin/python bench/emergency_heldout.py [-v]``

The rules (``understand/data/emergency_lexicon.toml``) are hand-written, and the unit tests
hold the wordings they were written for, so the tests say nothing about a wording nobody
thought of. These 30 calls for help and 20 look-alike complaints were written (session 16)
before the last round of rules and never used to write one: **do not tune the lexicon on
them**, or they stop measuring anything; write a new set instead. Prints the flagged share
of each; the last line is a JSON summary. ``-v`` lists the misses and false alarms.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from understand.emergency import detect_emergency  # noqa: E402
from understand.text_normalise import normalise  # noqa: E402

CALLS_FOR_HELP = [
    "对面楼有户人家窗户往外冒火",
    "小区垃圾站烧起来了，火很大",
    "我闻到家里有一股很冲的燃气味，不敢开灯",
    "厂里的锅炉炸了，有工人受伤",
    "我爸在田里干活被农药熏倒了",
    "邻居老太太倒在家门口，怎么叫都不应",
    "朋友喝酒喝到吐血了",
    "我怀孕八个月，现在肚子剧痛还流血",
    "我儿子从滑梯上摔下来，头磕破了一直流血",
    "一辆渣土车把行人卷到车底了",
    "高速上一辆大巴侧翻了",
    "电动车和小车撞了，骑车的人倒地不起",
    "几个人拿着棍子在追打一个人",
    "有人拿着刀在医院里闹",
    "我老婆被她前夫绑走了",
    "有个女孩被几个男的强行拉上车",
    "我被困在电梯里快一个小时了",
    "地下室进水了，有老人出不来",
    "有个小孩在水库里游泳沉下去了",
    "有个人爬到楼顶边上坐着，好像要跳楼",
    "我弟说他不想活了，现在联系不上",
    "我家老人吃了发霉的东西，上吐下泻还发烧昏迷",
    "工地有人从脚手架上掉下来了",
    "路中间的井盖没了，有人掉下去了",
    "家里的狗把孩子咬了，脸上全是血",
    "有人闯进店里抢钱",
    "一个老人在公园里晕过去了",
    "楼下有人打架，有人被捅了",
    "孩子放学没回家，电话也打不通，到处都找不到",
    "房子着火了，我妈还在里面",
]

LOOK_ALIKES = [
    "投诉燃气公司安检时推销报警器",
    "咨询如何办理残疾证",
    "楼上漏水把我家天花板泡坏了",
    "去年被狗咬了，打疫苗的费用能报销吗",
    "学校组织消防演练时间太长",
    "小区门口经常有人打牌吵闹",
    "建议在水库边加装护栏防止溺水",
    "出租车司机开车打电话太危险",
    "楼道里有人吸烟，烟味很大",
    "抢修路灯太慢，晚上一片漆黑",
    "电动车起火的新闻太多了，建议禁止上楼",
    "房子漏雨，物业不管",
    "医院急诊科医生态度差",
    "被网贷催收电话骚扰",
    "邻居装修把承重墙打了，担心塌",
    "想咨询120急救培训怎么报名",
    "孩子学校附近有人卖烟给未成年人",
    "工地塔吊离住宅太近，担心倒下来",
    "饭店后厨卫生很差，吃完拉肚子",
    "电瓶车被偷，要求调监控",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="list misses and false alarms")
    args = parser.parse_args()
    missed = [t for t in CALLS_FOR_HELP if detect_emergency(normalise(t)) is None]
    alarms = [t for t in LOOK_ALIKES if detect_emergency(normalise(t)) is not None]
    flagged = len(CALLS_FOR_HELP) - len(missed)
    print(f"calls for help flagged   {flagged}/{len(CALLS_FOR_HELP)}")
    print(f"look-alikes flagged      {len(alarms)}/{len(LOOK_ALIKES)} (false alarms)")
    if args.verbose:
        for t in missed:
            print("  missed     ", t)
        for t in alarms:
            print("  false alarm", t)
    summary = {"command": " ".join(sys.argv), "recall": round(flagged / len(CALLS_FOR_HELP), 3),
               "flagged": flagged, "calls": len(CALLS_FOR_HELP), "false_alarms": len(alarms),
               "look_alikes": len(LOOK_ALIKES)}  # fmt: skip
    print(orjson.dumps(summary).decode())


if __name__ == "__main__":
    main()
