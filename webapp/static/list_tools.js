// A list page's tools (templates/_list_tools.html): the print button, and the heading that only
// paper shows (the print stylesheet in credflow.css leaves out the navigation, the filters'
// controls, the buttons and the pager). Where the page did not give them, the heading takes the
// list's title from the page's <h1> and the filters on screen from its filter form (the GET form
// in <main>: each control with a value, by its label) and its active tab or pill.
(function () {
  function text(node) { return node ? node.textContent.replace(/\s+/g, ' ').trim() : ''; }

  function headingOf(h1) {   // the page's title without what is added in small type (a count)
    if (!h1) { return ''; }
    var copy = h1.cloneNode(true);
    copy.querySelectorAll('small, .badge').forEach(function (extra) { extra.remove(); });
    return text(copy);
  }

  function labelOf(control, form) {
    if (control.id) {
      var label = form.ownerDocument.querySelector('label[for="' + control.id + '"]');
      if (label) { return text(label); }
    }
    var wrapping = control.closest('label');
    return wrapping ? text(wrapping) : (control.getAttribute('aria-label') || control.placeholder || '');
  }

  function valueOf(control) {
    if (control.type === 'hidden' || control.type === 'submit' || control.type === 'button' || control.disabled) { return ''; }
    if (control.tagName === 'SELECT') {
      var option = control.options[control.selectedIndex];
      return option && option.value ? text(option) : '';
    }
    if (control.type === 'checkbox' || control.type === 'radio') { return control.checked ? '✓' : ''; }
    return (control.value || '').trim();
  }

  function screenFilters(sep) {
    var found = [];
    document.querySelectorAll('main .nav-tabs a.nav-link.active, main .nav-pills a.nav-link.active').forEach(function (tab) {
      var shown = text(tab);
      if (shown) { found.push(shown); }
    });
    document.querySelectorAll('main form').forEach(function (form) {
      if ((form.getAttribute('method') || 'get').toLowerCase() !== 'get') { return; }
      Array.prototype.forEach.call(form.elements, function (control) {
        var value = valueOf(control);
        if (!value) { return; }
        var label = labelOf(control, form);
        found.push(value === '✓' ? label : (label ? label + sep + value : value));
      });
    });
    return found;
  }

  function fillPrintHead() {
    document.querySelectorAll('[data-print-head]').forEach(function (head) {
      var main = head.closest('main');
      if (main && main.firstElementChild !== head) { main.prepend(head); }   // on paper, the page's first lines
      var title = head.querySelector('[data-print-title]');
      if (title && !text(title)) { title.textContent = headingOf(document.querySelector('main h1')); }
      if (head.hasAttribute('data-filters-given')) { return; }
      var filters = head.querySelector('[data-print-filters]');
      var found = screenFilters(filters.getAttribute('data-sep') || ': ');
      filters.textContent = found.length ? found.join(filters.getAttribute('data-join') || '; ') : filters.getAttribute('data-none');
    });
  }

  document.addEventListener('click', function (event) {
    if (event.target.closest('[data-print]')) { fillPrintHead(); window.print(); }
  });
  window.addEventListener('beforeprint', fillPrintHead);
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', fillPrintHead);
  } else {
    fillPrintHead();
  }
}());
