// One submit per click: the server completes a task once anyway; this spares a second request.
(function () {
  const form = document.getElementById('task-form');
  if (!form) return;
  form.addEventListener('submit', function (e) {
    if (this.dataset.sent) { e.preventDefault(); return; }
    this.dataset.sent = '1';
    setTimeout(() => { delete this.dataset.sent; }, 5000);
  });
})();
