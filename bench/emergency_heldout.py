"""Recall of the emergency rules and model on calls for help they were not written for.

Usage: ``.venv/bin/python bench/emergency_heldout.py [-v]``

The rules (``understand/data/emergency_lexicon.toml``) are hand-written, and the unit tests
hold the wordings they were written for, so the tests say nothing about a wording nobody
thought of. These 30 calls for help and 20 look-alike complaints were written (session 16)
before the last round of rules and never used to write one: **do not tune the lexicon on
them**, or they stop measuring anything; write a new set instead. Nor is the emergency
model (``understand/emergency_model.py``, session 17) trained on them: its training file
holds other hand-written sets. Prints what the rules flag (a transfer) and what the model
adds where no rule matched (review first, with the emergency wait) on each, as the current
classifier artifact decides; the last line is a JSON summary. ``-v`` lists the misses and
false alarms.
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


def _verdicts(texts: list[str], model) -> list[str]:
    """``rule``, ``model`` (review first) or ``""`` for each text, as the understand stage
    decides: the rules first, the emergency model where they find nothing."""
    from config.understand import POSSIBLE_EMERGENCY_THRESHOLD

    heads = [normalise(t) for t in texts]
    scores = model.score(heads) if model is not None else [0.0] * len(heads)
    return [
        "rule" if detect_emergency(h) else "model" if s >= POSSIBLE_EMERGENCY_THRESHOLD else ""
        for h, s in zip(heads, scores, strict=True)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="list misses and false alarms")
    args = parser.parse_args()
    from understand import load_classifier

    classifier = load_classifier()
    model = classifier.emergency_model
    if model is None:
        print(f"classifier {classifier.version} has no emergency model: rules only")
    calls = _verdicts(CALLS_FOR_HELP, model)
    looks = _verdicts(LOOK_ALIKES, model)
    n, m = len(CALLS_FOR_HELP), len(LOOK_ALIKES)
    by_rule, by_model = calls.count("rule"), calls.count("model")
    print(f"calls for help flagged by the rules (transfer)            {by_rule}/{n}")
    print(f"  and by the emergency model where no rule did (review)   {by_model}/{n}")
    print(f"  either                                                  {by_rule + by_model}/{n}")
    print(f"look-alikes flagged by the rules (false transfers)        {looks.count('rule')}/{m}")
    print(f"  by the model (sent to review first)                     {looks.count('model')}/{m}")
    if args.verbose:
        for t, v in zip(CALLS_FOR_HELP, calls, strict=True):
            if v != "rule":
                print("  not a rule's  ", "model" if v else "missed", t)
        for t, v in zip(LOOK_ALIKES, looks, strict=True):
            if v:
                print("  false alarm   ", v, t)
    summary = {"command": " ".join(sys.argv), "model_version": classifier.version,
               "recall": round(by_rule / n, 3), "flagged": by_rule, "calls": n,
               "model_flagged": by_model, "recall_either": round((by_rule + by_model) / n, 3),
               "false_alarms": looks.count("rule"), "model_false_alarms": looks.count("model"),
               "look_alikes": m}  # fmt: skip
    print(orjson.dumps(summary).decode())


if __name__ == "__main__":
    main()
