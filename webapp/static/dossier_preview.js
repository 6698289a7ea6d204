// The dossier's file previews: a PDF (in a frame) or an image opens inside its panel the first
// time the panel is opened, so that a page with many files loads none of them until asked.
(function () {
  'use strict';
  document.addEventListener('toggle', function (event) {
    var panel = event.target;
    if (!(panel instanceof HTMLDetailsElement) || !panel.open || !panel.hasAttribute('data-preview-src')
        || panel.hasAttribute('data-loaded')) {
      return;
    }
    panel.setAttribute('data-loaded', '');
    var view;
    if (panel.getAttribute('data-preview-kind') === 'image') {
      view = document.createElement('img');
      view.alt = panel.getAttribute('data-preview-title') || '';
      view.className = 'cf-preview-image';
    } else {
      view = document.createElement('iframe');
      view.title = panel.getAttribute('data-preview-title') || '';
      view.className = 'cf-preview-frame';
    }
    view.src = panel.getAttribute('data-preview-src');
    var body = panel.querySelector('.cf-preview-body');
    body.insertBefore(view, body.firstChild);
  }, true);   // toggle does not bubble: listen while it is captured
})();
