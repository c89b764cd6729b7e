// fluxgate console: a little progressive enhancement. Every page works without it (plain forms).
/* global document, window, fetch, clearTimeout -- runs in the browser */
'use strict';
(function () {
  // Confirm destructive actions (forms marked data-confirm).
  document.addEventListener('submit', function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // Workflow editor: checks the source as the operator types (POST …/validate, cookie session +
  // CSRF header), and shows the problems inline. Saving still goes through the plain form.
  var editor = document.getElementById('workflow-source');
  var out = document.getElementById('workflow-check');
  if (!editor || !out) return;
  var csrf = editor.form && editor.form.querySelector('input[name="_csrf"]');
  var url = editor.getAttribute('data-validate-url');
  var timer;
  function show(result) {
    out.textContent = '';
    if (result.valid && result.warnings.length === 0) { out.textContent = 'valid'; out.className = 'muted'; return; }
    out.className = result.valid ? 'muted' : 'problems';
    var list = document.createElement('ul');
    result.text.forEach(function (line) { var li = document.createElement('li'); li.textContent = line; list.appendChild(li); });
    out.appendChild(list);
  }
  function check() {
    fetch(url, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf ? csrf.value : '' },
      body: JSON.stringify({ source: editor.value })
    }).then(function (r) { return r.json(); }).then(function (body) {
      if (body && body.error) { out.className = 'problems'; out.textContent = body.error.code + ': ' + body.error.message; } else show(body);
    }).catch(function () { /* the save form still validates on the server */ });
  }
  editor.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(check, 400); });
})();
