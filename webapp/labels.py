"""Display names of the domain's codes (Chinese; English through the message catalog)."""
from flask import g
from flask_babel import lazy_gettext as _l

SEVERITY = {"minor": _l("轻微"), "general": _l("一般"), "serious": _l("严重")}
FIELD = {"government_procurement": _l("政府采购"), "ppp": _l("政府和社会资本合作"), "bidding": _l("招标投标"),
         "investment_promotion": _l("招商引资"), "government_debt": _l("政府债务"),
         "township_commitment": _l("街道乡镇承诺"), "other": _l("其他")}
SOURCE = {"court_judgment": _l("司法判决"), "administrative_penalty": _l("行政处罚"),
          "disciplinary_sanction": _l("纪律处分"), "accountability": _l("问责处理"),
          "breach_of_promise": _l("违约/失信承诺")}
STATUS = {"draft": _l("草稿"), "under_review": _l("审核中"), "returned": _l("退回补正"), "rejected": _l("不予认定"),
          "confirmed": _l("已认定"), "sanctioned": _l("已惩戒"), "published": _l("公示中"), "corrected": _l("已更正"),
          "revoked": _l("已撤销"), "repaired": _l("已修复"), "expired": _l("公示期满"), "archived": _l("已归档"),
          "exempted": _l("免予惩戒")}
CASE_STATUS = {"running": _l("办理中"), "completed": _l("已办结"), "error": _l("出错")}
SUBJECT_KIND = {"department": _l("政府部门"), "civil_servant": _l("公务员")}
ROLE = {"clerk": _l("承办人"), "reviewer": _l("审核人"), "leader": _l("分管领导"), "subject": _l("信用主体"),
        "manager": _l("流程管理员"), "personnel": _l("人事（诚信档案）"), "admin": _l("系统管理员"),
        "checker": _l("逢办必查查询人")}
PROCESS = {"record_lifecycle": _l("失信记录认定与公示"), "objection": _l("异议申请"),
           "self_correction": _l("主动自新申请"), "credit_repair": _l("信用修复申请"),
           "accountability": _l("问责处理")}
PROCESS["commitment"] = _l("公开承诺")   # township commitments (workflows/commitments)
PROCESS["complaint"] = _l("投诉举报")   # complaints (workflows/complaints)
OUTCOME = {"refused": _l("不予受理/不予采纳"), "lapsed": _l("逾期未补正"), "correct": _l("更正记录"),
           "revoke": _l("撤销记录"), "keep": _l("维持记录"), "lighter": _l("从轻惩戒"), "exempt": _l("免予惩戒"),
           "approved": _l("准予信用修复"), "not_pursued": _l("不予追责"), "inspection": _l("检查"),
           "notice": _l("通报"), "admonition": _l("诫勉"), "organisational": _l("组织处理"),
           "referral": _l("移送纪检监察机关"), "none": _l("不予问责")}
