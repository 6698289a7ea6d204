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
    for (const [id, state] of Object.entries(states)) {
      if (registry.get(id)) canvas.addMarker(id, 'cf-' + state);
    }
    container.dataset.ready = '1';
  } catch (err) {
    container.textContent = '流程图无法显示 / the diagram could not be shown: ' + err.message;
    container.dataset.ready = 'error';
  }
})();
