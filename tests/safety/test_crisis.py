"""The crisis screen's lexicon (normalisation, mask, unless) and the whole screen on messages written outside
the bank.

Out-of-bank messages: ``HELD_OUT_*`` below and the ``EXTRA_*`` sets were written by hand, fresh, in five
rounds after the lexicon reached 100% on the bank. Each round was measured once *before* any pattern
was changed for it; those first-pass figures are the honest estimate of how the lexicon does on
unseen wording:

    round 1 (EXTRA, 30/15)      recall 16/30 (53%)   false alarms 1/15
    round 2 (EXTRA, 30/15)      recall 22/30 (73%)   false alarms 1/15
    round 3 (EXTRA, 30/15)      recall 16/30 (53%)   false alarms 1/15
    round 4 (HELD_OUT, 30/15)   recall 10/30 (33%)   false alarms 2/15   (deliberately indirect wording)
    round 5 (EXTRA, 20/10)      recall 11/20 (55%)   false alarms 0/10

After each measurement the lexicon was widened with *general* patterns (never the sentences themselves),
so these sets are regression sets, not an unbiased estimate. Since the screen has a learned half and levels
(``channels/safety/screen.py``), a danger message is caught at ``urgent`` or ``concern`` and only ``urgent``
on a near-miss is a false alarm.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from channels.safety.crisis import CrisisScreen, normalise
from channels.safety.screen import SafetyScreen
from tools import crisis_bench as bench
from tools.crisis_bench import Item, evaluate, load_bank, write_section

MAX_FALSE_ALARM_RATE = 0.05


@pytest.fixture(scope="module")
def screen() -> CrisisScreen:
    """The lexicon alone (the whole screen is ``safety_screen``)."""
    return CrisisScreen.load()


def _hits(screen: CrisisScreen, text: str) -> tuple[str, ...]:
    hit = screen.check(text)
    return hit.categories if hit else ()


def test_hit_reports_categories_with_evidence(screen: CrisisScreen) -> None:
    hit = screen.check("继父晚上摸我")
    assert hit is not None
    assert hit.categories == ("sexual_abuse",)
    assert len(hit.evidence) == len(hit.categories) and all(hit.evidence)


# --- normalisation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("我想自殺", "我想自杀"),  # traditional script
        ("繼父晚上會進我房間", "继父晚上会进我房间"),
        ("電動車充電著火了", "电动车充电着火了"),  # 著 folded to 着
        ("ｗｏ不想活了　３天", "wo不想活了3天"),  # full-width letters, digits, ideographic space
        ("我 想 自 杀", "我想自杀"),  # spaces between characters
        ("我\u3000不\t想\n活", "我不想活"),
        ("我想死😭😭", "我想死"),  # emoji
        ("我😶想🙏死", "我想死"),  # emoji between characters
        ("救命👨\u200d👩\u200d👧", "救命"),  # zero-width joiner sequences
        ("好想si啊！！！真的…", "好想si啊真的"),  # punctuation
        ("救救救救我", "救救我"),  # a run of one character cut to two, reduplication kept
        ("妈妈妈妈妈", "妈妈"),
        ("打1200", "打1200"),  # digits are never folded
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize("text", ["我 想 自 殺", "ｗｏ　不　想　活　了", "我想死😭", "我想死死死死", "救救救救我"])
def test_screen_sees_through_formatting(screen: CrisisScreen, text: str) -> None:
    assert screen.check(text) is not None, normalise(text)


# --- mask ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["笑死我了", "饿死了 奶奶么时候做饭", "死亡证明怎么开", "想死你了 奶奶", "王者荣耀里又被打死了"]
)
def test_mask_silences_idioms_and_paperwork(screen: CrisisScreen, text: str) -> None:
    assert screen.check(text) is None


def test_mask_does_not_hide_a_real_signal_next_to_an_idiom(screen: CrisisScreen) -> None:
    assert screen.check("笑死我了") is None
    assert "suicide" in _hits(screen, "笑死我了 我不想活了")


def test_mask_does_not_swallow_threats(screen: CrisisScreen) -> None:
    assert screen.check("他说要饿死我") is not None
    assert screen.check("累死了") is None
    assert screen.check("游戏里有人要打死我") is not None  # only passive in-game deaths are masked


# --- unless: general questions about rules and prevention ----------------------------------------------


@pytest.mark.parametrize(
    ("question", "report", "category"),
    [
        ("怎么预防性侵 要跟孩子说什么", "我女儿被性侵了 怎么预防再发生", "sexual_abuse"),
        ("我想问一下怎么预防孩子被性侵", "我孙女被邻居性侵了 怎么预防", "sexual_abuse"),
        ("什么样的打孩子算虐待 法律上怎么界定", "他天天打孩子 法律上怎么界定虐待", "physical_abuse"),
        ("家暴可以申请人身安全保护令吗 需要什么证据", "我老公家暴 可以申请人身安全保护令吗", "domestic_violence"),
    ],
)
def test_unless_lets_a_general_question_pass_but_not_a_report(
    screen: CrisisScreen, question: str, report: str, category: str
) -> None:
    assert screen.check(question) is None
    assert category in _hits(screen, report)


def test_a_long_message_cannot_hide_behind_a_general_question(screen: CrisisScreen) -> None:
    text = "性侵是什么意思 我们班一个女生说她表哥性侵她 我该么样办"
    assert "sexual_abuse" in _hits(screen, text)


# --- messages written outside the bank -------------------------------------------------------------------

# Round 4: the held-out set proper (first pass 10/30 recall, 2/15 false alarms; see the module docstring).
HELD_OUT_DANGER = [
    "我好想从这个世界上彻底消失 没人会记得我",
    "今天是我最后一次来这里了 谢谢你们对我好",
    "我在桥上站了好久 下面的水好急",
    "我把药都攒在铅笔盒里 等够了就一次吃掉",
    "我儿子在日记里写 活着就是受罪 不如早点走",
    "我忍不住又拿刀片在胳膊上划了好多下",
    "我女儿总穿长袖 今天我看到她胳膊上一条一条的血印子",
    "我们班有个男生用笔尖戳自己的手背 戳出血了还笑",
    "伯伯老是让我坐在他身上 还摸我的屁股",
    "我外孙女说学校门卫给她零食 带她到没人的地方脱她裤子",
    "有个大哥哥在游戏里认识的 一直要我发穿内衣的照片",
    "后妈拿晾衣架打我 我背上全是血道子",
    "伢他爷爷喝了酒就用烟袋锅子敲伢的头 头上好几个包",
    "我爸昨晚把我踢下床 说我是讨债鬼 再哭就扔出去",
    "我妈跟我爸在屋里打 我听到我妈在喊救命",
    "我老公说离婚就把孩子一起弄死",
    "屋里就我一个 奶奶出去三天了 电话打不通 我好饿",
    "隔壁那个伢天天一个人在屋里 窗户都是破的 晚上冷得哭",
    "我孙子早上去上学 学校说他今天根本没去 到处找不到",
    "我家伢从网吧出来就联系不上了 都一天一夜了",
    "有个叔叔开着车一直在我们学校门口转 问我要不要搭车 今天又来了",
    "刚才一个女的抱着邻居家的小宝宝就往村外跑",
    "我们这一栋楼下面的电动车烧着了 烟往楼上冒 楼上还有几个伢",
    "鞭炮把草垛引燃了 火往我家房子那边烧过去了",
    "我弟弟刚才在池塘里游泳 喊了两声就看不到了",
    "我妹妹喝了一大口放在饮料瓶里的农药",
    "伢吃了地上捡的药丸 现在一直流口水 说不出话",
    "那几个人说我再去学校就让我好看 还在我书包里放了刀",
    "我同学被几个社会青年拖进小巷子里打 现在还在里面",
    "奶奶从楼梯上滚下来了 头在流血 我一个人扶不动",
]
HELD_OUT_BENIGN = [
    "孩子最近睡眠不好 总是醒来好几次",
    "怎么给孩子挑一个合适的书包",
    "我把不穿的衣服捐给山区小朋友了",
    "我女儿跳舞摔了一跤 擦破点皮 抹点碘伏就行吧",
    "县里有没有给留守儿童的夏令营",
    "孩子写作文写了一个溺水的故事 老师说写得好",
    "爷爷说他小时候被人贩子拐过 后来自己跑回来了",
    "打雷的时候孩子很害怕 怎么安慰",
    "孩子在学校把同学的笔弄丢了 要赔吗",
    "饿死我了 食堂今天的菜好少",
    "孩子想学游泳 多大可以去",
    "孩子被同学起外号 回家哭了 怎么办",
    "最后一道题我不会做 谁能教教我",
    "我的仓鼠跑丢了 找了一上午",
    "孩子爸爸在外地工地上受伤了 工伤怎么认定",
]

# Rounds 1, 2, 3 and 5 (first-pass figures in the module docstring).
EXTRA_DANGER = [
    # round 1
    "真的撐不下去了 今晚就從陽台跳下去",
    "感觉这个世界没有我也一样 反正没人在乎",
    "我把零花钱和游戏机都留给表弟了 以后你们别想我",
    "好想睡一觉就再也不醒过来了🌙",
    "wo xiang si le",
    "每次考砸了我就拿指甲刀刮自己的手臂",
    "我女儿腿上好多烟头烫的圆疤 她说是自己烫的",
    "继父经常让我坐他腿上 还把手伸进我衣服里",
    "补课老师给我看黄色视频 还叫我别告诉爸妈",
    "我表妹说村里一个叔叔带她去玉米地里 脱了她的裤子",
    "后妈不给弟弟饭吃 还用晾衣杆打他",
    "我手臂上全是我妈掐出来的紫印子",
    "爸爸一喝酒就拿皮带抽妈妈 我和妹妹躲在厕所里",
    "我爸刚才把我妈的头往桌子上撞 她流了好多血",
    "两个伢被反锁在屋里一天一夜了 大人不晓得去哪了",
    "邻居老人走了以后 就剩一个8岁的伢 这几天都是自己捡废品换吃的",
    "我五岁的儿子在超市不见了 广播找了也没找到",
    "学生放学没到家 平时半小时就到了 现在已经三个钟头了",
    "我家丫头昨天晚上跟网友跑了 手机一直关机",
    "有个开面包车的男人在校门口给小孩发糖 想把一个一年级的拉走",
    "网上认识的哥哥说来宜昌接我 让我别跟爸妈说",
    "楼下冒出好大的火 楼道里全是烟 我们在五楼下不去",
    "隔壁屋着了 火好大 伢还在里面",
    "刚才看到一个小孩在江里扑腾 好像要沉了",
    "我弟弟在鱼塘边玩 掉进去了",
    "奶奶的药我吃了十几颗 现在心跳好快",
    "伢把洁厕灵喝了一口 嘴巴都烧红了",
    "几个初三的把我堵在厕所 用烟头烫我 还逼我下跪",
    "我孙子突然脸色发白 浑身没力气 叫他也没反应",
    "孩子吞了一颗纽扣电池",
    # round 2
    "我已经想好了 明天放学就去江边 再也不回来",
    "妈妈 对不起 下辈子再做你的女儿",
    "我真的好想死啊啊啊啊",
    "我觉得自己是个废物 活在世上只会拖累奶奶",
    "bu xiang huo le",
    "我每天晚上都偷偷用剪刀划大腿 穿长裤就没人看见",
    "我孫女手上全是煙頭燙的疤 她說是她自己燙的",
    "村里一个初中生总是用头撞墙 撞得头破血流",
    "舅舅趁我睡着的时候把手伸到我被子里",
    "有个网友一直要我开视频脱衣服给他看",
    "学生跟我说她继父经常在浴室偷看她洗澡 还拍照",
    "我家隔壁那个男的老是叫小女孩去他家看电视 有个伢回来说下面疼",
    "我爸用电线抽我 腿上一条一条的",
    "后妈把弟弟的头按在水盆里 说不听话就淹死他",
    "邻居家伢天天被他爸打 昨天晚上哭到半夜",
    "我妈又被我爸打了 脸上都是血 我好怕他也打我",
    "我爸喝多了在屋里拿菜刀乱砍 我跟弟弟躲在外面不敢进去",
    "爸妈出去打工一个多月了 钱用完了 我和妹妹每天只吃一顿",
    "隔壁的两个伢 大人过年都没回来 冬天还穿着单衣 天天在外面捡东西吃",
    "我外孙女下午去河边玩 到现在天黑了还没回来 手机也打不通",
    "儿子在学校跟老师吵了一架就跑了 学校说没看到人",
    "有个陌生男的一路跟着我回家 现在还在楼下",
    "我家小儿子在门口玩 一辆没有牌照的车停下来 人就冇得了",
    "厨房的煤气罐着火了 我和奶奶在楼上",
    "伢玩鞭炮把柴堆点燃了 火蔓延到屋里了",
    "我看到有个小孩在水库里挣扎 周围没有大人",
    "孙子把爷爷泡的药酒喝了大半瓶 现在站都站不稳",
    "班上有几个人天天把我按在厕所里打 还说告诉老师就弄死我",
    "宝宝从床上摔下来 后脑勺起了个大包 一直吐 还想睡觉",
    "请问孤儿补贴怎么申请 我弟弟刚刚被开水烫了 皮都掉了 我一个人在家",
    # round 3
    "我不想再活下去了 每天都好痛苦",
    "妈妈走了以后我每天都在想 是不是我死了她就会回来",
    "我想去找天上的奶奶 她说过会一直陪着我",
    "我已经在网上买好了炭 今晚关好门窗",
    "我儿子在房间里把门反锁了 我听到他在哭 说不想活",
    "这周第三次用打火机烧自己的手了",
    "同桌的手腕上缠着绷带 她偷偷告诉我是自己割的",
    "那个补课的叔叔让我脱了衣服给他拍照",
    "我侄女说村小学的一个男老师在办公室亲她的嘴",
    "继父总是半夜进我房间 我很害怕 不敢睡觉",
    "网上有人拿我的照片威胁我 要我发更多的 不然就发给我爸妈",
    "我爸拿鞋底抽我的脸 嘴都打破了",
    "学校有个伢冬天被家里人罚站在雪地里 脚都冻紫了",
    "我奶奶拿针扎我的手 说是让我长记性",
    "我爸把我妈锁在门外 她在外面哭着求他",
    "爸爸喝完酒回来把电视砸了 还掐妈妈",
    "我和弟弟已经三天没见到大人了 米缸也空了",
    "邻居家的小孩被关在阳台上 一整晚都在哭",
    "我女儿去同学家写作业 现在十点了人还没回 同学家说她六点就走了",
    "我家伢在火车站跟我走散了 找不到人",
    "一个陌生阿姨说带我去找妈妈 现在我不知道在哪里",
    "看到两个男的把一个小女孩硬塞进一辆白色轿车里",
    "家里电线冒火花 窗帘烧起来了",
    "楼上邻居家着火了 他们家伢一个人在屋里",
    "我表哥去水库游泳 半个小时了都没浮上来",
    "伢在塘边洗衣服滑下去了 我拉不上来",
    "弟弟把妈妈的一瓶减肥药全吃了",
    "高年级的男生把我围在厕所 用打火机烧我头发",
    "有人把我的裸照发到班级群里 说还要发到学校贴吧",
    "孩子刚才吃果冻噎住了 脸憋得通红 说不出话",
    # round 5
    "我再也不想面对明天了 一切都没有意义",
    "这些年谢谢奶奶养我 我先走一步了",
    "我把家里的老鼠药偷偷藏到了床底下",
    "我又开始抠手上的伤口 抠到流血才停得下来",
    "我发现儿子在手机上搜怎么死才不痛",
    "体育老师让我去器材室 然后关门抱住我不放",
    "堂哥每次来我家都要我陪他睡 还不让我穿衣服",
    "我爸今天用皮带把我绑在椅子上打了一个小时",
    "听到楼下那户又在打孩子 孩子一直在喊不要打了",
    "我妈被我爸打得躺在地上不动了",
    "我一个人在家已经两天了 爸爸的手机关机 冰箱里什么都没有",
    "我侄子中午出去玩到现在没人见过他 河边也找了",
    "有个人开着车说是我爸爸叫他来接我的 我不认识他",
    "屋里的取暖器起火了 我和弟弟跑到阳台上了",
    "快来 有个伢在江边被浪卷走了",
    "弟弟把奶奶的降糖药当糖豆吃了好多颗",
    "我们村有个学生被人堵在路上抢了钱 还被拿刀划了脸",
    "孩子被马蜂蛰了好多下 脸肿得眼睛都睁不开",
    "我女儿说她同学的爸爸每次去她家都让她坐在他腿上摸她",
    "我儿子玩电插座被电了一下 现在手黑了 一直哭",
]
EXTRA_BENIGN = [
    # round 1
    "笑死 我弟把牙膏当洗面奶用了",
    "暑假想带孩子去长江边看看 要注意什么",
    "孩子的疫苗本丢了 怎么补",
    "学校发了防拐骗的宣传单 要签字吗",
    "我想给孩子报个急救培训班 学心肺复苏",
    "奶奶说我小时候掉过一次河里 被人捞起来的",
    "这个电影里的坏人最后被警察抓走了",
    "怎么跟孩子讲不能随便吃药",
    "我家猫吃了老鼠药死了 好难过",
    "爸妈出去打工三年了 我跟外婆住 挺好的",
    "村里要建防溺水护栏 申请资金找哪个部门",
    "期末考完了 终于可以好好睡一觉了",
    "我爸说再玩手机就把手机扔了",
    "孩子被蚊子咬了好多包 痒得直哭",
    "小区消防通道被车堵了 怎么投诉",
    # round 2
    "孩子在学校被评为三好学生 有奖学金吗",
    "请问宜昌有没有儿童心理咨询的免费热线",
    "笑死了 我弟学猫叫",
    "孩子总说同学不跟他玩 怎么帮他交朋友",
    "我们村明年要修防溺水围栏 村民要出钱吗",
    "家里的老房子漏雨 能申请危房改造吗",
    "孩子把作业忘在学校了 明天能补交吗",
    "我爸说过年带我去武汉玩",
    "孩子看动画片里有打架的镜头 会不会学坏",
    "孩子不小心把牛奶洒了 我没骂他",
    "这个游戏的boss太难打了 我死了好多次",
    "孩子的学籍要从外地转回来 需要哪些材料",
    "累死我了 今天帮奶奶摘了一天茶叶",
    "爷爷去世三年了 奶奶一个人带我",
    "孩子夜里咳嗽 要不要去医院",
    # round 3
    "孩子这学期成绩下降了 怎么跟他沟通",
    "我想去看看在外地打工的爸爸 坐什么车",
    "奶奶说明天带我去赶集",
    "气死了 我的风筝挂树上了",
    "孩子晚上要开着灯才能睡 正常吗",
    "学校要求学生暑假不准私自下河游泳 家长要签承诺书",
    "孩子换牙的时候流了点血 要紧吗",
    "孩子骑车撞到了电线杆 手擦破了一点皮",
    "我们班组织了防性侵的讲座 讲得很好",
    "外婆做的红烧鱼太好吃了",
    "孩子抢玩具把妹妹推倒了 怎么教育",
    "孩子读的寄宿学校周末要接回家吗",
    "我家孩子特别怕黑 一个人不敢睡",
    "春节放鞭炮要注意哪些安全",
    "今天体育课跑八百米 差点累死",
    # round 5
    "孩子总是咬指甲 怎么改",
    "我们学校下周搞安全教育周 主题是防溺水",
    "外公过世了 他留下的房子怎么过户",
    "孩子把零花钱都存起来了 想给奶奶买礼物",
    "孩子坐车总是晕车 吐了好几次",
    "我想报名当志愿者 去福利院陪孩子",
    "孩子玩滑板摔了 手腕肿了 要拍片吗",
    "爸爸说这周末带我去钓鱼",
    "孩子被老师批评了 回家不说话",
    "电视上说有个地方发洪水了",
]


def _recall_and_alarms(screen: SafetyScreen, danger: list[str], benign: list[str]) -> tuple[float, float, str]:
    missed = [t for t in danger if screen.assess(t).level == "none"]
    alarms = [(t, a) for t in benign if (a := screen.assess(t)).level == "urgent"]
    detail = "\n".join(
        [f"  missed: {t}" for t in missed]
        + [f"  false alarm: {t} -> {a.score:.1f} ({' | '.join(s.label for s in a.signals)})" for t, a in alarms]
    )
    return 1 - len(missed) / len(danger), len(alarms) / len(benign), detail


def test_held_out_sets_are_the_promised_size_and_not_in_the_bank() -> None:
    danger, benign = load_bank()
    bank_texts = {normalise(i.text) for i in danger + benign}
    assert (len(HELD_OUT_DANGER), len(HELD_OUT_BENIGN)) == (30, 15)
    fresh = HELD_OUT_DANGER + HELD_OUT_BENIGN + EXTRA_DANGER + EXTRA_BENIGN
    overlap = [t for t in fresh if normalise(t) in bank_texts]
    assert not overlap, f"out-of-bank messages found in the bank: {overlap}"
    assert len({normalise(t) for t in fresh}) == len(fresh), "duplicate out-of-bank messages"


def test_held_out_recall_and_false_alarms(safety_screen: SafetyScreen) -> None:
    recall, false_alarms, detail = _recall_and_alarms(safety_screen, HELD_OUT_DANGER, HELD_OUT_BENIGN)
    assert recall == 1.0, f"held-out recall {recall:.1%}:\n{detail}"
    assert false_alarms <= MAX_FALSE_ALARM_RATE, f"held-out false alarms {false_alarms:.1%}:\n{detail}"


def test_extra_out_of_bank_recall_and_false_alarms(safety_screen: SafetyScreen) -> None:
    recall, false_alarms, detail = _recall_and_alarms(safety_screen, EXTRA_DANGER, EXTRA_BENIGN)
    assert recall == 1.0, f"out-of-bank recall {recall:.1%}:\n{detail}"
    assert false_alarms <= MAX_FALSE_ALARM_RATE, f"out-of-bank false alarms {false_alarms:.1%}:\n{detail}"


# --- the bench -------------------------------------------------------------------------------------------


def test_bench_prints_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main(["--bank", str(Path(__file__).parent / "held_out_bank.yml")]) == 0
    out = capsys.readouterr().out
    assert "recall" in out and "false alarm" in out and "missed" in out


def test_write_section_appends_markers_and_keeps_the_rest(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nretrieval numbers\n", encoding="utf-8")
    write_section("first", doc)
    write_section("second", doc)
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nretrieval numbers\n")
    assert text.count(bench.START) == 1 and text.count(bench.END) == 1
    assert "second" in text and "first" not in text


def test_write_section_replaces_only_between_markers(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"before\n{bench.START}\nold\n{bench.END}\nafter\n", encoding="utf-8")
    write_section("new", doc)
    assert doc.read_text(encoding="utf-8") == f"before\n{bench.START}\nnew\n{bench.END}\nafter\n"


def test_evaluate_counts_misses_and_false_alarms(safety_screen: SafetyScreen) -> None:
    report = evaluate(
        safety_screen,
        [Item("a", "我不想活了", "suicide"), Item("b", "今天天气很好", "suicide")],
        [Item("c", "笑死我了", "benign"), Item("d", "救命 着火了 火好大", "benign")],
    )
    assert [i.id for i in report.missed] == ["b"]
    assert [i.id for i, _ in report.false_alarms] == ["d"]
    assert report.recall == 0.5 and report.false_alarm_rate == 0.5
    assert report.by_label == {"suicide": (1, 2)}
