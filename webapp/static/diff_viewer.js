// The version comparison: the newer version's diagram, its added and changed elements marked;
// an element's name in the list of changes brings it into view and outlines it.
(async function () {
  const container = document.getElementById('diagram-new');
  if (!container) return;
  const markers = JSON.parse(document.getElementById('diff-markers').textContent);
  const viewer = new BpmnJS({ container });
  await viewer.importXML(await (await fetch(container.dataset.src, { credentials: 'same-origin' })).text());
  const canvas = viewer.get('canvas'), registry = viewer.get('elementRegistry');
  canvas.zoom('fit-viewport');
  for (const [kind, ids] of Object.entries(markers)) for (const id of ids) if (registry.get(id)) canvas.addMarker(id, 'cf-' + kind);
  let focused = null;
  for (const button of document.querySelectorAll('#changes [data-focus]')) {
    const element = registry.get(button.dataset.focus);
    if (!element) { button.disabled = true; continue; }   // a form file or a decision table: not drawn
    button.addEventListener('click', () => {
      if (focused) canvas.removeMarker(focused, 'cf-focus');
      focused = element.id;
      canvas.addMarker(focused, 'cf-focus');
      if (canvas.scrollToElement) canvas.scrollToElement(element);
      container.scrollIntoView({ block: 'nearest' });
    });
  }
  container.dataset.ready = '1';
})();
