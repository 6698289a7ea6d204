"""One change between two versions, and the words that say what kind of property it is."""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from ..messages import Message, N_

# kind -> what a manager reads (the kinds the comparison knows, in the order a list shows them)
KIND_WORDS = {
    "added": N_("新增元素"), "removed": N_("删除元素"), "type": N_("元素类型"), "name": N_("名称"),
    "lane": N_("泳道（角色）"), "form": N_("表单"), "deadline": N_("办理期限"), "dossier": N_("审批单字段"),
    "operation": N_("服务操作"), "parameter": N_("操作参数"), "condition": N_("条件"), "flow": N_("连线"),
    "timer": N_("定时器"), "script": N_("脚本"), "decision": N_("决策表"), "message": N_("消息"),
    "event": N_("事件设置"), "loop": N_("循环"), "call": N_("调用流程"), "documentation": N_("说明"),
    "other": N_("其他属性"), "layout": N_("布局"),
}
KIND_ORDER = {kind: n for n, kind in enumerate(KIND_WORDS)}

# detail code -> words; a detail not listed here is a name from the diagram (a parameter, a field)
DETAIL_WORDS = {
    "dueInWorkdays": N_("工作日数"), "dueAt": N_("截止时间表达式"), "file": N_("表单文件"),
    "uiFile": N_("表单界面文件"), "operation": N_("操作名"), "resultVariable": N_("结果变量"),
    "script": N_("脚本任务的脚本"), "preScript": N_("前置脚本"), "postScript": N_("后置脚本"),
    "scriptFormat": N_("脚本语言"), "timeDate": N_("时间点"), "timeDuration": N_("时长"),
    "timeCycle": N_("周期"), "source": N_("起点"), "target": N_("终点"), "default": N_("默认连线"),
    "attachedTo": N_("附着于"), "cancelActivity": N_("中断所附任务"), "eventDefinition": N_("事件定义"),
    "messageRef": N_("所用消息"), "role": N_("角色代码"), "calledDecisionId": N_("决策表编号"),
    "calledElement": N_("被调用流程"), "instructions": N_("办理说明"), "text": N_("注释文字"),
    "bounds": N_("位置与大小"), "waypoints": N_("连线路径"), "label": N_("标签位置"),
    "expanded": N_("展开"), "colour": N_("颜色"), "hitPolicy": N_("命中策略"), "order": N_("规则顺序"),
    "isSequential": N_("顺序执行"), "loopCardinality": N_("循环次数"),
    "completionCondition": N_("完成条件"), "loopCondition": N_("循环条件"), "description": N_("说明"),
    "messageVariable": N_("消息变量"), "messagePayload": N_("消息内容"), "payloadExpression": N_("消息内容表达式"),
}
TYPE_WORDS = {
    "userTask": N_("用户任务"), "serviceTask": N_("服务任务"), "scriptTask": N_("脚本任务"),
    "businessRuleTask": N_("规则任务"), "manualTask": N_("人工任务"), "task": N_("任务"),
    "sendTask": N_("发送任务"), "receiveTask": N_("接收任务"), "callActivity": N_("调用活动"),
    "subProcess": N_("子流程"), "startEvent": N_("开始事件"), "endEvent": N_("结束事件"),
    "intermediateCatchEvent": N_("中间捕获事件"), "intermediateThrowEvent": N_("中间抛出事件"),
    "boundaryEvent": N_("边界事件"), "exclusiveGateway": N_("排他网关"), "parallelGateway": N_("并行网关"),
    "inclusiveGateway": N_("包容网关"), "eventBasedGateway": N_("事件网关"), "sequenceFlow": N_("连线"),
    "messageFlow": N_("消息流"), "lane": N_("泳道"), "process": N_("流程"), "participant": N_("参与者"),
    "collaboration": N_("协作"), "message": N_("消息"), "signal": N_("信号"), "error": N_("错误"),
    "textAnnotation": N_("注释"), "association": N_("关联"), "dataObjectReference": N_("数据对象"),
    "form": N_("表单"), "decision": N_("决策表"),
}


