// A list page's print button (templates/_list_tools.html): the print stylesheet in credflow.css
// leaves out the navigation, the filters' controls and the buttons.
document.addEventListener('click', function (event) {
  if (event.target.closest('[data-print]')) { window.print(); }
});
