// Show the case's diagram with completed, current and waiting elements marked.
(async function () {
  const container = document.getElementById('diagram');
  if (!container) return;
  const states = JSON.parse(document.getElementById('element-states').textContent);
  const viewer = new BpmnJS({ container });
  try {
    const xml = await (await fetch(container.dataset.src, { credentials: 'same-origin' })).text();
    await viewer.importXML(xml);
    const canvas = viewer.get('canvas');
    const registry = viewer.get('elementRegistry');
    canvas.zoom('fit-viewport');
    let focus = null;
    for (const [id, state] of Object.entries(states)) {
      const element = registry.get(id);
      if (!element) continue;
      canvas.addMarker(id, 'cf-' + state);
      if (state === 'current' || (state === 'waiting' && !focus)) focus = element;
    }
    // A whole lifecycle fitted into the page is too small to read: zoom to where the case stands.
    if (canvas.zoom() < 0.7 && focus) {
      canvas.zoom(0.9);
      const box = canvas.viewbox();
      canvas.scroll({ dx: box.x + box.width / 2 - (focus.x + (focus.width || 0) / 2),
                      dy: box.y + box.height / 2 - (focus.y + (focus.height || 0) / 2) });
    }
    container.dataset.ready = '1';
  } catch (err) {
    container.textContent = '流程图无法显示 / the diagram could not be shown: ' + err.message;
    container.dataset.ready = 'error';
  }
})();
