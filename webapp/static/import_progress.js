// An import job's progress bar: polls the JSON status in #import-job's data-status-src and
// reloads the page once the job has ended, so the server renders the outcome.
(function () {
  const box = document.getElementById('import-job');
  if (!box || box.dataset.status === 'done' || box.dataset.status === 'failed') return;
  const bar = document.getElementById('import-bar');
  const text = document.getElementById('import-status-text');
  const progress = document.getElementById('import-progress');
  let delay = 500;
  function show(p) {
    const pct = p.finished || !p.total ? (p.finished ? 100 : 0) : Math.floor(100 * p.done / p.total);
    bar.style.width = pct + '%';
    bar.textContent = pct + '%';
    progress.setAttribute('aria-valuenow', String(pct));
    box.dataset.status = p.status;
    const key = p.saving ? 'textSaving' : 'text' + p.status.charAt(0).toUpperCase() + p.status.slice(1);
    text.textContent = (box.dataset[key] || p.status).replace('{done}', p.done).replace('{total}', p.total);
  }
  function poll() {
    fetch(box.dataset.statusSrc, { credentials: 'same-origin', cache: 'no-store' })
      .then(r => (r.ok ? r.json() : Promise.reject(r.status)))
      .then(p => {
        show(p);
        if (p.finished) { window.location.reload(); return; }
        delay = Math.min(delay * 1.3, 3000);
        setTimeout(poll, delay);
      })
      .catch(() => setTimeout(poll, 5000));
  }
  setTimeout(poll, delay);
})();