OUTCOME.update({"fulfilled": _l("已履行"), "partly": _l("部分履行"), "failed": _l("未履行")})   # commitments
ACTION = {
    "record.opened": _l("创建记录"), "record.status": _l("记录状态变更"), "record.corrected": _l("记录更正"),
    "record.repair_eligible": _l("最短公示期满，可申请信用修复"), "case.started": _l("案件开始"),
    "case.completed": _l("案件办结"), "case.message": _l("收到消息"), "case.timers_fired": _l("定时事件触发"),
    "case.error": _l("案件出错"), "task.claimed": _l("认领任务"), "task.unclaimed": _l("放回组任务"),
    "task.assigned": _l("改派任务"), "task.completed": _l("完成任务"), "comment.added": _l("添加意见"),
    "attachment.uploaded": _l("上传附件"), "subject.registered": _l("登记信用主体"),
    "application.filed": _l("提交申请"), "application.decided": _l("申请办结"),
    "application.accepted": _l("受理申请"), "application.supplement_requested": _l("要求补正材料"),
    "record.under_objection": _l("异议标注"), "record.mitigation": _l("主动自新决定"),
    "record.sanctions_lifted": _l("解除惩戒措施"), "notification.sent": _l("发送提醒"),
    "calendar.changed": _l("工作日历变更"), "calendar.year_covered": _l("标记年度日历已覆盖"),
    "calendar.year_uncovered": _l("取消年度日历覆盖"), "task.deadline_moved": _l("任务期限随工作日历调整"),
    "record.severity": _l("认定程度变更"), "case.migrated": _l("案件迁移到新流程版本"),
    "document.issued": _l("出具文书"), "accountability.opened": _l("启动问责"),
    "accountability.closed": _l("问责办结"), "accountability.decided": _l("作出问责决定"),
    "accountability.person_replaced": _l("更换责任人"), "integrity.credit_check": _l("出具诚信档案查询结果"),
    "integrity.entry_added": _l("登记诚信档案"), "roster.added": _l("登记任职信息"),
    "definition.deployed": _l("发布流程版本"), "definition.uploaded": _l("上传流程定义"),
    "definition.draft_saved": _l("保存流程草稿"), "definition.draft_discarded": _l("放弃流程草稿"),
    "definition.draft_imported": _l("上传的流程图存为草稿"),
    "migration.started": _l("开始迁移案件"), "migration.finished": _l("案件迁移完成"),
    "api_token.created": _l("创建接口令牌"), "api_token.revoked": _l("吊销接口令牌"),
    "api_token.revoked_all": _l("吊销全部接口令牌"), "user.activated": _l("激活账户"),
    "user.code_issued": _l("发放激活码"), "user.created": _l("创建账户"), "user.deactivated": _l("停用账户"),
    "user.edited": _l("修改账户"), "user.imported": _l("批量导入账户"), "user.password_changed": _l("修改密码"),
    "user.password_reset": _l("重置密码"), "user.reactivated": _l("恢复账户"),
    "user.roles_changed": _l("变更角色"), "user.sessions_ended": _l("退出全部登录"),
    "record.notified": _l("告知信用主体"),
    # the approval actions (workflows/approvals): each with its reason and the person it went to
    "approval.send_back": _l("退回"), "approval.withdraw": _l("撤回"), "approval.transfer": _l("转办"),
    "approval.delegate": _l("委派"), "approval.resolve": _l("办理完毕交回委派人"), "approval.add_signer": _l("加签"),
    "approval.remove_signer": _l("减签"), "approval.sign": _l("加签人签署意见"),
    "approval.signers_asked": _l("提交后等待加签人签署意见"), "approval.copy": _l("抄送"), "approval.urge": _l("催办"),
    "approval.countersign": _l("会签意见"), "approval.leave_set": _l("设置休假委托"),
    "approval.leave_cancelled": _l("取消休假委托"), "approval.policy_set": _l("设置审批权限"),
    "lookup.made": _l("逢办必查查询"), "lookup.outcome": _l("登记逢办必查办理结果"),
    "lookup.extract": _l("出具信用信息查询结果"), "user.department_set": _l("设置所属部门"),
}
ACTION.update({"commitment.registered": _l("登记公开承诺"), "commitment.published": _l("公示公开承诺"),   # commitments
               "commitment.reminded": _l("提醒承诺即将到期"), "commitment.not_reported": _l("乡镇逾期未报告履行情况"),
               "commitment.concluded": _l("承诺履行结论"), "commitment.record_opened": _l("启动失信记录认定")})
ACTION.update({"complaint.filed": _l("收到投诉"), "complaint.stage": _l("投诉办理阶段变更"),   # complaints
               "complaint.overdue": _l("投诉核查逾期")})
OUTCOME.update({"founded": _l("投诉属实"), "unfounded": _l("投诉不属实")})   # complaints
ACTION.update({"sharing.queued": _l("列入数据报送队列"), "sharing.exported": _l("导出报送批次"),   # sharing upward
               "sharing.ack_imported": _l("导入报送确认"), "sharing.retried": _l("重新报送"),
               "sharing.downloaded": _l("下载报送批次")})
# what a notification is about (Notification.kind)
NOTIFICATION = {"assigned": _l("任务交办"), "returned": _l("退回"), "transferred": _l("转办"), "delegated": _l("委派"),
                "resolved": _l("委派任务交回"), "signer_added": _l("请您加签"), "signer_answered": _l("加签意见"),
                "signer_removed": _l("加签撤销"), "copied": _l("抄送"), "urged": _l("催办"),
                "leave_deputy": _l("休假代办"), "countersign": _l("会签")}
NOTIFICATION.update({"commitment_due": _l("承诺即将到期"), "commitment_report": _l("报告承诺履行情况"),   # commitments
                     "commitment_concluded": _l("承诺履行结论"), "commitment_failed": _l("承诺未履行")})
PROCESS["integrity_evaluation"] = _l("政务诚信评价")   # the yearly evaluation (workflows/evaluation)
ACTION.update({"evaluation.opened": _l("开启年度诚信评价"), "evaluation.indicators_edited": _l("修改评价指标和权重"),
               "evaluation.started": _l("开始诚信评价"), "evaluation.survey_imported": _l("导入第三方评估得分"),
               "evaluation.computed": _l("计算诚信评价得分"), "evaluation.objections_opened": _l("开放评价异议期"),
               "evaluation.objection_filed": _l("部门提出评价异议"), "evaluation.objections_closed": _l("评价异议期届满"),
               "evaluation.objection_decided": _l("处理评价异议"), "evaluation.published": _l("公布诚信评价结果")})
