// A refused upload: the diagram as uploaded, each element with a problem outlined in red and
// numbered after the list above; clicking a number or a list item shows the other.
(async function () {
  const container = document.getElementById('upload-diagram');
  const source = document.getElementById('refused-xml');
  if (!container || !source) return;
  const items = Array.from(document.querySelectorAll('#upload-problems li'));
  const problems = items.map((li) => ({ element: li.dataset.element, reason: li.textContent.trim() }));
  const viewer = new BpmnJS({ container });
  try {
    await viewer.importXML(source.value);
    const canvas = viewer.get('canvas');
    const registry = viewer.get('elementRegistry');
    const overlays = viewer.get('overlays');
    canvas.zoom('fit-viewport');
    const find = (ref) => registry.get(ref) || registry.find((e) => e.type === 'bpmn:Participant'
      && e.businessObject.processRef && e.businessObject.processRef.id === ref);
    const numbers = new Map();
    problems.forEach((p, index) => {
      const element = p.element && find(p.element);
      if (!element || element === canvas.getRootElement()) return;   // the process itself: listed only
      if (!numbers.has(element.id)) numbers.set(element.id, { element, indexes: [] });
      numbers.get(element.id).indexes.push(index);
    });
    numbers.forEach(({ element, indexes }) => {
      canvas.addMarker(element, 'cf-problem');
      const badge = document.createElement('div');
      badge.className = 'cf-problem-badge';
      badge.dataset.problemFor = element.id;
      badge.textContent = indexes.map((i) => i + 1).join(', ');
      badge.title = indexes.map((i) => problems[i].reason).join('\n');
      badge.addEventListener('click', () => {
        items.forEach((li) => li.classList.remove('cf-active'));
        indexes.forEach((i) => items[i] && items[i].classList.add('cf-active'));
        if (items[indexes[0]]) items[indexes[0]].scrollIntoView({ block: 'nearest' });
      });
      overlays.add(element, 'cf-problem', { position: { top: -18, left: 0 }, html: badge });
      indexes.forEach((i) => {
        const li = items[i];
        if (!li) return;
        li.style.cursor = 'pointer';
        li.insertBefore(Object.assign(document.createElement('span'), {
          className: 'badge text-bg-danger me-1', textContent: String(i + 1) }), li.firstChild);
        li.addEventListener('click', () => {
          container.scrollIntoView({ block: 'nearest' });
          canvas.scrollToElement(element);
        });
      });
    });
    container.dataset.ready = '1';
  } catch (err) {
    container.textContent = container.dataset.textFailed + ' ' + err.message;
    container.dataset.ready = 'error';
  }
})();
