// A migration job's progress, polled from the JSON URL in the page's data-progress-src; its words
// come from the page (data-text-*), in the page's language.
(function () {
  const text = document.getElementById('progress-text');
  if (!text) return;
  const bar = document.getElementById('progress-bar');
  const blocked = document.getElementById('blocked-list');
  (function poll() {
    fetch(text.dataset.progressSrc, { credentials: 'same-origin' }).then(r => r.json()).then(p => {
      const pct = p.total ? Math.round(100 * p.done / p.total) : 100;
      bar.style.width = pct + '%';
      bar.textContent = pct + '%';
      text.dataset.status = p.status;
      const words = { done: p.done, total: p.total, moved: p.moved, blocked: p.blocked.length,
                      status: text.dataset['text' + p.status.charAt(0).toUpperCase() + p.status.slice(1)] || '' };
      text.textContent = Object.entries(words).reduce((out, [k, v]) => out.split(`{${k}}`).join(String(v)),
                                                      text.dataset.textProgress);
      blocked.replaceChildren();
      for (const b of p.blocked.slice(0, 200)) {
        const li = document.createElement('li'); li.textContent = `${b.number} ${b.reason}`;
        blocked.appendChild(li);
      }
      if (p.status === 'running') setTimeout(poll, 700);
    });
  })();
})();
