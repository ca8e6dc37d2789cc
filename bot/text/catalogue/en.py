"""What the bot says in en. Same keys as `zh_CN.py`; a test holds them together."""

from __future__ import annotations

WORDS: dict[str, str] = {
    # ----- separators and dates ----------------------------------------------------------------
    "list.sep": ", ",
    "date.months": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
    "date.weekdays": "Mon Tue Wed Thu Fri Sat Sun",
    "date.when": "{weekday} {month} {day} {time}",
    "date.day": "{month} {day}, {year}",
    # ----- the report's fixed words (templates read these through i18n.Labels) ------------------
    "report.title": "Weekly report {week}",
    "report.created": "Created",
    "report.section": "{title}",  # English has no such brackets; its headings stand alone
    "report.colon": ": ",
    "report.heading_colon": ":",
    "report.not_updated": "not updated",
    "report.away": "away",
    "report.none": "None",
    "report.metrics": "System metrics",
    "report.incidents": "Production incidents",
    "report.counts": "Incidents: {items}",
    "report.counts.item": "{severities} {count}",
    "report.counts.item_sep": ", ",
    "report.counts.severity_sep": "/",
    # ----- prompts ---------------------------------------------------------------------------------
    "prompt.head": "📝 {week} report: please update your items; it is published {deadline}.",
    "prompt.remind_head": "⏰ Reminder: {week} report still needs these; it is published {deadline}.",
    "prompt.last_week": "    Last week:",
    "prompt.this_week": "    Stored this week:",
    "prompt.one_item": "Just reply; several messages are fine.",
    "prompt.many_items": "Start a reply with [number] to choose the item, e.g. \"[2] Done this week…\", "
                         "or write \"name: text\", e.g. \"{name}: …\".",
    # ----- answers ---------------------------------------------------------------------------------
    "answer.stored": "✅ Stored: {items}",
    "answer.stored_progress": "✅ Stored: {items} ({progress})",
    "answer.progress_sep": ", ",
    "answer.unknown_banks": ("⚠️ Banks not in the team file: {names}. Kept as text in the bank part. To track it on its own "
                             "line, an admin adds \"- name: {example}\" under that part's banks: in the team file "
                             "(team.yaml) and restarts the bot."),
    "answer.understood_progress": 'progress {value}%',
    "answer.understood_problem": 'main problem: {text}',
    "answer.understood_not_progress": '{figures} not taken as progress; write "progress {last}" if it is',
    "answer.understood_sep": '; ',
    "cycle.not_published_unprompted": ("⏸ The {week} report was not published automatically: no prompt went out this week (the bot "
                                      "was not running, or started after the prompt time), so every item would read \"not "
                                      "updated\". To publish it anyway, send /zhoubao publish; prompts and publishing resume on "
                                      "schedule next week."),
    "answer.not_owned_pair": "{name}（{owner}）",
    "answer.not_owned": "⚠️ Not yours: {pairs}. Not added to the report; your message is saved.",
    "answer.ask_which": "❓ Which item is this for? Your message is saved. Send it again starting with "
                        "[number]:\n{listing}",
    "answer.nothing_to_answer": "You have nothing to answer this week.",
    "answer.empty": "That message is empty; nothing was stored.",
    "answer.too_long": "⚠️ That message is too long ({length} characters, the limit is {limit}). It is saved "
                       "but not added to the report; please shorten it and send again.",
    "answer.bad_metric": "⚠️ {name} needs one number, e.g. \"{name}: 99.99{unit}\"; your message is saved.",
    "answer.bad_progress": "⚠️ {title}: progress '{value}' is not a number from 0 to 100, so this item was not "
                           "added to the report; the form is saved, please correct it and submit again.",
    "answer.not_member": "You are not on this team's report list; nothing was stored. Ask an admin to add you.",
    "answer.after_publish": "(The report was already published; it has been updated.)",
    "answer.deleted": "🗑 Removed from: {items}",
    "answer.only_text": "Only text messages can be read.",
    "answer.kept": "Received. The database is briefly unavailable; your answer is kept and will be saved "
                   "automatically.",
    "answer.saving": "Saving…",
    "answer.progress_line": "progress: {value}%",
    "answer.problem_line": "main problem: {value}",
    # ----- /zhoubao --------------------------------------------------------------------------------
    "command.missing_none": "✅ {week}: everyone has answered.",
    "command.missing_items_none": "✅ {week}: every item is answered.",
    "command.missing_head": "📋 {week} not answered yet ({count}):",
    "command.missing_line": "- {person}: {items}",
    "command.refused": "⛔ Only the report's editors or admins can do that.",
    "command.published": "📣 {week} report published.",
    "command.updated": "📣 {week} report updated.",
    "command.status_head": "{week} your items:",
    "command.bad_week": "⚠️ '{value}' is not a week: write it like 2024-W26 (year, W, week 01 to 52 or 53).",
    "command.week_outside": "⚠️ {value} is outside the weeks this team can use: {first} to {last}.",
    "command.help": "\n".join([
        "zhoubao commands:",
        "  Reply to the prompt to answer; with several items start with [number] or write \"name: text\".",
        "  /incident 06/21 10:04 order-api OOM cause: … impact: … recovered: 17:00 severity: C   file an incident",
        "  /incident list | edit N … | resolve N [time] | delete N",
        "  /zhoubao status    your items this week and whether they are answered",
        "  /zhoubao preview   preview this week's report",
        "  /zhoubao missing   who has not answered (editors)",
        "  /zhoubao publish   publish or update the report now (editors and admins)",
        "  /zhoubao answer [2024-W26]   open the form (default: this week)",
        "  /zhoubao away 7/1-7/5   time away (no prompts, items show as away); away to list, away cancel",
    ]),
    # ----- time away --------------------------------------------------------------------------------
    "away.cancelled": "Time away cancelled.",
    "away.nothing_to_cancel": "No time away to cancel.",
    "away.none": "No time away. Usage: /zhoubao away 7/1-7/5",
    "away.list": "Time away: {spans}",
    "away.added": "Away {span}: no prompts for you, and your items show as away. Undo: /zhoubao away cancel",
    "away.bad_range": "'{value}' is not a date range; write it like 7/1-7/5 or 7/1.",
    "away.bad_day": "{value} is not a date.",
    "away.reversed": "{end} is before {start}.",
    "away.too_long": "At most a year at a time.",
    # ----- incidents ----------------------------------------------------------------------------------
    "incident.filed": "🚨 Incident filed",
    "incident.filed_by": " (filed by {name})",
    "incident.edited": "✏️ Incident edited",
    "incident.resolved": "✅ Incident resolved",
    "incident.deleted": "🗑 Incident deleted",
    "incident.cause": "Cause: {value}",
    "incident.impact": "Impact: {value}",
    "incident.no_such": "There is no incident #{number}.",
    "incident.none": "No incidents in {week}.",
    "incident.list_head": "{week} incidents ({count}):",
    "incident.bad_start": "⚠️ Cannot read the start time '{value}': write 06/21 10:04, 2024-06-21 10:04 or "
                          "10:04, or leave it empty for now. Nothing was filed; please correct it and submit again.",
    "incident.bad_recovered": "⚠️ Cannot read the recovery time '{value}': write 17:00 or 06/22 01:00, not "
                              "before the start. Nothing was filed; please correct it and submit again.",
    "incident.bad_severity": "⚠️ There is no severity '{value}'; the severities are: {known}. Nothing was "
                             "filed; please correct it and submit again.",
    "incident.bad_weight": "⚠️ Weight '{value}' is invalid: use a number above 0 and at most 10 with up to two "
                           "decimals, like 0.5. Nothing was filed; please correct it and submit again.",
    "incident.no_what": "⚠️ 'What happened' is empty. Nothing was filed; please fill it in and submit again.",
    "incident.no_fields": "⚠️ Editing an incident needs at least one field filled in.",
    # ----- the /incident grammar: what was wrong, then the usage ---------------------------------
    "incident.syntax.no_what": 'The incident needs a description.',
    "incident.syntax.bad_date": "'{value}' is not a valid date or time.",
    "incident.syntax.future": 'The start time {value} is in the future.',
    "incident.syntax.confirm_date": ("'{value}' is not within the last {days} days; it would be filed as {date} ({week}), so "
                                     "nothing was filed. If that is the day, send it again with the year, e.g. "
                                     "/incident {date} …; an incident cannot be filed ahead of time."),
    "incident.syntax.severity": "There is no severity '{value}'; the severities are: {known}.",
    "incident.syntax.weight": "Weight '{value}' is invalid: use a number above 0 and at most 10 with up to two decimals, like 0.5.",
    "incident.syntax.availability": "Availability '{value}' is invalid: write yes or no.",
    "incident.syntax.empty": "'{value}' has no value.",
    "incident.syntax.twice": "'{value}' is given twice.",
    "incident.syntax.start_twice": "The start time is given twice (at the front and as 'start:').",
    "incident.syntax.what_twice": "The description is given twice (at the front and as 'what:').",
    "incident.syntax.needs_time": "'{value}' needs a time of day, like 17:00 or 06/22 01:00.",
    "incident.syntax.before_start": 'The recovery time {value} is before the start {start}.',
    "incident.syntax.no_fields": "Editing an incident needs at least one labelled field, like 'cause: …'.",
    "incident.syntax.unlabelled": "'{value}' has no label; to change the description write 'what: …'.",
    "incident.syntax.number": "'{value}' needs an incident number, like '{value} 3'.",
    "incident.syntax.extra": "Did not understand '{value}' after the incident number.",
    "incident.syntax.bad_number": "'{value}' is not an incident number: write it like '{word} 3' (/incident list shows the numbers).",
    "incident.syntax.outside_window": "The date {value} is outside the weeks incidents can be filed for: {first} to {last}.",
    "incident.syntax.recovery_future": ("The recovery time {value} is in the future. Add it once service is back; "
                                        "without it the incident is filed as ongoing."),
    "incident.syntax.confirm_overnight": ("The recovery time {value} is earlier than the start {start}; the incident "
                                          "was not filed. If service came back the next day, send it again with the "
                                          "date, like 'recovery: {next_day}'."),
    "incident.usage": "\n".join([
        'Usage: /incident [date] [time] [system] description [cause: …] [impact: …] [recovered: …] [severity: …] [weight: …] [availability: no]',
        '  /incident 06/21 10:04 order-api node OOM cause: memory leak impact: some orders failed recovered: 17:00 severity: C weight: 0.5',
        '  The date may be 06/21 or 2024-06-21 and defaults to now; recovered takes 17:00 or 06/22 01:00; weight is for shared responsibility (e.g. 0.5).',
        'Other commands:',
        "  /incident list                  this week's incidents",
        '  /incident edit 3 cause: …       change only the fields given (what: … changes the description)',
        '  /incident resolve 3 [17:00]     mark incident 3 recovered (default now)',
        '  /incident delete 3              delete incident 3',
    ]),
    # ----- the report's incident line -------------------------------------------------------------
    "report.incident.sep": ", ",
    "report.incident.impact": "Impact: {value}",
    "report.incident.cause": "Cause: {value}",
    "report.incident.recovered": "recovered {when}",
    # ----- when the platform refuses a call -------------------------------------------------------------
    "delivery.reposted": "ℹ️ The {week} report was deleted in the report channel; it has been posted again.",
    "delivery.person": "⚠️ The platform refused the request ({reason}), so it was not done; the report's "
                       "editors have been told.",
    "delivery.editors": "⚠️ {platform} refused {method} ({reason}){where}.",
    "delivery.where": " {where}",
    "delivery.not_in_channel": " Invite the bot to that channel.",
    # ----- forms: labels of the widgets every platform shows ---------------------------------------------
    "form.answer_title": "Report {week}",
    "form.submit": "Submit",
    "form.cancel": "Cancel",
    "form.answer_button": "Answer",
    "form.prefilled_hint": "Prefilled with last week's answer; edit it",
    "form.opening": "Opening the form…",
    "form.long_kept": "Long answer kept; edit it by text ({length} characters, the form takes {limit}).",
    "form.fields_in_text": "Too many items for separate progress and main-problem fields: write them in the text (progress: 60%, main problem: …).",
    "form.more_items": "{count} more items do not fit in this form; answer them by text.",
    "form.progress": "{name} · progress %",
    "form.problem": "{name} · main problem",
    "form.placeholder": "This week…",
    "form.reply_hint": "You can also reply to this message, or send text starting with [number].",
    "form.saved": "Saved.",
    "form.not_answered": "(not answered)",
    "form.change_hint": "To change it, reply in text or use the menu's form again.",
    "form.stored_title": "✅ {week} stored",
    "form.incident_title": "File an incident",
    "form.incident_edit_title": "Edit incident #{number}",
    "form.incident_file": "File",
    "form.incident_edit": "Edit",
    "form.incident.start": "Started (e.g. 06/21 10:04; empty = now)",
    "form.incident.system": "System",
    "form.incident.what": "What happened",
    "form.incident.cause": "Cause",
    "form.incident.impact": "Impact",
    "form.incident.recovered": "Recovered at (e.g. 17:00)",
    "form.incident.severity": "Severity",
    "form.incident.weight": "Weight (e.g. 0.5; empty = 1)",
    "form.incident.availability": "Counts toward availability",
    "form.yes": "Yes",
    "form.no": "No",
    "form.incident_filed_title": "🚨 Incident filed",
    "form.bot_name": "zhoubao",
    "form.merged": "(merged into the message above)",
    # ----- the incident question in the weekly prompt (issue 14) -------------------------------------
    "question.title": "Incidents",
    "question.names": "incidents|incident|生产事件|事件",
    "question.logged_head": "    Logged this week (don't file these again):",
    "question.logged_none": "    No incidents logged this week yet.",
    "question.logged_line": "    #{number} {day} {time} {headline}",
    "question.logged_more": "    … and {count} logged earlier",  # a prompt card lists the latest incidents only
    "question.logged_link": "    All of them on the week page: {url}",
    "question.ask": ("    Anything that went unlogged? If not, reply \"[{number}] none\"; if so, reply in the /incident "
                     "format without the slash, with its start time, e.g. \"[{number}] 06/27 20:05 gateway-api CPU "
                     "saturated cause: … severity: C\"."),
    "question.answered_none": "    Answered this week: nothing to add.",
    "question.answered_incident": "    Answered this week: an incident was added.",
    "question.none_stored": "✅ Stored: no incident to add this week.",
    "question.filed_hint": "(Filed from your report answer; change it with /incident edit {number} ….)",
    "question.unclear": ("❓ Is this \"nothing to add\" or an incident? Your text is kept; no incident was filed. "
                         "If nothing, reply \"Incidents: none\"; for an incident give its start time, e.g. "
                         "\"Incidents: 06/27 20:05 gateway-api CPU saturated severity: C\", or use /incident."),
    "question.edit_not_reread": ("✏️ Edit saved, but an answer to the incident question is not re-read: reply "
                                 "\"Incidents: …\" again; change a filed incident with /incident edit."),
    "question.withdrawn": "🗑 Your answer to the incident question is withdrawn.",
    "question.withdrawn_kept": ("🗑 Your answer to the incident question is withdrawn; incident #{number} stays "
                                "(remove it with /incident delete {number})."),
    "question.missing": "🚨 Not answered the incident question ({count}): {people}",
    "question.off": "This team's prompt does not ask about incidents; file one with /incident.",
    "form.question_hint": "\"none\", or one incident line with its start time, e.g. 06/27 20:05 gateway-api CPU saturated severity: C",
    "form.question_logged": "Logged this week: {incidents}",
    "form.question_none": "Nothing to add",
    "form.question_file": "File an incident",
    # ----- Slack message sizes (bot/adapters/slack/limits.py) ---------------------------------------
    "slack.part": "({n}/{total})",  # one of several messages that say one thing
    "message.part": "({n}/{total})",  # one of several Feishu messages that say one thing
    "slack.left_out": " · {count} more not shown here",  # after the last marker when a reply may not send them all
    "slack.more": "…and {count} more",  # a list cut at a line: the lines left out
}
