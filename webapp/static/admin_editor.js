// The BPMN editor for process managers: a bpmn-js modeler with a properties panel in our terms,
// a form editor, and draft / validate / deploy against the admin JSON API.
// Plain JavaScript on top of the vendored bpmn-js bundle (global BpmnJS); no build step.
(function () {
  'use strict';

  const root = document.getElementById('editor-root');
  if (!root) return;

  // Every word this script writes comes from the page, in the page's language: the root's
  // data-text maps each catalog id (the Chinese text) to its translation (webapp/admin/editor_text.py);
  // `{name}` in a text is replaced by params.name.
  const TEXT = JSON.parse(root.dataset.text || '{}');
  const t = (id, params) => Object.entries(params || {}).reduce(
    (out, [k, v]) => out.split(`{${k}}`).join(String(v)), TEXT[id] || id);

  const URLS = root.dataset;
  const CSRF = (document.querySelector('meta[name="csrf-token"]') || {}).content || '';
  const FORM_PROPERTY = 'formJsonSchemaFilename';
  const DUE_PROPERTY = 'dueInWorkdays';
  const DUE_AT_PROPERTY = 'dueAt';
  const DOSSIER_PROPERTY = 'dossierFields';
  const ROLE_LABELS = { clerk: t('承办人'), reviewer: t('审核人'), leader: t('分管领导') };
  const NEW_FORM = '__new__';
  const AUTOSAVE_MS = 30000;
  const TYPE_LABELS = {
    'bpmn:UserTask': t('用户任务'), 'bpmn:ServiceTask': t('服务任务'), 'bpmn:ScriptTask': t('脚本任务'),
    'bpmn:BusinessRuleTask': t('业务规则任务（决策表）'), 'bpmn:Task': t('任务（未指定类型）'), 'bpmn:ManualTask': t('手工任务'),
    'bpmn:SendTask': t('发送任务'), 'bpmn:ReceiveTask': t('接收任务'), 'bpmn:CallActivity': t('调用活动'),
    'bpmn:SubProcess': t('子流程'), 'bpmn:Transaction': t('事务子流程'),
    'bpmn:ExclusiveGateway': t('排他网关'), 'bpmn:InclusiveGateway': t('包容网关'), 'bpmn:ParallelGateway': t('并行网关'),
    'bpmn:EventBasedGateway': t('事件网关'), 'bpmn:ComplexGateway': t('复杂网关'),
    'bpmn:StartEvent': t('开始事件'), 'bpmn:EndEvent': t('结束事件'), 'bpmn:IntermediateCatchEvent': t('中间捕获事件'),
    'bpmn:IntermediateThrowEvent': t('中间抛出事件'), 'bpmn:BoundaryEvent': t('边界事件'),
    'bpmn:SequenceFlow': t('连线（顺序流）'), 'bpmn:Lane': t('泳道（角色）'), 'bpmn:Participant': t('流程（池）'),
    'bpmn:Process': t('流程'), 'bpmn:Collaboration': t('流程'), 'bpmn:TextAnnotation': t('注释'), 'bpmn:Association': t('关联'),
    'bpmn:DataObjectReference': t('数据对象'), 'bpmn:DataStoreReference': t('数据存储'), 'bpmn:Group': t('分组'),
    'bpmn:MessageFlow': t('消息流'),
  };
  // Elements credflow refuses on deploy (see workflows/engine/prescan.py UNSUPPORTED)
  const UNSUPPORTED = ['bpmn:ComplexGateway', 'bpmn:Transaction', 'bpmn:AdHocSubProcess', 'bpmn:CallActivity',
                       'bpmn:SendTask', 'bpmn:ReceiveTask', 'bpmn:DataStoreReference'];
  // Namespaces of other engines' settings (see workflows/engine/foreign.py): shown, and removable
  const VENDOR_NAMESPACES = { 'http://camunda.org/schema/1.0/bpmn': 'Camunda', 'http://camunda.org/schema/zeebe/1.0': 'Zeebe',
                              'http://flowable.org/bpmn': 'Flowable', 'http://activiti.org/bpmn': 'Activiti' };
  const UNSUPPORTED_DEFINITIONS = ['bpmn:CompensateEventDefinition', 'bpmn:ConditionalEventDefinition',
                                   'bpmn:SignalEventDefinition'];
  const TIMER_KINDS = [['timeDate', t('日期时间（timeDate）')], ['timeDuration', t('时长（timeDuration）')],
                       ['timeCycle', t('周期（timeCycle）')]];

  const $ = (sel, el) => (el || document).querySelector(sel);
  const canvasEl = $('#canvas');
  const panel = $('#properties');
  const statusEl = $('#status');
  const buttons = { save: $('#save-draft'), validate: $('#validate'), deploy: $('#deploy'),
                    discard: $('#discard-draft'), undo: $('#undo'), redo: $('#redo') };

  const state = {
    loaded: false, busy: false, dirty: false, changeSeq: 0,
    forms: {}, formText: {}, formErrors: {}, currentForm: null, previewPending: null,
    baseVersion: null, isDraft: false, operations: [], opsByName: {}, template: null,
    committing: 0, problems: [],
  };
  const pendingCommits = new Set();

  // -- small helpers ----------------------------------------------------------------------------

  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'value') el.value = v;
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const kid of kids.flat(Infinity)) {
      if (kid === null || kid === undefined || kid === false) continue;
      el.append(kid.nodeType ? kid : document.createTextNode(String(kid)));
    }
    return el;
  }

  async function api(url, options) {
    const { method = 'GET', json } = options || {};
    const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (method !== 'GET') init.headers['X-CSRFToken'] = CSRF;
    if (json !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(json);
    }
    let resp;
    try {
      resp = await fetch(url, init);
    } catch (err) {
      return { status: 0, ok: false, data: null, error: t('网络错误：') + err.message };
    }
    let data = null;
    try { data = await resp.json(); } catch (err) { data = null; }
    let error = null;
    if (!resp.ok && !(data && (data.problems || data.error))) {
      error = resp.status === 403 ? t('没有权限（403），请重新登录') : resp.status === 400
        ? t('请求被拒绝（400），页面可能已过期，请刷新') : t('服务器错误（{status}）', { status: resp.status });
    } else if (resp.ok && data === null) {
      error = t('登录已过期，请刷新页面重新登录');
    }
    return { status: resp.status, ok: resp.ok && data !== null, data, error };
  }

  function hhmm(iso) {
    const d = iso ? new Date(iso) : new Date();
    return d.toLocaleTimeString(document.documentElement.lang || 'zh-CN', { hour: '2-digit', minute: '2-digit', hour12: false, timeZone: 'Asia/Shanghai' });
  }

  function setStatus(text, kind, link) {
    statusEl.replaceChildren(text);
    statusEl.className = 'ms-auto ' + ({ ok: 'text-success', bad: 'text-danger', warn: 'text-warning-emphasis' }[kind]
      || 'text-body-secondary');
    if (link) statusEl.append(' ', h('a', { href: link.href, id: 'status-link' }, link.text));
  }

  function debounce(fn, ms) {
    let timer = null;
    return function (...args) {
      clearTimeout(timer);
      timer = setTimeout(() => fn.apply(this, args), ms);
    };
  }

  // -- the modeler --------------------------------------------------------------------------------

  let modeler, modeling, moddle, elementRegistry, commandStack, canvas, selection, overlays;

  function is(element, type) {
    const bo = element && (element.businessObject || element);
    return !!(bo && typeof bo.$instanceOf === 'function' && bo.$instanceOf(type));
  }

  function typeOf(element) {
    const bo = element.businessObject || element;
    return bo.$type;
  }

  // Several model updates as one undoable step.
  function MultiCommandHandler(stack) { this._stack = stack; }
  MultiCommandHandler.$inject = ['commandStack'];
  MultiCommandHandler.prototype.preExecute = function (context) {
    context.commands.forEach(([cmd, ctx]) => this._stack.execute(cmd, ctx));
  };

  // Run commands coming from the properties panel without re-rendering the panel under the cursor.
  function run(commands) {
    if (!commands.length) return;
    state.committing++;
    try {
      if (commands.length === 1) commandStack.execute(commands[0][0], commands[0][1]);
      else commandStack.execute('cf.multi', { commands });
    } finally {
      state.committing--;
    }
  }

  const updateModdle = (element, moddleElement, properties) =>
    ['element.updateModdleProperties', { element, moddleElement, properties }];

  function extensionValues(bo) {
    return (bo && bo.extensionElements && bo.extensionElements.get('values')) || [];
  }

  function findExtension(bo, type) {
    return extensionValues(bo).find((v) => v.$instanceOf && v.$instanceOf(type));
  }

  // The bo's extensionElements, created (by a queued command) when missing.
  function ensureExtensionElements(element, bo, commands) {
    let ext = bo.extensionElements;
    if (!ext) {
      ext = moddle.create('bpmn:ExtensionElements', { values: [] });
      ext.$parent = bo;
      commands.push(updateModdle(element, bo, { extensionElements: ext }));
    }
    return ext;
  }

  function addExtension(element, bo, item, commands) {
    const ext = ensureExtensionElements(element, bo, commands);
    item.$parent = ext;
    commands.push(updateModdle(element, ext, { values: [...ext.get('values'), item] }));
  }

  function removeExtension(element, bo, item, commands) {
    const ext = bo.extensionElements;
    if (!ext) return;
    commands.push(updateModdle(element, ext, { values: ext.get('values').filter((v) => v !== item) }));
  }

  // spiffworkflow:preScript, postScript, calledDecisionId, messageVariable, ...: elements with a text body
  function bodyExtension(bo, type) {
    const item = findExtension(bo, type);
    return item ? (item.value || '') : '';
  }

  function setBodyExtension(element, bo, type, text) {
    const commands = [];
    const item = findExtension(bo, type);
    if (!text.trim()) {
      if (item) removeExtension(element, bo, item, commands);
    } else if (item) {
      if (item.value !== text) commands.push(updateModdle(element, item, { value: text }));
    } else {
      addExtension(element, bo, moddle.create(type, { value: text }), commands);
    }
    run(commands);
  }

  // spiffworkflow:properties / property name=... value=...
  function spiffProperty(bo, name) {
    const props = findExtension(bo, 'spiffworkflow:Properties');
    const prop = props && props.get('properties').find((p) => p.name === name);
    return prop ? prop.value : undefined;
  }

  function setSpiffProperty(element, name, value) {
    const bo = element.businessObject;
    const commands = [];
    let props = findExtension(bo, 'spiffworkflow:Properties');
    const prop = props && props.get('properties').find((p) => p.name === name);
    const empty = value === undefined || value === null || String(value).trim() === '';
    if (empty) {
      if (prop) commands.push(updateModdle(element, props, { properties: props.get('properties').filter((p) => p !== prop) }));
    } else if (prop) {
      if (prop.value !== String(value)) commands.push(updateModdle(element, prop, { value: String(value) }));
    } else {
      const created = moddle.create('spiffworkflow:Property', { name, value: String(value) });
      if (!props) {
        props = moddle.create('spiffworkflow:Properties', { properties: [created] });
        created.$parent = props;
        addExtension(element, bo, props, commands);
      } else {
        created.$parent = props;
        commands.push(updateModdle(element, props, { properties: [...props.get('properties'), created] }));
      }
    }
    run(commands);
  }

  // -- lanes: the role of a task ------------------------------------------------------------------

  function laneOf(element) {
    const bo = element.businessObject;
    const lanes = elementRegistry.filter((e) => is(e, 'bpmn:Lane') && (e.businessObject.get('flowNodeRef') || []).includes(bo));
    // the innermost lane when lanes are nested
    return lanes.find((l) => {
      const child = l.businessObject.childLaneSet;
      return !(child && child.get('lanes').some((c) => (c.get('flowNodeRef') || []).includes(bo)));
    }) || null;
  }

  function roleText(name) {
    return ROLE_LABELS[name] ? t('{role}（{code}）', { role: ROLE_LABELS[name], code: name }) : name;
  }

  // -- live sandbox checks -----------------------------------------------------------------------

  function setCheck(out, kind, text) {
    out.className = 'cf-check ' + kind;
    out.dataset.state = kind;
    out.textContent = text;
  }

  // A line under an input saying whether the sandbox accepts it (✓) or why not, as the manager types.
  function liveCheck(input, mode, opts) {
    const { allowEmpty = false, emptyText = t('（无条件）') } = opts || {};
    const out = h('div', { class: 'cf-check', 'data-check-for': input.id });
    let seq = 0;
    const check = async () => {
      const source = input.value;
      const mine = ++seq;
      if (!source.trim()) {
        if (allowEmpty) setCheck(out, 'none', emptyText);
        else setCheck(out, 'bad', t('✗ 请填写表达式'));
        return;
      }
      setCheck(out, 'pending', t('检查中…'));
      const r = await api(URLS.checkUrl, { method: 'POST',
                                           json: { source, mode: typeof mode === 'function' ? mode() : mode } });
      if (mine !== seq) return;
      if (r.ok) setCheck(out, r.data.ok ? 'ok' : 'bad', r.data.ok ? t('✓ 沙箱检查通过') : '✗ ' + r.data.error);
      else setCheck(out, 'bad', '✗ ' + (r.error || t('检查失败')));
    };
    input.addEventListener('input', debounce(check, 300));
    check();
    return out;
  }

  // Write a text input into the model while typing (debounced) and at once on change/blur.
  function bindCommit(input, commit) {
    let timer = null;
    const flush = () => {
      clearTimeout(timer);
      timer = null;
      pendingCommits.delete(flush);
      commit(input.value);
    };
    input.addEventListener('input', () => {
      clearTimeout(timer);
      pendingCommits.add(flush);
      timer = setTimeout(flush, 600);
    });
    input.addEventListener('change', () => { if (pendingCommits.has(flush) || timer === null) flush(); });
    return input;
  }

  function flushPending() {
    [...pendingCommits].forEach((fn) => {
      try {
        fn();
      } catch (err) {  // the element was deleted meanwhile: nothing to write into
        pendingCommits.delete(fn);
        console.warn('property not written', err);
      }
    });
  }

  // -- the properties panel ----------------------------------------------------------------------

  function field(label, control, ...extra) {
    return h('div', { class: 'mb-2' }, h('label', { class: 'form-label', for: control.id || null }, label), control, extra);
  }

  function hint(text, cls) {
    return h('div', { class: 'cf-hint ' + (cls || '') }, text);
  }

  function textInput(id, value, attrs) {
    return h('input', Object.assign({ class: 'form-control form-control-sm', id, type: 'text', value: value || '' }, attrs || {}));
  }

  function codeArea(id, value, rows) {
    return h('textarea', { class: 'form-control form-control-sm cf-code', id, rows: rows || 2, spellcheck: 'false', value: value || '' });
  }

  function selectedElement() {
    const sel = selection.get();
    return sel.length === 1 ? sel[0] : null;
  }

  function renderPanel() {
    flushPending();
    const element = selectedElement();
    panel.replaceChildren();
    if (!element || element.type === 'label') {
      const target = element && element.labelTarget;
      if (target) { selection.select(target); return; }
      renderRoot();
      return;
    }
    panel.dataset.element = element.id;
    const type = typeOf(element);
    panel.append(h('div', { class: 'd-flex align-items-baseline gap-2 mb-2' },
      h('span', { class: 'badge text-bg-secondary', id: 'prop-type', 'data-type': type }, TYPE_LABELS[type] || type),
      h('code', { class: 'small text-truncate', title: element.id }, element.id)));
    if (UNSUPPORTED.includes(type) || (element.businessObject.eventDefinitions || []).some(
      (d) => UNSUPPORTED_DEFINITIONS.includes(d.$type))) {
      panel.append(h('div', { class: 'alert alert-danger py-1 px-2 small' }, t('credflow 不能运行这种元素，部署会被拒绝。请删除或换成其他元素。')));
    }
    renderCommon(element);
    renderVendorSettings(element, element.businessObject);
    if (is(element, 'bpmn:Participant') && element.businessObject.processRef) {
      renderVendorSettings(element, element.businessObject.processRef);
    }
    if (is(element, 'bpmn:UserTask')) renderUserTask(element);
    else if (is(element, 'bpmn:ServiceTask')) renderServiceTask(element);
    else if (is(element, 'bpmn:ScriptTask')) renderScriptTask(element);
    else if (is(element, 'bpmn:BusinessRuleTask')) renderBusinessRuleTask(element);
    else if (type === 'bpmn:Task') panel.append(hint(t('没有类型的任务只会直接通过。点击任务旁的扳手图标，把它改为用户任务、服务任务或脚本任务。'), 'text-warning-emphasis mb-2'));
    if (is(element, 'bpmn:ExclusiveGateway') || is(element, 'bpmn:InclusiveGateway')) renderGateway(element);
    else if (is(element, 'bpmn:ParallelGateway')) panel.append(hint(t('并行网关：所有出口连线同时执行，连线没有条件。')));
    if (is(element, 'bpmn:SequenceFlow')) renderSequenceFlow(element);
    if (is(element, 'bpmn:Event')) renderEvent(element);
    if (is(element, 'bpmn:Lane')) renderLane(element);
    if (is(element, 'bpmn:Activity') && !is(element, 'bpmn:SubProcess')) renderScripts(element);
  }

  function renderRoot() {
    delete panel.dataset.element;
    const rootElement = canvas.getRootElement();
    const participants = elementRegistry.filter((e) => is(e, 'bpmn:Participant'));
    const process = participants.length ? participants[0].businessObject.processRef : rootElement.businessObject;
    const counts = {};
    elementRegistry.forEach((e) => {
      if (is(e, 'bpmn:UserTask')) counts.user = (counts.user || 0) + 1;
      else if (is(e, 'bpmn:ServiceTask')) counts.service = (counts.service || 0) + 1;
      else if (is(e, 'bpmn:Gateway')) counts.gateway = (counts.gateway || 0) + 1;
    });
    panel.append(
      h('p', { class: 'mb-1 fw-semibold' }, (process && process.name) || URLS.key),
      h('p', { class: 'small text-body-secondary mb-2' }, t('流程 ID {id} · 用户任务 {user} · 服务任务 {service} · 网关 {gateway}', { id: process ? process.id : '', user: counts.user || 0, service: counts.service || 0, gateway: counts.gateway || 0 })),
      h('p', { class: 'small mb-1' }, t('在流程图中点击一个元素，在这里编辑它的属性：')),
      h('ul', { class: 'small ps-3 mb-2' },
        h('li', null, t('用户任务：名称、表单、办理期限；角色由任务所在的泳道决定')),
        h('li', null, t('服务任务：调用的操作及其参数（Python 表达式）')),
        h('li', null, t('网关与连线：条件（Python 表达式）')),
        h('li', null, t('定时事件：时间表达式；脚本任务：脚本'))),
      hint(t('表达式和脚本在沙箱中运行，输入时即检查。左侧工具栏可添加元素；点击元素后旁边的图标可追加、连接或更改类型。')));
    if (process) renderVendorSettings(participants.length ? participants[0] : rootElement, process);
  }

  // -- settings for other engines (Camunda, Flowable ...): listed, and removed with one click -----

  function vendorSettings(bo) {
    const defs = modeler.getDefinitions();
    const declared = (defs && defs.$attrs) || {};
    const prefixes = Object.keys(declared).filter((k) => k.startsWith('xmlns:') && VENDOR_NAMESPACES[declared[k]])
      .map((k) => k.slice(6));
    const ofVendor = (name) => prefixes.some((prefix) => String(name).startsWith(prefix + ':'));
    return { attrs: Object.keys(bo.$attrs || {}).filter(ofVendor),
             items: extensionValues(bo).filter((v) => ofVendor(v.$type)) };
  }

  function renderVendorSettings(element, bo) {
    const { attrs, items } = vendorSettings(bo);
    if (!attrs.length && !items.length) return;
    const shown = [...attrs.map((a) => `${a}="${bo.$attrs[a]}"`), ...items.map((v) => `<${v.$type}>`)];
    const remove = h('button', { type: 'button', class: 'btn btn-sm btn-outline-danger mt-1', 'data-remove-vendor': bo.id },
      t('移除这些设置'));
    remove.addEventListener('click', () => {
      const commands = [];
      if (attrs.length) commands.push(updateModdle(element, bo, Object.fromEntries(attrs.map((a) => [a, undefined]))));
      if (items.length) {
        commands.push(updateModdle(element, bo.extensionElements,
          { values: extensionValues(bo).filter((v) => !items.includes(v)) }));
      }
      run(commands);
      renderPanel();
    });
    panel.append(h('div', { class: 'alert alert-warning py-1 px-2 small', 'data-vendor-settings': bo.id },
      h('div', { class: 'fw-semibold' }, t('其他引擎的设置，credflow 不会执行：')),
      h('ul', { class: 'mb-1 ps-3 font-monospace text-break' }, shown.map((n) => h('li', null, n))),
      h('div', null, t('角色由任务所在的泳道决定，表单在“表单”页编辑，服务任务调用 credflow 的操作。')), remove));
  }

  function renderCommon(element) {
    const bo = element.businessObject;
    const name = textInput('prop-name', bo.name);
    bindCommit(name, (value) => {
      if ((bo.name || '') === value) return;
      state.committing++;
      try { modeling.updateLabel(element, value || null); } finally { state.committing--; }
    });
    panel.append(field(t('名称'), name));
    if (is(element, 'bpmn:FlowNode') || is(element, 'bpmn:SequenceFlow')) {
      const idInput = textInput('prop-id', element.id, { class: 'form-control form-control-sm font-monospace' });
      const idError = h('div', { class: 'cf-check', 'data-check-for': 'prop-id' });
      idInput.addEventListener('change', () => {
        const value = idInput.value.trim();
        if (value === element.id) { setCheck(idError, '', ''); return; }
        const problem = idProblem(value);
        if (problem) { setCheck(idError, 'bad', '✗ ' + problem); return; }
        setCheck(idError, '', '');
        run([['element.updateProperties', { element, properties: { id: value } }]]);
        if (is(element, 'bpmn:UserTask') && spiffProperty(bo, CS_PROPERTY)) writeCountersign(element);   // names follow the id
        renderPanel();
      });
      panel.append(field('ID', idInput, idError, hint(t('流程内唯一，字母开头，只用字母、数字、下划线；运行中的案件靠它识别任务。'))));
    }
  }

  function idProblem(value) {
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(value)) return t('ID 须以字母或下划线开头，只含字母、数字、下划线、点和连字符');
    if (moddle.ids.assigned(value) || elementRegistry.get(value)) return t('ID「{id}」已被使用', { id: value });
    const extensionIds = new Set();
    elementRegistry.forEach((e) => {
      const op = e.businessObject && findExtension(e.businessObject, 'spiffworkflow:ServiceTaskOperator');
      if (op) {
        extensionIds.add(op.id);
        if (op.parameters) op.parameters.get('parameters').forEach((p) => extensionIds.add(p.id));
      }
    });
    if (extensionIds.has(value)) return t('「{name}」是服务操作或参数的名称，请换一个 ID', { name: value });
    return null;
  }

  function renderUserTask(element) {
    const bo = element.businessObject;
    const lane = laneOf(element);
    const laneName = lane ? (lane.businessObject.name || '') : '';
    const laneBox = h('div', { id: 'prop-lane', 'data-lane': laneName, class: 'form-control-plaintext py-0 fw-semibold' },
      lane ? roleText(laneName) : t('不在任何泳道'));
    const laneNotes = [hint(t('角色就是任务所在的泳道：在流程图上把任务拖到另一条泳道即可更换办理角色。'))];
    if (!lane) laneNotes.unshift(hint(t('用户任务必须放在某个角色的泳道里，否则无人能办理。'), 'text-danger'));
    else if (!ROLE_LABELS[laneName]) laneNotes.unshift(hint(t('泳道名「{name}」不是角色（clerk、reviewer、leader），部署会被拒绝。', { name: laneName }), 'text-danger'));
    panel.append(h('div', { class: 'mb-2' }, h('div', { class: 'form-label' }, t('办理角色（泳道）')), laneBox, laneNotes));

    // the form
    const current = spiffProperty(bo, FORM_PROPERTY) || '';
    const select = h('select', { class: 'form-select form-select-sm', id: 'prop-form' },
      h('option', { value: '' }, t('（未设置表单）')),
      Object.keys(state.forms).sort().map((f) => h('option', { value: f }, f + (state.formErrors[f] ? t('（有错误）') : ''))),
      current && !state.forms[current] ? h('option', { value: current }, current + t('（文件不存在）')) : null,
      h('option', { value: NEW_FORM }, t('＋ 新建表单…')));
    select.value = current;
    const newBox = h('div', { class: 'input-group input-group-sm mt-1 d-none', id: 'new-form-box' });
    const newName = textInput('new-form-name', `${element.id}.json`, { 'aria-label': t('新表单文件名') });
    const newError = h('div', { class: 'cf-check', 'data-check-for': 'new-form-name' });
    const create = h('button', { type: 'button', class: 'btn btn-outline-primary', id: 'create-form' }, t('创建'));
    newBox.append(newName, create);
    const editButton = h('button', { type: 'button', class: 'btn btn-link btn-sm p-0', id: 'edit-form', disabled: !state.forms[current] },
      t('在表单编辑器中打开'));
    select.addEventListener('change', () => {
      if (select.value === NEW_FORM) {
        newBox.classList.remove('d-none');
        newName.value = `${element.id}.json`;
        newName.focus();
        newName.select();
        return;
      }
      newBox.classList.add('d-none');
      setSpiffProperty(element, FORM_PROPERTY, select.value);
      editButton.disabled = !state.forms[select.value];
    });
    const doCreate = async () => {
      const name = newName.value.trim();
      const problem = formNameProblem(name);
      if (problem) { setCheck(newError, 'bad', '✗ ' + problem); return; }
      create.disabled = true;
      try {
        await createForm(name, bo.name);
      } catch (err) {
        setCheck(newError, 'bad', '✗ ' + err.message);
        create.disabled = false;
        return;
      }
      setSpiffProperty(element, FORM_PROPERTY, name);
      renderPanel();
    };
    create.addEventListener('click', doCreate);
    newName.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); doCreate(); } });
    editButton.addEventListener('click', () => { showForm(select.value); showPane('form-editor'); });
    panel.append(field(t('表单'), select, newBox, newError, h('div', { class: 'd-flex gap-2 align-items-baseline' },
      hint(t('新建表单以模板开始，随后可在「表单」页编辑。')), editButton)));

    // deadlines
    const due = textInput('prop-due', spiffProperty(bo, DUE_PROPERTY) || '', { inputmode: 'numeric', class: 'form-control form-control-sm w-50' });
    const dueError = h('div', { class: 'cf-check', 'data-check-for': 'prop-due' });
    bindCommit(due, (value) => {
      const v = value.trim();
      if (v && !/^\d+$/.test(v)) { setCheck(dueError, 'bad', t('✗ 须为整数个工作日')); return; }
      setCheck(dueError, '', '');
      setSpiffProperty(element, DUE_PROPERTY, v);
    });
    panel.append(field(t('办理期限（工作日）'), due, dueError, hint(t('留空则使用系统默认期限；按法定工作日（含调休）计算。'))));
    const dueAt = codeArea('prop-due-at', spiffProperty(bo, DUE_AT_PROPERTY) || '', 1);
    bindCommit(dueAt, (value) => setSpiffProperty(element, DUE_AT_PROPERTY, value.trim()));
    panel.append(field(t('截止时间表达式（dueAt，可选）'), dueAt,
      liveCheck(dueAt, 'eval', { allowEmpty: true, emptyText: t('（未设置）') }), hint(t('给出 ISO 时间的 Python 表达式，优先于工作日期限。'))));

    // the dossier (审批单): which earlier fields the task page shows above the form, in order
    const dossier = textInput('prop-dossier', spiffProperty(bo, DOSSIER_PROPERTY) || '',
      { class: 'form-control form-control-sm font-monospace', placeholder: t('（默认：此前各环节的全部字段）') });
    const dossierCheck = h('div', { class: 'cf-check', 'data-check-for': 'prop-dossier' });
    const known = new Set(Object.values(state.forms).flatMap((f) => Object.keys((f && f.properties) || {})));
    const checkDossier = (value) => {
      const names = dossierNames(value);
      const unknown = names.filter((n) => !known.has(n));
      if (unknown.length) setCheck(dossierCheck, 'bad', t('✗ 没有表单含有字段：') + unknown.join(t('、')));
      else setCheck(dossierCheck, names.length ? 'ok' : 'none', names.length ? '✓ ' + names.join(' → ') : t('（默认）'));
    };
    bindCommit(dossier, (value) => {
      checkDossier(value);
      setSpiffProperty(element, DOSSIER_PROPERTY, dossierNames(value).join(','));
    });
    checkDossier(dossier.value);
    panel.append(field(t('审批单显示的字段（dossierFields）'), dossier, dossierCheck,
      hint(t('以逗号分隔的此前表单字段名，按此顺序显示在任务页的表单上方；留空则显示此前各环节的全部字段。部署时检查每个字段都出自此前的表单。'))));
    renderCountersign(element);
  }

  // -- 会签 countersign: a user task run once per person, finished by a rule ------------------------
  // The properties, the multi-instance loop and the scripts written here are what
  // workflows/approvals/countersign_rule.py (bpmn_parts) describes and deploy checks.
  const CS_PROPERTY = 'countersign';
  const CS_RATIO = 'countersignRatio';
  const CS_SIGNERS = 'countersigners';
  const CS_RULES = [['', t('不会签（一人办理）')], ['all', t('会签：全部同意才通过')], ['any', t('或签：一人同意即通过')],
                    ['sequential', t('依次审批：按顺序逐一同意')], ['ratio', t('比例：同意人数达到比例即通过')]];
  const CS_LINE = /^\s*\w+_(signers\s*=\s*countersigners\(.*\)|answers\s*=\s*\[\s*\]|passed\s*=\s*countersign_passed\(.*\))\s*$/;

  function csEntries(value) {
    return [...new Set(String(value || '').split(/[,\uff0c;\uff1b\u3001\s]+/).map((n) => n.trim()).filter(Boolean))];
  }

  function csRatioOk(value) {
    const text = String(value || '').trim();
    const m = /^(\d+(?:\.\d+)?)(?:\/(\d+(?:\.\d+)?)|(%))?$/.exec(text);
    if (!m) return false;
    const r = m[2] ? Number(m[1]) / Number(m[2]) : m[3] ? Number(m[1]) / 100 : Number(m[1]);
    return r > 0 && r <= 1;
  }

  function csNames(id) {
    return { signers: `${id}_signers`, signer: `${id}_signer`, answers: `${id}_answers`, decision: `${id}_decision`,
             passed: `${id}_passed` };
  }

  // The task's countersign, as its properties say, written into the loop and the scripts (or removed).
  function writeCountersign(element) {
    const bo = element.businessObject;
    const rule = spiffProperty(bo, CS_PROPERTY) || '';
    const n = csNames(element.id);
    const call = (name) => `${name}("${rule}", ${n.answers}, ${n.signers}` +
      (rule === 'ratio' ? `, "${(spiffProperty(bo, CS_RATIO) || '').trim()}"` : '') + ')';
    const loop = bo.loopCharacteristics;
    let mi;
    if (rule) {
      const item = (type, id) => moddle.create(type, { id, name: id });
      mi = moddle.create('bpmn:MultiInstanceLoopCharacteristics', {
        isSequential: rule === 'sequential',
        loopDataInputRef: moddle.create('bpmn:ItemAwareElement', { id: n.signers }),
        loopDataOutputRef: moddle.create('bpmn:ItemAwareElement', { id: n.answers }),
        inputDataItem: item('bpmn:DataInput', n.signer), outputDataItem: item('bpmn:DataOutput', n.decision),
        completionCondition: moddle.create('bpmn:FormalExpression', { body: call('countersign_finished') }) });
      mi.$parent = bo;
      ['inputDataItem', 'outputDataItem', 'completionCondition'].forEach((k) => { mi[k].$parent = mi; });
    }
    if (mi || (loop && is(loop, 'bpmn:MultiInstanceLoopCharacteristics'))) {
      run([['element.updateProperties', { element, properties: { loopCharacteristics: mi } }]]);
    }
    const own = (type) => bodyExtension(bo, type).split('\n').filter((line) => !CS_LINE.test(line));
    const pre = rule ? [`${n.signers} = countersigners("${csEntries(spiffProperty(bo, CS_SIGNERS)).join(',')}")`,
                        `${n.answers} = []`] : [];
    const lines = (list) => list.join('\n').replace(/^\n+|\n+$/g, '');
    setBodyExtension(element, bo, 'spiffworkflow:PreScript', lines([...pre, ...own('spiffworkflow:PreScript')]));
    const post = rule ? [`${n.passed} = ${call('countersign_passed')}`] : [];
    setBodyExtension(element, bo, 'spiffworkflow:PostScript', lines([...own('spiffworkflow:PostScript'), ...post]));
  }

  function renderCountersign(element) {
    const bo = element.businessObject;
    const rule = spiffProperty(bo, CS_PROPERTY) || '';
    const n = csNames(element.id);
    const select = h('select', { class: 'form-select form-select-sm', id: 'prop-countersign' },
      CS_RULES.map(([value, label]) => h('option', { value }, label)));
    select.value = rule;
    const box = h('details', { class: 'mb-2', open: !!rule, id: 'countersign-box' },
      h('summary', { class: 'small fw-semibold' }, t('会签（多人审批）')), field(t('会签规则'), select));
    select.addEventListener('change', () => {
      flushPending();
      setSpiffProperty(element, CS_PROPERTY, select.value);
      if (select.value !== 'ratio') setSpiffProperty(element, CS_RATIO, '');
      if (!select.value) setSpiffProperty(element, CS_SIGNERS, '');
      writeCountersign(element);
      renderPanel();
    });
    if (rule) {
      const signers = textInput('prop-countersigners', spiffProperty(bo, CS_SIGNERS) || '',
        { class: 'form-control form-control-sm font-monospace', placeholder: 'zhang_san, role:leader' });
      const signersCheck = h('div', { class: 'cf-check', 'data-check-for': 'prop-countersigners' });
      const checkSigners = (value) => {
        const entries = csEntries(value);
        const bad = entries.filter((e) => e.startsWith('role:') && !ROLE_LABELS[e.slice(5)]);
        if (!entries.length) setCheck(signersCheck, 'bad', t('✗ 请填写会签人'));
        else if (bad.length) setCheck(signersCheck, 'bad', t('✗ 不是可办理任务的角色：') + bad.join(t('、')));
        else setCheck(signersCheck, 'ok', '✓ ' + entries.join(' → '));
      };
      bindCommit(signers, (value) => {
        checkSigners(value);
        setSpiffProperty(element, CS_SIGNERS, csEntries(value).join(','));
        writeCountersign(element);
      });
      checkSigners(signers.value);
      box.append(field(t('会签人'), signers, signersCheck,
        hint(t('用户名，或 role:角色（该角色的全部在职人员），以逗号分隔；依次审批按此顺序。'))));
      if (rule === 'ratio') {
        const ratio = textInput('prop-countersign-ratio', spiffProperty(bo, CS_RATIO) || '',
          { class: 'form-control form-control-sm w-50', placeholder: '2/3' });
        const ratioCheck = h('div', { class: 'cf-check', 'data-check-for': 'prop-countersign-ratio' });
        bindCommit(ratio, (value) => {
          if (!csRatioOk(value)) { setCheck(ratioCheck, 'bad', t('✗ 比例须大于 0、不超过 1，如 0.6 或 2/3')); return; }
          setCheck(ratioCheck, '', '');
          setSpiffProperty(element, CS_RATIO, value.trim());
          writeCountersign(element);
        });
        box.append(field(t('通过比例'), ratio, ratioCheck));
      }
      const formName = `${element.id}.json`;
      const create = h('button', { type: 'button', class: 'btn btn-outline-primary btn-sm', id: 'create-countersign-form',
        disabled: !!state.forms[formName] }, t('新建会签表单 {name}', { name: formName }));
      create.addEventListener('click', async () => {
        create.disabled = true;
        await createForm(formName, bo.name, (schema) => {   // the template's decision, named after the task
          schema.properties[n.decision] = schema.properties.decision;
          delete schema.properties.decision;
          ['required', 'x-order'].forEach((k) => { schema[k] = (schema[k] || []).map((f) => (f === 'decision' ? n.decision : f)); });
        });
        setSpiffProperty(element, FORM_PROPERTY, formName);
        renderPanel();
      });
      box.append(hint(t('每位会签人一个实例，出现在各自的待办中；规则一经满足或已不可能满足，其余实例撤销。表单须有字段 {decision}（approve 为同意）和 opinion；结果 {passed}（是否通过）供其后的网关判断。',
        { decision: n.decision, passed: n.passed })), create);
    }
    panel.append(box);
  }

  function dossierNames(value) {
    return [...new Set(String(value || '').split(/[,\uff0c]/).map((n) => n.trim()).filter(Boolean))];
  }

  function formNameProblem(name) {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*\.json$/.test(name)) return t('文件名须以 .json 结尾，只含字母、数字、下划线、点和连字符');
    if (state.forms[name]) return t('表单「{name}」已存在', { name });
    return null;
  }

  function serviceOperator(bo) {
    return findExtension(bo, 'spiffworkflow:ServiceTaskOperator');
  }

  function renderServiceTask(element) {
    const bo = element.businessObject;
    const operator = serviceOperator(bo);
    const opName = operator ? operator.id : '';
    const op = state.opsByName[opName];
    const select = h('select', { class: 'form-select form-select-sm', id: 'prop-operation' },
      h('option', { value: '' }, t('（请选择操作）')),
      state.operations.map((o) => h('option', { value: o.name, title: o.name }, o.title)),
      opName && !op ? h('option', { value: opName }, t('未知操作：{name}', { name: opName })) : null);
    select.value = opName;
    select.addEventListener('change', () => {
      if (select.value) setOperator(element, select.value);
      renderPanel();
    });
    const notes = [];
    if (opName && !op) notes.push(hint(t('操作「{name}」不存在，部署会被拒绝。', { name: opName }), 'text-danger'));
    if (!opName) notes.push(hint(t('服务任务必须调用一个操作。'), 'text-danger'));
    if (op) notes.push(hint(t('操作名 {name}', { name: op.name })));
    panel.append(field(t('调用的操作'), select, notes));
    if (!operator) return;

    const result = textInput('prop-result', operator.resultVariable || '', { class: 'form-control form-control-sm font-monospace' });
    bindCommit(result, (value) => {
      const v = value.trim() || undefined;
      if ((operator.resultVariable || undefined) !== v) run([updateModdle(element, operator, { resultVariable: v })]);
    });
    panel.append(field(t('结果变量（可选）'), result, hint(t('操作的返回值存入此变量，供后续条件和脚本使用。'))));

    const existing = operator.parameters ? operator.parameters.get('parameters') : [];
    const declared = op ? Object.entries(op.params) : [];
    const names = declared.map(([n]) => n);
    existing.forEach((p) => { if (!names.includes(p.id)) names.push(p.id); });
    const box = h('div', { class: 'mb-2', id: 'prop-parameters' }, h('div', { class: 'form-label' }, t('参数')));
    if (!names.length) box.append(hint(t('此操作没有参数。')));
    names.forEach((name) => {
      const param = existing.find((p) => p.id === name);
      const type = (op && op.params[name]) || (param && param.type) || 'any';
      const input = codeArea('param-' + name, param ? param.value : '', 1);
      input.dataset.param = name;
      bindCommit(input, (value) => setParameter(element, name, type, value));
      const extra = [liveCheck(input, 'eval')];
      if (op && !(name in op.params)) extra.push(hint(t('操作没有这个参数，会被忽略。'), 'text-warning-emphasis'));
      box.append(h('div', { class: 'mb-1' }, h('label', { class: 'small font-monospace', for: input.id }, `${name} `,
        h('span', { class: 'text-body-secondary' }, `(${type})`)), input, extra));
    });
    if (names.length) box.append(hint(t('每个参数的值是 Python 表达式，字符串要加引号，例如 \'expired\'；可以直接写流程变量名。')));
    panel.append(box);
  }

  function setOperator(element, name) {
    const bo = element.businessObject;
    const op = state.opsByName[name];
    const old = serviceOperator(bo);
    const oldValues = {};
    if (old && old.parameters) old.parameters.get('parameters').forEach((p) => { oldValues[p.id] = p.value; });
    const parameters = moddle.create('spiffworkflow:Parameters', { parameters: [] });
    Object.entries(op ? op.params : {}).forEach(([id, type]) => {
      const p = moddle.create('spiffworkflow:Parameter', { id, type, value: oldValues[id] !== undefined ? oldValues[id] : '' });
      p.$parent = parameters;
      parameters.get('parameters').push(p);
    });
    const attrs = { id: name, parameters };
    if (old && old.resultVariable) attrs.resultVariable = old.resultVariable;
    const operator = moddle.create('spiffworkflow:ServiceTaskOperator', attrs);
    parameters.$parent = operator;
    const commands = [];
    const ext = ensureExtensionElements(element, bo, commands);
    operator.$parent = ext;
    const values = ext.get('values').slice();
    const index = values.indexOf(old);
    if (index >= 0) values.splice(index, 1, operator); else values.unshift(operator);
    commands.push(updateModdle(element, ext, { values }));
    run(commands);
  }

  function setParameter(element, name, type, value) {
    const operator = serviceOperator(element.businessObject);
    if (!operator) return;
    const commands = [];
    let parameters = operator.parameters;
    const param = parameters && parameters.get('parameters').find((p) => p.id === name);
    if (param) {
      if (param.value !== value) commands.push(updateModdle(element, param, { value }));
    } else {
      const created = moddle.create('spiffworkflow:Parameter', { id: name, type, value });
      if (!parameters) {
        parameters = moddle.create('spiffworkflow:Parameters', { parameters: [created] });
        parameters.$parent = operator;
        created.$parent = parameters;
        commands.push(updateModdle(element, operator, { parameters }));
      } else {
        created.$parent = parameters;
        commands.push(updateModdle(element, parameters, { parameters: [...parameters.get('parameters'), created] }));
      }
    }
    run(commands);
  }

  function renderScriptTask(element) {
    const bo = element.businessObject;
    const script = codeArea('prop-script', bo.script || '', 6);
    bindCommit(script, (value) => {
      if ((bo.script || '') === value) return;
      const properties = { script: value };
      if (!bo.scriptFormat) properties.scriptFormat = 'python';
      run([['element.updateProperties', { element, properties }]]);
    });
    panel.append(field(t('脚本（Python）'), script, liveCheck(script, 'exec'),
      hint(t('脚本在沙箱中执行，直接读写流程变量，例如 return_count = return_count + 1。'))));
  }

  function renderBusinessRuleTask(element) {
    const bo = element.businessObject;
    const input = textInput('prop-decision', bodyExtension(bo, 'spiffworkflow:CalledDecisionId'), { class: 'form-control form-control-sm font-monospace' });
    bindCommit(input, (value) => setBodyExtension(element, bo, 'spiffworkflow:CalledDecisionId', value.trim()));
    panel.append(field(t('决策表 ID'), input, hint(t('调用的 DMN 决策表（如 sanction_rules），其结果写入流程变量。'))));
  }

  // pre/post scripts of any task: spiffworkflow:preScript / postScript
  function renderScripts(element) {
    const bo = element.businessObject;
    const pre = bodyExtension(bo, 'spiffworkflow:PreScript');
    const post = bodyExtension(bo, 'spiffworkflow:PostScript');
    const details = h('details', { class: 'mb-2', open: !!(pre || post) },
      h('summary', { class: 'small fw-semibold' }, t('前置 / 后置脚本')));
    [['prop-prescript', 'spiffworkflow:PreScript', pre, t('任务开始前执行')],
     ['prop-postscript', 'spiffworkflow:PostScript', post, t('任务完成后执行')]].forEach(([id, type, value, label]) => {
      const area = codeArea(id, value, value ? Math.min(6, value.split('\n').length + 1) : 2);
      bindCommit(area, (text) => setBodyExtension(element, bo, type, text));
      details.append(field(label, area, liveCheck(area, 'exec', { allowEmpty: true, emptyText: t('（无）') })));
    });
    panel.append(details);
  }

  function flowLabel(flow) {
    const target = flow.target || (flow.businessObject.targetRef && elementRegistry.get(flow.businessObject.targetRef.id));
    const targetName = target ? (target.businessObject.name || target.id) : '?';
    return (flow.businessObject.name ? t('「{name}」', { name: flow.businessObject.name }) + ' ' : '') + '→ ' + targetName;
  }

  function conditionText(flow) {
    const expr = flow.businessObject.conditionExpression;
    return expr ? (expr.body || '') : '';
  }

  function setCondition(flow, text) {
    const bo = flow.businessObject;
    const current = bo.conditionExpression;
    if (!text.trim()) {
      if (current) run([['element.updateProperties', { element: flow, properties: { conditionExpression: undefined } }]]);
    } else if (current) {
      if (current.body !== text) run([updateModdle(flow, current, { body: text })]);
    } else {
      const expr = moddle.create('bpmn:FormalExpression', { body: text });
      run([['element.updateProperties', { element: flow, properties: { conditionExpression: expr } }]]);
    }
  }

  function conditionInput(flow, id) {
    const input = codeArea(id, conditionText(flow), 1);
    input.dataset.flow = flow.id;
    bindCommit(input, (value) => setCondition(flow, value));
    return [input, liveCheck(input, 'eval', { allowEmpty: true, emptyText: t('（无条件）') })];
  }

  function renderGateway(element) {
    const bo = element.businessObject;
    const outgoing = element.outgoing.filter((c) => is(c, 'bpmn:SequenceFlow'));
    const box = h('div', { class: 'mb-2', id: 'prop-conditions' }, h('div', { class: 'form-label' }, t('出口连线的条件')));
    if (outgoing.length < 2) box.append(hint(t('网关只有一个出口时不需要条件。')));
    outgoing.forEach((flow) => {
      const isDefault = bo.default === flow.businessObject;
      const [input, check] = conditionInput(flow, 'cond-' + flow.id);
      const defaultBox = h('input', { class: 'form-check-input', type: 'checkbox', id: 'default-' + flow.id, checked: isDefault });
      defaultBox.addEventListener('change', () => {
        run([['element.updateProperties', { element, properties: { default: defaultBox.checked ? flow.businessObject : undefined } }]]);
        renderPanel();
      });
      box.append(h('div', { class: 'mb-2 border-start ps-2', 'data-flow': flow.id },
        h('label', { class: 'small', for: input.id }, flowLabel(flow), ' ', h('code', { class: 'small' }, flow.id)),
        input, check,
        h('div', { class: 'form-check form-check-inline small' }, defaultBox,
          h('label', { class: 'form-check-label', for: defaultBox.id }, t('默认路径（其他条件都不成立时）')))));
    });
    box.append(hint(is(element, 'bpmn:ExclusiveGateway')
      ? t('排他网关走第一条条件成立的连线。条件是 Python 表达式，例如 review_decision == "approve"。')
      : t('包容网关走所有条件成立的连线。条件是 Python 表达式。')));
    panel.append(box);
  }

  function renderSequenceFlow(flow) {
    const source = flow.source;
    const [input, check] = conditionInput(flow, 'prop-condition');
    const notes = [];
    if (!(is(source, 'bpmn:ExclusiveGateway') || is(source, 'bpmn:InclusiveGateway'))) {
      notes.push(hint(t('只有排他网关和包容网关的出口连线会判断条件。'), 'text-warning-emphasis'));
    }
    if (source && source.businessObject.default === flow.businessObject) notes.push(hint(t('这是网关的默认路径。')));
    panel.append(h('p', { class: 'small mb-2' }, `${source ? (source.businessObject.name || source.id) : '?'} ${flowLabel(flow)}`));
    panel.append(field(t('条件'), input, check, notes));
  }

  function renderEvent(element) {
    const bo = element.businessObject;
    (bo.eventDefinitions || []).forEach((def) => {
      if (def.$instanceOf('bpmn:TimerEventDefinition')) renderTimer(element, def);
      else if (def.$instanceOf('bpmn:MessageEventDefinition')) renderMessage(element, def);
    });
  }

  function renderTimer(element, def) {
    const kind = (TIMER_KINDS.find(([k]) => def[k]) || ['timeDuration'])[0];
    const select = h('select', { class: 'form-select form-select-sm mb-1', id: 'prop-timer-kind' },
      TIMER_KINDS.map(([k, label]) => h('option', { value: k }, label)));
    select.value = kind;
    const input = codeArea('prop-timer', def[kind] ? (def[kind].body || '') : '', 1);
    const write = () => {
      const k = select.value;
      const text = input.value.trim();
      const current = def[k];
      if (current && text && TIMER_KINDS.every(([other]) => other === k || !def[other])) {
        if (current.body !== text) run([updateModdle(element, current, { body: text })]);
        return;
      }
      const properties = { timeDate: undefined, timeDuration: undefined, timeCycle: undefined };
      if (text) {
        const expr = moddle.create('bpmn:FormalExpression', { body: text });
        expr.$parent = def;
        properties[k] = expr;
      }
      run([updateModdle(element, def, properties)]);
    };
    bindCommit(input, write);
    select.addEventListener('change', () => { write(); input.dispatchEvent(new Event('input')); });
    panel.append(field(t('定时器'), select, input, liveCheck(input, () => select.value),
      hint(t('直接写 ISO 8601：时长 PT5M、P3D，日期时间 2027-01-05T09:00:00+08:00（不写时区即北京时间），周期 R3/PT1H；')
           + t('或 Python 表达式，如 workday_deadline(5)、publication["max_end_at"]。'))));
  }

  function renderMessage(element, def) {
    const message = def.messageRef;
    panel.append(h('div', { class: 'mb-2' }, h('div', { class: 'form-label' }, t('消息')),
      h('div', { class: 'small font-monospace' }, message ? (message.name || message.id) : t('（未指定消息）'))));
    if (is(element, 'bpmn:ThrowEvent')) return;
    const input = textInput('prop-message-variable', bodyExtension(def, 'spiffworkflow:MessageVariable'), { class: 'form-control form-control-sm font-monospace' });
    bindCommit(input, (value) => setBodyExtension(element, def, 'spiffworkflow:MessageVariable', value.trim()));
    panel.append(field(t('消息内容存入变量'), input));
  }

  function renderLane(element) {
    const name = element.businessObject.name || '';
    panel.append(hint(ROLE_LABELS[name]
      ? t('此泳道中的用户任务由「{role}」办理。', { role: roleText(name) })
      : t('泳道名须为角色：clerk（承办人）、reviewer（审核人）或 leader（分管领导）。'), ROLE_LABELS[name] ? '' : 'text-danger'));
  }

  // -- forms --------------------------------------------------------------------------------------

  const formSelect = $('#form-file');
  const formJson = $('#form-json');
  const formPreview = $('#form-preview');
  const formError = $('#form-error');

  async function getTemplate() {
    if (!state.template) {
      const r = await api(URLS.formTemplateUrl);
      if (!r.ok) throw new Error(r.error || t('无法取得表单模板'));
      state.template = r.data;
    }
    return JSON.parse(JSON.stringify(state.template));
  }

  async function createForm(name, title, adapt) {
    const schema = await getTemplate();
    if (title) schema.title = title;
    if (adapt) adapt(schema);
    state.forms[name] = schema;
    state.formText[name] = JSON.stringify(schema, null, 2);
    markDirty();
    refreshFormSelect(name);
  }

  function formsInvalid() {
    return Object.keys(state.formErrors).length > 0;
  }

  function formUsers(name) {
    return elementRegistry.filter((e) => is(e, 'bpmn:UserTask') && spiffProperty(e.businessObject, FORM_PROPERTY) === name)
      .map((e) => e.businessObject.name || e.id);
  }

  function refreshFormSelect(selected) {
    const names = Object.keys(state.forms).sort();
    formSelect.replaceChildren(...names.map((n) => h('option', { value: n }, n + (state.formErrors[n] ? t('（有错误）') : ''))));
    const pick = selected || state.currentForm || names[0];
    if (pick && state.forms[pick] !== undefined) {
      formSelect.value = pick;
      if (pick !== state.currentForm || selected) showForm(pick);
    }
    const count = Object.keys(state.formErrors).length;
    const badge = $('#form-error-count');
    badge.textContent = count;
    badge.classList.toggle('d-none', !count);
    updateButtons();
  }

  function showForm(name) {
    if (!name || state.forms[name] === undefined) return;
    state.currentForm = name;
    formSelect.value = name;
    if (state.formText[name] === undefined) state.formText[name] = JSON.stringify(state.forms[name], null, 2);
    formJson.value = state.formText[name];
    const users = formUsers(name);
    $('#form-users').textContent = users.length ? t('用于：') + users.join(t('、')) : t('（没有任务使用此表单）');
    showFormError(name);
    preview(name);
  }

  function showFormError(name) {
    const err = state.formErrors[name];
    formError.textContent = err || '';
    formError.classList.toggle('d-none', !err);
    formJson.classList.toggle('is-invalid', !!err);
  }

  function setFormError(name, error) {
    const had = !!state.formErrors[name];
    if (error) state.formErrors[name] = error; else delete state.formErrors[name];
    if (name === state.currentForm) showFormError(name);
    if (had !== !!error) refreshFormSelect();
    updateButtons();
  }

  // Render the schema as the task page will, or say why it is refused.
  function preview(name) {
    let schema;
    try {
      schema = JSON.parse(state.formText[name]);
    } catch (err) {
      setFormError(name, t('JSON 语法错误：') + err.message);
      formPreview.replaceChildren(h('p', { class: 'text-body-secondary small' }, t('（JSON 有误，无法预览）')));
      return Promise.resolve();
    }
    const promise = (async () => {
      const r = await api(URLS.formPreviewUrl, { method: 'POST', json: schema });
      if (state.formText[name] !== undefined && JSON.stringify(schema) !== JSON.stringify(safeParse(state.formText[name]))) return;
      if (r.ok && r.data.ok) {
        setFormError(name, null);
        if (name === state.currentForm) formPreview.innerHTML = r.data.html;
      } else {
        setFormError(name, t('表单定义无效：') + ((r.data && r.data.error) || r.error || r.status));
        if (name === state.currentForm) formPreview.replaceChildren(h('p', { class: 'text-body-secondary small' }, t('（表单定义无效，无法预览）')));
      }
    })();
    state.previewPending = promise;
    promise.finally(() => { if (state.previewPending === promise) state.previewPending = null; });
    return promise;
  }

  function safeParse(text) {
    try { return JSON.parse(text); } catch (err) { return undefined; }
  }

  const schedulePreview = debounce((name) => preview(name), 400);

  formJson.addEventListener('input', () => {
    const name = state.currentForm;
    if (!name) return;
    state.formText[name] = formJson.value;
    markDirty();
    try {
      state.forms[name] = JSON.parse(formJson.value);
      schedulePreview(name);
    } catch (err) {
      setFormError(name, t('JSON 语法错误：') + err.message);
    }
  });
  formSelect.addEventListener('change', () => showForm(formSelect.value));

  // -- tabs ---------------------------------------------------------------------------------------

  function showPane(pane) {
    document.querySelectorAll('#editor-tabs [data-pane]').forEach((tab) => {
      const active = tab.dataset.pane === pane;
      tab.classList.toggle('active', active);
      $('#' + tab.dataset.pane).classList.toggle('d-none', !active);
    });
    if (pane === 'canvas' && canvas) canvas.resized();
    if (pane === 'form-editor' && !state.currentForm) refreshFormSelect();
  }
  document.querySelectorAll('#editor-tabs [data-pane]').forEach((tab) =>
    tab.addEventListener('click', () => showPane(tab.dataset.pane)));

  // -- problems on the canvas ---------------------------------------------------------------------

  function resolveElement(ref) {
    if (!ref) return null;
    const byId = elementRegistry.get(ref);
    if (byId) return byId;
    const pool = elementRegistry.find((e) => is(e, 'bpmn:Participant') && e.businessObject.processRef
      && e.businessObject.processRef.id === ref);
    if (pool) return pool;
    return elementRegistry.find((e) => e.businessObject && e.businessObject.name === ref && e.type !== 'label') || null;
  }

  function clearProblems() {
    state.problems.forEach((id) => {
      const el = elementRegistry.get(id);
      if (el) canvas.removeMarker(el, 'cf-problem');
    });
    overlays.remove({ type: 'cf-problem' });
    state.problems = [];
  }

  function selectElement(element) {
    showPane('canvas');
    const target = element.type === 'label' ? element.labelTarget : element;
    canvas.scrollToElement(target);
    selection.select(target);
  }

  function showProblems(problems, title, kind) {
    clearProblems();
    const list = $('#problems');
    list.replaceChildren();
    const card = $('#problems-card');
    card.classList.remove('d-none');
    $('#problems-title').textContent = title;
    card.className = 'card shadow-sm ' + (kind === 'ok' ? 'border-success' : 'border-danger');
    if (!problems.length) {
      list.append(h('li', { class: 'list-group-item list-group-item-success small', id: 'problems-none' }, t('未发现问题，可以部署。')));
      return;
    }
    const marked = new Map();
    problems.forEach((p) => {
      const found = resolveElement(p.element);
      const element = found && found !== canvas.getRootElement() ? found : null;   // the process itself: listed only
      const li = h('li', { class: 'list-group-item', 'data-element': p.element || '', title: p.file || '' },
        p.element ? h('code', { class: 'me-1' }, p.element) : null,
        p.name && p.name !== p.element ? h('span', { class: 'me-1 fw-semibold' }, t('「{name}」', { name: p.name })) : null, p.reason);
      if (element) {
        li.addEventListener('click', () => selectElement(element));
        const targets = [element];
        // a gateway's refused condition names the flow's target in quotes, in either language: mark the flow too
        if (element.outgoing && p.reason) {
          element.outgoing.filter((f) => f.target && p.reason.includes(`'${f.target.id}'`)).forEach((f) => targets.push(f));
        }
        targets.forEach((target) => {
          if (!marked.has(target.id)) marked.set(target.id, { element: target, reasons: [] });
          marked.get(target.id).reasons.push(p.reason);
        });
      } else {
        li.classList.add('text-body-secondary');
      }
      list.append(li);
    });
    marked.forEach(({ element, reasons }, id) => {
      canvas.addMarker(element, 'cf-problem');
      state.problems.push(id);
      const badge = h('div', { class: 'cf-problem-badge', 'data-problem-for': id, title: reasons.join('\n') },
        (reasons.length > 1 ? t('{n} 个问题：', { n: reasons.length }) : '') + reasons[0]);
      badge.addEventListener('click', () => selectElement(element));
      overlays.add(element, 'cf-problem', { position: { top: -22, left: 0 }, html: badge });
    });
  }

  $('#problems-close').addEventListener('click', () => {
    $('#problems-card').classList.add('d-none');
    clearProblems();
  });

  // -- toolbar ------------------------------------------------------------------------------------

  function markDirty() {
    state.dirty = true;
    state.changeSeq++;
    if (state.loaded && !state.busy) setStatus(t('有未保存的更改'), 'warn');
  }

  function updateButtons() {
    const invalid = formsInvalid();
    const blocked = !state.loaded || state.busy;
    const why = invalid ? t('有表单定义无效，请先在「表单」页修正：') + Object.keys(state.formErrors).join(t('、')) : '';
    buttons.save.disabled = blocked || invalid;
    buttons.deploy.disabled = blocked || invalid;
    buttons.save.title = why;
    buttons.deploy.title = why;
    buttons.validate.disabled = blocked;
    buttons.discard.disabled = blocked || !state.isDraft;
    if (commandStack) {
      buttons.undo.disabled = !commandStack.canUndo();
      buttons.redo.disabled = !commandStack.canRedo();
    }
  }

  async function getXml() {
    const { xml } = await modeler.saveXML({ format: true });
    return xml;
  }

  // Everything typed so far into the model, then the payload the API expects.
  async function payload() {
    const active = document.activeElement;
    if (active && panel.contains(active) && active.matches('input[type=text], textarea')) {
      active.dispatchEvent(new Event('change'));
    }
    flushPending();
    if (state.previewPending) await state.previewPending;
    return { bpmn_xml: await getXml(), forms: state.forms };
  }

  async function withBusy(fn) {
    if (state.busy) return;
    state.busy = true;
    updateButtons();
    try {
      await fn();
    } catch (err) {
      setStatus(t('出错了：') + err.message, 'bad');
    } finally {
      state.busy = false;
      updateButtons();
    }
  }

  function refuseInvalidForms() {
    if (!formsInvalid()) return false;
    setStatus(t('表单定义无效，未执行：') + Object.keys(state.formErrors).join(t('、')), 'bad');
    return true;
  }

  function saveDraft(auto) {
    return withBusy(async () => {
      if (refuseInvalidForms()) return;
      const seq = state.changeSeq;
      const body = await payload();
      const r = await api(URLS.saveUrl, { method: 'POST', json: body });
      if (r.ok && r.data.ok) {
        if (state.changeSeq === seq) state.dirty = false;
        state.isDraft = true;
        setStatus(t('已保存 {time}', { time: hhmm(r.data.saved_at) }) + (auto ? t('（自动）') : ''), 'ok');
        showBase();
      } else if (r.status === 422 && r.data) {
        showProblems(r.data.problems || [], t('草稿未保存'), 'bad');
        setStatus(t('草稿未保存'), 'bad');
      } else {
        setStatus(t('草稿未保存：') + (r.error || r.status), 'bad');
      }
    });
  }

  function validate() {
    return withBusy(async () => {
      const r = await api(URLS.validateUrl, { method: 'POST', json: await payload() });
      if (!r.ok) { setStatus(t('校验失败：') + (r.error || r.status), 'bad'); return; }
      const problems = r.data.problems || [];
      if (!problems.length) {
        showProblems([], t('校验通过'), 'ok');
        setStatus(t('校验通过'), 'ok');
      } else {
        showProblems(problems, t('校验发现 {n} 个问题', { n: problems.length }), 'bad');
        setStatus(t('校验发现 {n} 个问题', { n: problems.length }), 'bad');
      }
    });
  }

  function deploy() {
    return withBusy(async () => {
      if (refuseInvalidForms()) return;
      const seq = state.changeSeq;
      const r = await api(URLS.deployUrl, { method: 'POST', json: await payload() });
      if (r.ok && r.data.ok) {
        if (state.changeSeq === seq) state.dirty = false;
        state.isDraft = false;
        state.baseVersion = r.data.version;
        clearProblems();
        $('#problems-card').classList.add('d-none');
        showBase();
        setStatus(r.data.created ? t('已部署为 v{version}', { version: r.data.version }) : t('内容未变化，仍为 v{version}', { version: r.data.version }), 'ok',
          { href: URLS.adminUrl, text: t('返回流程管理') });
      } else if (r.status === 422 && r.data) {
        const problems = r.data.problems || [];
        showProblems(problems, t('未部署：{n} 个问题', { n: problems.length }), 'bad');
        setStatus(t('未部署：{n} 个问题', { n: problems.length }), 'bad');
      } else {
        setStatus(t('部署失败：') + (r.error || r.status), 'bad');
      }
    });
  }

  function discardDraft() {
    if (!window.confirm(t('放弃草稿，回到已部署的最新版本？草稿中的所有更改都会丢失。'))) return Promise.resolve();
    return withBusy(async () => {
      const r = await api(URLS.discardUrl, { method: 'POST', json: {} });
      if (!r.ok) { setStatus(t('未能放弃草稿：') + (r.error || r.status), 'bad'); return; }
      await load();
      setStatus(t('草稿已放弃'), 'ok');
    });
  }

  buttons.save.addEventListener('click', () => saveDraft(false));
  buttons.validate.addEventListener('click', validate);
  buttons.deploy.addEventListener('click', deploy);
  buttons.discard.addEventListener('click', discardDraft);
  buttons.undo.addEventListener('click', () => commandStack && commandStack.undo());
  buttons.redo.addEventListener('click', () => commandStack && commandStack.redo());

  setInterval(() => {
    if (state.loaded && state.dirty && !state.busy && !formsInvalid()) saveDraft(true);
  }, AUTOSAVE_MS);

  window.addEventListener('beforeunload', (event) => {
    if (!state.dirty) return;
    event.preventDefault();
    event.returnValue = '';
  });

  function showBase() {
    const text = state.baseVersion ? t('· 基于 v{version}', { version: state.baseVersion }) : t('· 新流程');
    $('#base-version').textContent = text + (state.isDraft ? t(' · 草稿') : '');
  }

  // -- loading ------------------------------------------------------------------------------------

  function initialView() {
    canvas.zoom('fit-viewport');
    const box = canvas.viewbox();
    // a whole lifecycle fitted into the window is too small to work on: start at its left end instead
    if (box.scale < 0.75 && box.inner.width > 0) {
      const scale = 0.8;
      canvas.viewbox({ x: box.inner.x - 30, y: box.inner.y - 20,
                       width: box.outer.width / scale, height: box.outer.height / scale });
    }
  }

  async function load() {
    const r = await api(URLS.draftUrl);
    if (!r.ok) throw new Error(r.error || t('无法读取流程（{status}）', { status: r.status }));
    const draft = r.data;
    state.forms = draft.forms || {};
    state.formText = {};
    state.formErrors = {};
    state.currentForm = null;
    state.baseVersion = draft.base_version;
    state.isDraft = !!draft.is_draft;
    const imported = await modeler.importXML(draft.bpmn_xml);
    // A multi-instance loop's loopDataInputRef / loopDataOutputRef name case data (as SpiffWorkflow
    // reads them), which bpmn-js takes for references to missing elements and drops: keep each as a
    // stand-in of that id, so it is written back as it was.
    const warnings = (imported.warnings || []).filter((w) => {
      const name = String(w.property || '').replace(/^bpmn:/, '');
      if (!w.element || !['loopDataInputRef', 'loopDataOutputRef'].includes(name)) return true;
      w.element.set(name, moddle.create('bpmn:ItemAwareElement', { id: w.value }));
      return false;
    });
    state.importWarnings = warnings.length;
    clearProblems();
    $('#problems-card').classList.add('d-none');
    initialView();
    state.dirty = false;
    state.loaded = true;
    refreshFormSelect();
    showBase();
    renderPanel();
    if (warnings.length) {
      console.warn('BPMN import warnings', warnings);
      setStatus(t('导入时有 {n} 条警告，部分内容可能无法编辑', { n: warnings.length }), 'warn');
    } else if (draft.is_draft) {
      setStatus(t('草稿 · {who} 保存于 {time}', { who: draft.saved_by || '', time: hhmm(draft.saved_at) }));
    } else {
      setStatus(t('已部署版本 v{version}', { version: draft.base_version }));
    }
    // A draft opens with its problems marked: an imported diagram shows at once what to fix.
    if (draft.problems && draft.problems.length) {
      showProblems(draft.problems, t('草稿有 {n} 个问题，修改后再部署', { n: draft.problems.length }), 'bad');
    }
    updateButtons();
  }

  async function start() {
    const [descriptor, ops] = await Promise.all([
      fetch(URLS.moddleUrl, { credentials: 'same-origin' }).then((resp) => resp.json()),
      api(URLS.operationsUrl),
    ]);
    state.operations = ops.ok ? ops.data : [];
    state.operations.forEach((o) => { state.opsByName[o.name] = o; });
    modeler = new BpmnJS({ container: canvasEl, moddleExtensions: { spiffworkflow: descriptor } });
    modeling = modeler.get('modeling');
    moddle = modeler.get('moddle');
    elementRegistry = modeler.get('elementRegistry');
    commandStack = modeler.get('commandStack');
    canvas = modeler.get('canvas');
    selection = modeler.get('selection');
    overlays = modeler.get('overlays');
    commandStack.registerHandler('cf.multi', MultiCommandHandler);

    const eventBus = modeler.get('eventBus');
    eventBus.on('selection.changed', () => renderPanel());
    eventBus.on('commandStack.changed', (event) => {
      updateButtons();
      if (!state.loaded || (event && event.trigger === 'clear')) return;
      markDirty();
      if (!state.committing) renderPanel();
    });

    window.cfEditor = { modeler, state, getXml, showPane, selectElement };
    await load();
    canvasEl.dataset.ready = '1';
  }

  start().catch((err) => {
    console.error(err);
    canvasEl.dataset.ready = 'error';
    setStatus(t('编辑器无法加载：') + err.message, 'bad');
  });
})();
