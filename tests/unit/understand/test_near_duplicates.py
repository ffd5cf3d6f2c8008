from understand.near_duplicates import near_duplicate_groups


def test_rewrites_share_a_group_and_masks_do_not_link_unrelated_texts():
    texts = [
        "A市联美地产建最牛渗水楼盘,离市政府一公里左右,二环线与杜鹃路交界处有一处楼盘",
        "A市美联地产建最牛渗水楼盘易书记:离市政府一公里左右,二环线与杜鹃路交界处有楼盘",
        "投诉电话0000-00000000,身份证*****************,学校乱收补课费",
        "电话0000-00000000,身份证*****************,公司拖欠工资三个月",
    ]
    g = near_duplicate_groups(texts)
    assert g[0] == g[1]
    assert len({g[1], g[2], g[3]}) == 3
