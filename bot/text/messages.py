"""What the bot says to people, in zh-CN and en. Pure functions of domain values."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.domain.prompts import PromptItem
from bot.domain.report import Missing

_WEEKDAYS = {"zh-CN": "一二三四五六日", "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]}


def _zh(locale: str) -> bool:
    return locale != "en"


def when(at: datetime, locale: str) -> str:
    if _zh(locale):
        return f"{at.month}月{at.day}日（周{_WEEKDAYS['zh-CN'][at.weekday()]}）{at:%H:%M}"
    return f"{_WEEKDAYS['en'][at.weekday()]} {at:%b} {at.day} {at:%H:%M}"


def _quote(text: str, limit: int = 300) -> str:
    short = text if len(text) <= limit else text[:limit] + " …"
    return "\n".join("    > " + line for line in short.split("\n"))


def prompt_text(kind: str, week: str, items: Sequence[PromptItem], deadline: datetime, locale: str) -> str:
    zh = _zh(locale)
    if kind == "remind":
        head = (f"⏰ 提醒：{week} 周报还差以下内容，{when(deadline, locale)} 发布。" if zh else
                f"⏰ Reminder: {week} report still needs these; it is published {when(deadline, locale)}.")
    else:
        head = (f"📝 {week} 周报：请更新你负责的内容，{when(deadline, locale)} 发布。" if zh else
                f"📝 {week} report: please update your items; it is published {when(deadline, locale)}.")
    lines = [head, ""]
    for it in items:
        lines.append(f"[{it.number}] {it.title}")
        if it.last_week:
            lines.append("    上周：" if zh else "    Last week:")
            lines.append(_quote(it.last_week))
        if it.this_week:
            lines.append("    本周已记录：" if zh else "    Stored this week:")
            lines.append(_quote(it.this_week))
    lines.append("")
    if len(items) == 1:
        lines.append("直接回复即可，可分多条发送。" if zh else "Just reply; several messages are fine.")
    else:
        lines.append("回复以 [编号] 开头指定条目，如「[2] 本周完成…」；也可写「名称：内容」，如「"
                     f"{items[-1].name}：…」。" if zh else
                     "Start a reply with [number] to choose the item, e.g. \"[2] Done this week…\", "
                     f"or write \"name: text\", e.g. \"{items[-1].name}: …\".")
    return "\n".join(lines)


def stored(titles: Sequence[str], locale: str, progress: Sequence[str] = ()) -> str:
    zh = _zh(locale)
    text = ("✅ 已记录：" if zh else "✅ Stored: ") + ("、" if zh else ", ").join(titles)
    if progress:
        text += ("（" if zh else " (") + ("；".join(progress) if zh else "; ".join(progress)) + ("）" if zh else ")")
    return text


def unknown_banks(names: Sequence[str], locale: str) -> str:
    joined = "、".join(names)
    example = names[0] if names else "…"
    if _zh(locale):
        return (f"⚠️ 未配置的银行：{joined}（不在团队文件的银行列表中），已作为文字保留在银行部分。如需单独跟踪，请管理员在团队文件"
                f"（team.yaml）该部分的 banks: 下添加一行「- name: {example}」，然后重启机器人。")
    return (f"⚠️ Banks not in the team file: {joined}. Kept as text in the bank part. To track it on its own "
            f"line, an admin adds \"- name: {example}\" under that part's banks: in the team file (team.yaml) "
            "and restarts the bot.")


def not_owned(names: Sequence[str], owners: Sequence[str], locale: str) -> str:
    pairs = "、".join(f"{n}（{o}）" for n, o in zip(names, owners, strict=True))
    if _zh(locale):
        return f"⚠️ {pairs} 不由你负责，未记入报告；原文已保存。"
    return f"⚠️ Not yours: {pairs}. Not added to the report; your message is saved."


def ask_which(items: Sequence[PromptItem], locale: str) -> str:
    listing = "\n".join(f"[{it.number}] {it.title}" for it in items)
    if _zh(locale):
        return f"❓ 这条消息属于哪一项？原文已保存。请以 [编号] 开头重新发送：\n{listing}"
    return f"❓ Which item is this for? Your message is saved. Send it again starting with [number]:\n{listing}"


def nothing_to_answer(locale: str) -> str:
    return "你本周没有需要填写的条目。" if _zh(locale) else "You have nothing to answer this week."


def empty(locale: str) -> str:
    return "空消息，未记录。" if _zh(locale) else "That message is empty; nothing was stored."


def too_long(length: int, limit: int, locale: str) -> str:
    if _zh(locale):
        return f"⚠️ 消息过长（{length} 字，上限 {limit} 字），未记入报告；原文已保存，请精简后重新发送。"
    return (f"⚠️ That message is too long ({length} characters, the limit is {limit}). It is saved but not "
            "added to the report; please shorten it and send again.")


def bad_metric(name: str, unit: str, locale: str) -> str:
    if _zh(locale):
        return f"⚠️ {name} 需要一个数值，如「{name}：99.99{unit}」；原文已保存。"
    return f"⚠️ {name} needs one number, e.g. \"{name}: 99.99{unit}\"; your message is saved."


def not_member(locale: str) -> str:
    if _zh(locale):
        return "你不在本团队的周报名单中，消息未记录。如需加入，请联系管理员。"
    return "You are not on this team's report list; nothing was stored. Ask an admin to add you."


def after_publish(locale: str) -> str:
    return "（报告已发布，已同步更新。）" if _zh(locale) else "(The report was already published; it has been updated.)"


def deleted(titles: Sequence[str], locale: str) -> str:
    if _zh(locale):
        return "🗑 已撤回：" + "、".join(titles)
    return "🗑 Removed from: " + ", ".join(titles)


def missing_list(week: str, missing: Sequence[Missing], locale: str) -> str:
    zh = _zh(locale)
    if not missing:
        return f"✅ {week}：所有人都已填写。" if zh else f"✅ {week}: everyone has answered."
    by_person: dict[str, list[str]] = {}
    for m in missing:
        by_person.setdefault(m.person, []).append(m.item_title)
    head = f"📋 {week} 尚未填写（{len(missing)} 项）：" if zh else f"📋 {week} not answered yet ({len(missing)}):"
    return "\n".join([head] + [f"- {p}：{'、'.join(t)}" if zh else f"- {p}: {', '.join(t)}"
                               for p, t in by_person.items()])


def refused(locale: str) -> str:
    return "⛔ 只有周报编辑或管理员可以这样做。" if _zh(locale) else "⛔ Only the report's editors or admins can do that."


def published(week: str, updated: bool, locale: str) -> str:
    if _zh(locale):
        return f"📣 {week} 周报已{'更新' if updated else '发布'}。"
    return f"📣 {week} report {'updated' if updated else 'published'}."


def help_text(locale: str) -> str:
    if _zh(locale):
        return "\n".join([
            "周报机器人命令：",
            "  直接回复提示消息即可填写；多项时以 [编号] 开头，或写「名称：内容」。",
            "  /incident 06/21 10:04 order-api 节点OOM 原因：… 影响：… 恢复：17:00 级别：C   上报生产事件",
            "  /incident list | edit N … | resolve N [时间] | delete N",
            "  /zhoubao status    本周我的条目及填写情况",
            "  /zhoubao preview   预览本周报告",
            "  /zhoubao missing   尚未填写的人（编辑）",
            "  /zhoubao publish   立即发布或更新报告（编辑/管理员）",
            "  /zhoubao away 7/1-7/5   登记休假（期间不提醒，报告显示「休假」）；away 查看，away cancel 取消",
        ])
    return "\n".join([
        "zhoubao commands:",
        "  Reply to the prompt to answer; with several items start with [number] or write \"name: text\".",
        "  /incident 06/21 10:04 order-api OOM cause: … impact: … recovered: 17:00 severity: C   file an incident",
        "  /incident list | edit N … | resolve N [time] | delete N",
        "  /zhoubao status    your items this week and whether they are answered",
        "  /zhoubao preview   preview this week's report",
        "  /zhoubao missing   who has not answered (editors)",
        "  /zhoubao publish   publish or update the report now (editors and admins)",
        "  /zhoubao away 7/1-7/5   time away (no prompts, items show as away); away to list, away cancel",
    ])


# ----- first week: what the bot understood, a week it did not run ------------------------------


def understood(name: str, progress: str | None, main_problem: str | None, unread: Sequence[str],
               locale: str) -> str | None:
    """What the bot read out of one item's answer, for the confirmation, so the owner can correct it:
    progress, main problem, and percentages it did not take as progress. None when there is nothing."""
    zh = _zh(locale)
    said: list[str] = []
    if progress is not None:
        said.append(f"进度 {progress}%" if zh else f"progress {progress}%")
    if main_problem:
        short = main_problem if len(main_problem) <= 40 else main_problem[:40] + "…"
        said.append(f"主要问题：{short}" if zh else f"main problem: {short}")
    if progress is None and unread:
        figures = "、".join(unread) if zh else ", ".join(unread)
        said.append(f"{figures} 未计为进度，如是进度请写「进度 {unread[-1]}」" if zh else
                    f"{figures} not taken as progress; write \"progress {unread[-1]}\" if it is")
    if not said:
        return None
    return f"{name} " + ("，".join(said) if zh else "; ".join(said))


def not_published_unprompted(week: str, locale: str) -> str:
    """To the editors when the scheduled publish skips a week in which no prompt went out."""
    if _zh(locale):
        return (f"⏸ {week} 周报未自动发布：本周没有发出过填写提示（机器人本周没有运行，或在提示时间之后才启动），"
                "发布出去每一项都会是「未更新」。如仍要发布，请发送 /zhoubao publish；下周起按时提示和发布。")
    return (f"⏸ The {week} report was not published automatically: no prompt went out this week (the bot was "
            "not running, or started after the prompt time), so every item would read \"not updated\". To "
            "publish it anyway, send /zhoubao publish; prompts and publishing resume on schedule next week.")