ACTION["record.imported"] = _l("从表格批量导入")   # bulk import of records (workflows/record_import)
NOTIFICATION.update({"evaluation_result": _l("诚信评价结果"), "evaluation_published": _l("诚信评价结果已公布")})
# the system's own actors (workflows.runtime.Actor.system names) as people read them
ACTOR = {"timer-worker": _l("系统（定时任务）"), "cli": _l("系统（命令行）"), "demo": _l("系统（演示数据）"),
         "system": _l("系统"), "test": _l("系统（测试）"), "activation": _l("系统（账户激活）")}
ACTOR["public"] = _l("公众（投诉人）")   # a complaint filed on the public form (workflows/complaints)
# BPMN messages between a record's cases
MESSAGE = {"record_corrected": _l("记录已更正"), "record_repaired": _l("记录已信用修复"),
           "record_revoked": _l("记录已撤销")}
# the statutory calendar's holiday names (chinese_calendar.Holiday values)
HOLIDAY = {"New Year's Day": _l("元旦"), "Spring Festival": _l("春节"), "Tomb-sweeping Day": _l("清明节"),
           "Labour Day": _l("劳动节"), "Dragon Boat Festival": _l("端午节"), "National Day": _l("国庆节"),
           "Mid-autumn Festival": _l("中秋节"), "Anti-Fascist 70th Day": _l("中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日")}

# the publication rules (workflows.settings.PUBLICATION_RULES) by code; a rule a deployment adds
# shows the title its settings give
RULE = {"2019": _l("榆政办函〔2019〕1号（一般失信公示3至12个月，严重失信公示6至36个月）"),
        "2025": _l("信用修复管理办法（国家发展改革委令2025年第36号）")}

ALL = {"severity": SEVERITY, "field": FIELD, "source": SOURCE, "status": STATUS, "case_status": CASE_STATUS,
       "subject_kind": SUBJECT_KIND, "role": ROLE, "process": PROCESS, "action": ACTION, "outcome": OUTCOME,
       "holiday": HOLIDAY, "actor": ACTOR, "message": MESSAGE, "rule": RULE, "notification": NOTIFICATION}


def label(kind: str, code) -> str:
    """The display name of a code in the request's language (translated once per request)."""
    if code is None:
        return ""
    memo = g.setdefault("label_memo", {})
    key = (kind, code)
    if key not in memo:
        known = ALL.get(kind, {})
        if kind == "process" and code not in known:
            memo[key] = named(_deployed_name(code) or code)   # a process a manager deployed: its own name
        else:
            memo[key] = str(known.get(code, code))
    return memo[key]


def _deployed_name(key: str) -> str | None:
    from sqlalchemy import select
    from workflows.models import ProcessDefinition
    from .context import db
    return db().scalar(select(ProcessDefinition.name).where(ProcessDefinition.key == key)
                       .order_by(ProcessDefinition.version.desc()).limit(1))


def named(text) -> str:
    """A name the shipped processes give (a task's, a form field's or option's title), in the
    request's language: such names are catalog ids; a name a manager wrote shows as written."""
    if not text:
        return ""
    return str(request_translations().ugettext(str(text)))


def request_translations():
    """The request's message catalog, looked up once (Flask-Babel finds it through several
    context lookups per call, and a page makes a few hundred calls)."""
    if "translations" not in g:
        from flask_babel import get_translations
        g.translations = get_translations()
    return g.translations


def named_answer(value):
    """A step's answer: a choice's title (or several, joined by 、) in the request's language;
    anything the user typed as it stands."""
    if not isinstance(value, str):
        return value
    whole = named(value)
    if whole != value:
        return whole
    parts = value.split("、")
    if len(parts) > 1 and all(named(p) != p for p in parts):
        from flask_babel import gettext
        return gettext("、").join(named(p) for p in parts)
    return value


def rule_title(record) -> str:
    """A record's publication rule by its code; else the title kept with the record."""
    code = getattr(record, "publication_rule", None)
    if code in RULE:
        return label("rule", code)
    return (getattr(record, "rule_snapshot", None) or {}).get("title", code or "")


def actor_name(code: str, names: dict[str, str]) -> str:
    """Who did it: a user's display name, the system's own actors in words, else the user name."""
    if code in names:
        return names[code]
    return label("actor", code) if code in ACTOR else code
