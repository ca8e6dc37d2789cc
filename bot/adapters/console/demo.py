"""The example week of REPORT.md, played through the console as its owners would type it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

EXAMPLE_TEAM = Path(__file__).resolve().parents[2] / "examples" / "team.yaml"
DEMO_WEEK = "2024-W26"
DEMO_START = datetime(2024, 6, 24, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

# A console script: the same commands a person types at `zhoubao run`.
SCRIPT = """\
# 周一 09:30：清结算批量任务超时，孙丽顺手上报
clock 2024-06-24 09:30
as 孙丽
/incident 06/24 09:12 清结算批量任务超时，有重试，对业务无实际影响。 原因：对账文件体积较上周翻倍

# 周三：招行代扣通道异常，与银行共同责任，记 D 级 0.5 次
clock 2024-06-26 15:20
as 王强
/incident 06/26 14:30 招行代扣通道返回码异常，部分代扣失败，经银行修复后 15:10 恢复。 级别：D 权重：0.5

# 周四 10:00：机器人私信每位负责人
clock thu 10:00

as 李娜
[1] <<EOF
- 商户入网新流程在上海、杭州切量，交易运行平稳。遗留问题：
    - 存量商户资料迁移时触发银行侧单日开户上限，已协调扩容。
    - 分批开户限流方案评审中，预计下周定稿。
- 分账项目：预计7月3日进入联调。
EOF
对公代付：系统开发进度70%，主要依赖：银行专线开通

clock +20m
as 王强
<<EOF
建行：接口文档已获取，联调环境申请中。
招行：跨行代扣方案评审通过，下周启动开发。
中行：收款入账方式待定
其他银行：7月完成P0银行意向确认。
EOF
edit last <<EOF
建行：接口文档已获取，联调环境申请中。
招行：跨行代扣方案评审通过，下周启动开发。
中行：收款入账方式待确认。
其他银行：7月完成P0银行意向确认。
EOF

clock +15m
as 刘洋
[1] <<EOF
- 收单v2.1方案评审完成，目标是缩短支付页首屏时间。
- v2.0已于6月26日全量上线。
EOF
交易路由：智能路由一期上线完成，覆盖12城

as 陈静
<<EOF
本周完成差距分析与整改清单，已提交审核方，整体进度 45%
主要问题：密钥轮换流程的留痕方案未定
EOF

as 赵磊
跨境收款：一期已上线，二期多币种结算方案设计中
资金安全：风控规则二期方案有变，待最新方案

as 孙丽
实时数仓：上线完成，历史数据回刷中，计划周末刷5月份数据
<<EOF
入金有效成功率：99.993%
出金有效成功率：99.981%
年度可用性：99.997%
EOF

# 周四晚：gateway-api 事件
clock 2024-06-27 20:30
as 刘洋
/incident 06/27 20:05 gateway-api 节点CPU打满 原因：新接口缺少分页，一次拉取全部历史订单 级别：C

# 周五 10:00：提醒未填写的人，编辑收到缺失名单
clock fri 10:00

as 周杰
机房迁移进度 75%
delete last
整体进度达到了80%，预计下周三完成生产验证

clock +4h
as 张伟
/zhoubao missing
[1] <<EOF
1. 新人培训第二期
2. 年中预算复盘
EOF
[2] <<EOF
本周两次事件都与数据量增长有关，设计评审要把数据规模当作必答题。

1. 变更评审：新接口必须说明最坏情况下的数据量和分页策略。
2. 银行协同：通道异常的发现晚于商户投诉，需要补齐通道级监控。
EOF
[3] <<EOF
1. 聚合收单分批开户限流方案定稿
2. PCI DSS 整改项推进到 70%
3. 通道级监控方案评审
EOF
/incident list

# 周五 17:00：发布到团队频道
clock fri 17:00
"""


# ----- the example department (issue 25): three teams, one week, then the roll-up ---------------------

EXAMPLE_DEPARTMENT = Path(__file__).resolve().parents[2] / "examples" / "department"
DEPARTMENT_FILES = ("department.yaml", "acquiring.yaml", "settlement.yaml", "crossborder.yaml")

SETTLEMENT_SCRIPT = """\
# 周二：对账文件延迟
clock 2024-06-25 11:00
as 吴涛
/incident 06/25 10:20 settlement 日终对账文件延迟生成 原因：上游数据延迟 级别：C

clock thu 10:00
as 吴涛
对账：对账差错率降至万分之一，自动化对账覆盖 90%
日终清算提速：整体进度 60%，主要问题：银行回单接口不稳定

as 郑爽
<<EOF
工行：联调完成，待上线
农行：需求沟通中
EOF
清算准时率：99.95%

clock fri 15:00
as 周敏
[1] 无
[2] 本周对账差错明显下降，回单接口要纳入监控。
[3] 日终清算提速推进到 70%

clock fri 17:00
"""

CROSSBORDER_SCRIPT = """\
clock thu 10:00
as Bob
Business: merchant onboarding is live in two more markets.
FX settlement: design review done, 30%

as Carol
<<EOF
HSBC: integration testing started
Citi: contract signed
EOF
Yearly availability: 99.98%

clock fri 15:00
as Alice
[1] Two engineers joined the team.
[2] Release notes need an owner.
[3] Citi integration kick-off

clock fri 17:00
"""

# The script each team of the example department plays, by its file's stem (`DepartmentTeam.key`).
DEPARTMENT_SCRIPTS = {"acquiring": SCRIPT, "settlement": SETTLEMENT_SCRIPT, "crossborder": CROSSBORDER_SCRIPT}
