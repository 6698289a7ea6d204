// A migration job's progress, polled from the JSON URL in the page's data-progress-src.
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
      text.textContent = `${p.done} / ${p.total} · 已迁移 moved ${p.moved} · 不能迁移 blocked ${p.blocked.length} · ${p.status}`;
      blocked.replaceChildren();
      for (const b of p.blocked.slice(0, 200)) {
        const li = document.createElement('li'); li.textContent = `${b.number} ${b.reason}`;
        blocked.appendChild(li);
      }
      if (p.status === 'running') setTimeout(poll, 700);
    });
  })();
})();
