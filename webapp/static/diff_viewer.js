// The version comparison: the newer version's diagram, its added and changed elements marked.
(async function () {
  const container = document.getElementById('diagram-new');
  if (!container) return;
  const markers = JSON.parse(document.getElementById('diff-markers').textContent);
  const viewer = new BpmnJS({ container });
  await viewer.importXML(await (await fetch(container.dataset.src, { credentials: 'same-origin' })).text());
  const canvas = viewer.get('canvas'), registry = viewer.get('elementRegistry');
  canvas.zoom('fit-viewport');
  for (const [kind, ids] of Object.entries(markers)) for (const id of ids) if (registry.get(id)) canvas.addMarker(id, 'cf-' + kind);
  container.dataset.ready = '1';
})();
