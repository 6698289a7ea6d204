// The public complaint form: one click sends it once (the server refuses a second use of the
// same form anyway); the contact fields are dimmed while "anonymous" is ticked.
(function () {
  var form = document.getElementById('complaint-form');
  if (!form) { return; }
  var anonymous = document.getElementById('f_anonymous');
  var contact = document.getElementById('contact-fields');
  function showContact() { contact.style.opacity = anonymous.checked ? '0.45' : '1'; }
  anonymous.addEventListener('change', showContact);
  showContact();
  form.addEventListener('submit', function () {
    window.setTimeout(function () { document.getElementById('submit-complaint').disabled = true; }, 0);
  });
})();
