// The new record form: show only the inputs of the chosen way of naming the subject.
(function () {
  const modeNew = document.getElementById('mode-new');
  if (!modeNew) return;
  function showSubjectMode() {
    const isNew = modeNew.checked;
    document.getElementById('existing-subject').hidden = isNew;
    document.getElementById('new-subject').hidden = !isNew;
  }
  document.querySelectorAll('input[name=subject_mode]').forEach(r => r.addEventListener('change', showSubjectMode));
  showSubjectMode();
})();