def type_words(element_type: str) -> Message | str:
    """An element type in words (a type credflow does not name stays as BPMN calls it)."""
    return Message(TYPE_WORDS[element_type]) if element_type in TYPE_WORDS else element_type

FORM_KEY_WORDS = {
    "title": N_("标题"), "description": N_("说明"), "type": N_("类型"), "oneOf": N_("选项"),
    "anyOf": N_("选项"), "enum": N_("选项"), "required": N_("是否必填"), "format": N_("格式"),
    "minLength": N_("最短长度"), "maxLength": N_("最大长度"), "pattern": N_("格式规则"),
    "minimum": N_("最小值"), "maximum": N_("最大值"), "default": N_("默认值"), "x-widget": N_("控件"),
    "items": N_("列表项"), "minItems": N_("最少项数"), "maxItems": N_("最多项数"),
    "x-order": N_("字段顺序"), "additionalProperties": N_("是否允许其他字段"), "x-accept": N_("允许的文件类型"),
    "uniqueItems": N_("不可重复"), "allOf": N_("联动规则"), "const": N_("固定值"),
}
REQUIRED, OPTIONAL = N_("必填"), N_("选填")


@dataclass(frozen=True)
class Change:
    """`kind` is a key of KIND_WORDS; `detail` says which property of that kind (a DETAIL_WORDS key,
    a parameter or decision column's name, `field:<path>:<key>` of a form); `old`/`new` are None
    when the property (or the element, for added/removed) is absent on that side."""
    element_id: str
    element_name: str
    element_type: str
    kind: str
    detail: str = ""
    old: str | Message | None = None
    new: str | Message | None = None
    marks: tuple[str, ...] = field(default=(), compare=False)   # diagram elements to colour

    @property
    def kind_words(self) -> Message:
        return Message(KIND_WORDS.get(self.kind, KIND_WORDS["other"]))

    @property
    def what(self) -> Message | str:
        """The property within its kind, in words ("" when the kind says it all)."""
        detail = self.detail
        if detail.startswith("field:"):
            path, _, key = detail[len("field:"):].rpartition(":")
            if not key:
                return Message(N_("字段 %(field)s"), field=path)
            return Message(N_("字段 %(field)s 的%(property)s"), field=path,
                           property=Message(FORM_KEY_WORDS[key]) if key in FORM_KEY_WORDS else key)
        if detail.startswith("form:"):
            key = detail[len("form:"):]
            return Message(N_("表单本身的%(property)s"),
                           property=Message(FORM_KEY_WORDS[key]) if key in FORM_KEY_WORDS else key)
        if detail.startswith(("input:", "output:")):
            side, _, column = detail.partition(":")
            return Message(N_("输入列 %(column)s") if side == "input" else N_("输出列 %(column)s"), column=column)
        if detail.startswith("rule:"):
            _, number, column = detail.split(":", 2)
            if not column:
                return Message(N_("第 %(number)s 条规则"), number=number)
            return Message(N_("第 %(number)s 条规则 · %(column)s"), number=number,
                           column=Message(DETAIL_WORDS[column]) if column in DETAIL_WORDS else column)
        if detail in DETAIL_WORDS:
            return Message(DETAIL_WORDS[detail])
        return detail

    @property
    def lines(self) -> list[tuple[str, str]]:
        """A code change of several lines, line by line: ("-", removed), ("+", added), (" ", kept);
        empty when either side is a single line or absent (the two values are shown whole)."""
        if not (isinstance(self.old, str) and isinstance(self.new, str) and "\n" in self.old + self.new):
            return []
        return [(line[0], line[2:]) for line in difflib.ndiff(self.old.split("\n"), self.new.split("\n"))
                if line[0] in "-+ "]

    @property
    def is_element_change(self) -> bool:
        return self.kind in ("added", "removed")


def sort_key(change: Change):
    return KIND_ORDER.get(change.kind, len(KIND_ORDER))   # within a kind, as the diagram orders them
