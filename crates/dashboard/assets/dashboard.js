// pixelway dashboard script: small and framework-free. Pages are rendered on the server; this
// script makes their changes by calling the management API (the same routes the SDKs use) with
// the session cookie and its CSRF token, and shows the API's messages next to the fields.
(() => {
  'use strict';

  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || '';
  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

  // ---- Calling the API -------------------------------------------------------------------
  async function api(method, url, body) {
    const options = {
      method,
      credentials: 'same-origin',
      headers: { 'X-CSRF-Token': csrf, Accept: 'application/json' },
    };
    if (body !== undefined) {
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body);
    }
    const response = await fetch(url, options);
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch { data = { message: text }; }
    if (!response.ok) {
      const error = new Error((data && data.message) || response.statusText);
      error.status = response.status;
      throw error;
    }
    return data;
  }

  // ---- Messages ----------------------------------------------------------------------------
  function clearErrors(form) {
    $$('[data-error-for]', form).forEach((el) => {
      el.textContent = '';
      if (el.classList.contains('alert')) el.hidden = true;
    });
    $$('[aria-invalid]', form).forEach((el) => el.removeAttribute('aria-invalid'));
  }

  // The API names the field first ("urlPrefix: …", "bucket is required …"): the message goes
  // next to that field; anything else goes to the form's own alert.
  function showError(form, message, field) {
    const fields = $$('[data-error-for]', form).map((el) => el.dataset.errorFor).filter(Boolean);
    const named = field || fields.find((f) => message.startsWith(`${f}:`) || message.startsWith(`${f} `));
    const target = named ? $(`[data-error-for="${named}"]`, form) : $('[data-error-for=""]', form);
    if (!target) { alert(message); return; }
    target.textContent = message;
    target.hidden = false;
    const input = named && form.elements[named];
    if (input && input.setAttribute) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
  }

  function flashLater(message) { sessionStorage.setItem('pixelway-flash', message); }
  function flash(message) {
    const box = $('.flash');
    if (!box) return;
    box.textContent = message;
    box.hidden = false;
  }
  const pending = sessionStorage.getItem('pixelway-flash');
  if (pending) { sessionStorage.removeItem('pixelway-flash'); flash(pending); }

  function busy(form, on) {
    $$('button[type="submit"]', form).forEach((b) => { b.disabled = on; });
  }

  // ---- Shared buttons ------------------------------------------------------------------------
  document.addEventListener('click', async (event) => {
    const copy = event.target.closest('[data-copy]');
    if (copy) {
      try {
        await navigator.clipboard.writeText(copy.dataset.copy);
      } catch {
        const area = document.createElement('textarea');
        area.value = copy.dataset.copy;
        document.body.append(area);
        area.select();
        document.execCommand('copy');
        area.remove();
      }
      const label = copy.textContent;
      copy.textContent = 'Copied';
      setTimeout(() => { copy.textContent = label; }, 1500);
      return;
    }
    const remove = event.target.closest('[data-delete]');
    if (remove) {
      if (remove.dataset.confirm && !confirm(remove.dataset.confirm)) return;
      const form = remove.closest('form') || remove.closest('.card') || document.body;
      try {
        await api('DELETE', remove.dataset.delete);
        flashLater('Deleted.');
        location.href = remove.dataset.then || location.href;
      } catch (error) {
        showError(form, error.message);
      }
    }
  });

  // ---- URL Endpoints: the editor -------------------------------------------------------------
  const endpointForm = $('[data-endpoint-form]');
  if (endpointForm) endpointEditor(endpointForm);

  function endpointEditor(form) {
    const data = JSON.parse($('#editor-data', form).textContent);
    const list = $('#origin-sequence', form);
    const picker = $('#origin-picker', form);
    const readonly = form.hasAttribute('data-readonly');
    const byId = new Map(data.availableOrigins.map((o) => [o.id, o]));
    let sequence = data.origins.filter((id) => byId.has(id));
    let dragged = null;

    function move(from, to) {
      if (to < 0 || to >= sequence.length) return;
      const [id] = sequence.splice(from, 1);
      sequence.splice(to, 0, id);
      render();
      const buttons = $$('li[data-id] .controls button', list);
      buttons[Math.min(to * 3, buttons.length - 1)]?.focus();
    }

    function render() {
      $$('li[data-id]', list).forEach((li) => li.remove());
      sequence.forEach((id, index) => {
        const origin = byId.get(id);
        const li = document.createElement('li');
        li.dataset.id = id;
        li.draggable = !readonly;
        li.innerHTML = '<span class="grip" aria-hidden="true">⋮⋮</span><span class="name"></span><span class="kind"></span><span class="controls"></span>';
        $('.name', li).textContent = origin.name;
        $('.kind', li).textContent = origin.kind;
        if (!readonly) {
          const controls = $('.controls', li);
          [['↑', `Move ${origin.name} up`, () => move(index, index - 1), index === 0],
            ['↓', `Move ${origin.name} down`, () => move(index, index + 1), index === sequence.length - 1],
            ['✕', `Remove ${origin.name}`, () => { sequence.splice(index, 1); render(); }, false]]
            .forEach(([text, label, action, disabled]) => {
              const button = document.createElement('button');
              button.type = 'button';
              button.className = 'btn ghost small';
              button.textContent = text;
              button.setAttribute('aria-label', label);
              button.disabled = disabled;
              button.addEventListener('click', action);
              controls.append(button);
            });
          li.addEventListener('dragstart', (e) => { dragged = index; li.classList.add('dragging'); e.dataTransfer.effectAllowed = 'move'; e.dataTransfer.setData('text/plain', id); });
          li.addEventListener('dragend', () => { li.classList.remove('dragging'); });
          li.addEventListener('dragover', (e) => { e.preventDefault(); li.classList.add('drop-target'); });
          li.addEventListener('dragleave', () => li.classList.remove('drop-target'));
          li.addEventListener('drop', (e) => { e.preventDefault(); li.classList.remove('drop-target'); if (dragged !== null) move(dragged, index); dragged = null; });
        }
        list.append(li);
      });
      picker.innerHTML = '';
      const left = data.availableOrigins.filter((o) => !sequence.includes(o.id));
      left.forEach((o) => picker.add(new Option(`${o.name} (${o.kind})`, o.id)));
      if (!left.length) picker.add(new Option(data.availableOrigins.length ? 'Every origin is in the sequence' : 'No origins yet', ''));
      picker.disabled = readonly || !left.length;
      $('#add-origin', form).disabled = readonly || !left.length;
    }

    $('#add-origin', form).addEventListener('click', () => {
      if (!picker.value) return;
      sequence.push(picker.value);
      render();
      picker.focus();
    });

    const identifier = form.elements.urlPrefix;
    const preview = $('[data-url-preview]', form);
    function identifierProblem() {
      if (data.isDefault) return '';
      const value = identifier.value.trim();
      if (!value) return 'urlPrefix: the identifier is required';
      if (!/^[A-Za-z0-9-]+$/.test(value)) return 'urlPrefix: use only letters, digits and hyphens';
      if (value.length > 64) return 'urlPrefix: at most 64 characters';
      if (data.reservedIdentifiers.includes(value.toLowerCase())) return `urlPrefix: "${value}" is reserved`;
      if (data.takenIdentifiers.includes(value)) return `urlPrefix: another endpoint already uses "${value}"`;
      return '';
    }
    function checkIdentifier() {
      const error = $('[data-error-for="urlPrefix"]', form);
      const problem = identifierProblem();
      error.textContent = problem;
      identifier.toggleAttribute('aria-invalid', Boolean(problem));
      if (preview) preview.textContent = `${data.urlBase}${identifier.value.trim() || '…'}/`;
      return problem;
    }
    if (!data.isDefault && identifier) {
      identifier.addEventListener('input', checkIdentifier);
      if (preview) preview.textContent = `${data.urlBase}${identifier.value || '…'}/`;
    }

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearErrors(form);
      const problem = !data.isDefault && identifierProblem();
      if (problem) { showError(form, problem, 'urlPrefix'); return; }
      const body = {
        urlPrefix: data.isDefault ? '' : identifier.value.trim(),
        description: form.elements.description.value.trim(),
        origins: sequence,
        defaultImage: form.elements.defaultImage.value.trim() || null,
        signedUrlsOnly: form.elements.signedUrlsOnly.checked,
        namedTransformationsOnly: form.elements.namedTransformationsOnly.checked,
      };
      busy(form, true);
      try {
        if (data.id) await api('PUT', `/v1/accounts/url-endpoints/${encodeURIComponent(data.id)}`, body);
        else await api('POST', '/v1/accounts/url-endpoints', body);
        flashLater(data.id ? 'Endpoint saved.' : 'Endpoint created.');
        location.href = '/dashboard/endpoints';
      } catch (error) {
        showError(form, error.message);
      } finally {
        busy(form, false);
      }
    });
    render();
  }

  // ---- Origins: the editor and the "Test" action ----------------------------------------------
  const originForm = $('[data-origin-form]');
  if (originForm) originEditor(originForm);

  function originEditor(form) {
    const data = JSON.parse($('#editor-data', form).textContent);
    const origin = data.origin;
    const type = form.elements.type;
    const fields = ['name', 'bucket', 'endpoint', 'region', 'accountName', 'container', 'prefix',
      'accessKey', 'clientEmail', 'baseUrl', 'timeout', 'retries'];
    if (origin) {
      type.value = origin.type;
      fields.forEach((f) => { if (origin[f] != null && form.elements[f]) form.elements[f].value = origin[f]; });
      form.elements.forwardHostHeaderToOrigin.checked = Boolean(origin.forwardHostHeaderToOrigin);
      if (origin.allowedHosts) form.elements.allowedHosts.value = origin.allowedHosts.join(', ');
    }
    $$('[data-secret]', form).forEach((label) => {
      const set = data.secretsSet.includes(label.dataset.secret);
      const state = $('.secret-state', label);
      state.textContent = set ? 'set' : 'not set';
      state.classList.toggle('set', set);
      const input = $('input, textarea', label);
      input.placeholder = set ? 'Leave empty to keep it; type to replace' : 'Not set';
    });
    function showKind() {
      $$('[data-kinds]', form).forEach((el) => { el.hidden = !el.dataset.kinds.split(' ').includes(type.value); });
    }
    type.addEventListener('change', showKind);
    showKind();

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearErrors(form);
      const body = { type: type.value, name: form.elements.name.value.trim() };
      if (!body.name) { showError(form, 'name: the name is required', 'name'); return; }
      $$('[data-kinds]', form).filter((el) => !el.hidden).forEach((el) => {
        $$('input, textarea', el).forEach((input) => {
          if (input.type === 'checkbox') body[input.name] = input.checked;
          else if (input.name === 'allowedHosts') body.allowedHosts = input.value.split(',').map((h) => h.trim()).filter(Boolean);
          else if (input.name === 'retries' && input.value.trim()) body.retries = Number(input.value);
          else if (input.value.trim()) body[input.name] = input.value.trim();
          // An update keeps what it leaves out: a field emptied here is sent as null (its
          // default), a secret left empty is left out (kept).
          else if (!input.closest('[data-secret]')) body[input.name] = null;
        });
      });
      busy(form, true);
      try {
        if (origin) await api('PUT', `/v1/accounts/origins/${encodeURIComponent(origin.id)}`, body);
        else await api('POST', '/v1/accounts/origins', body);
        flashLater(origin ? 'Origin saved.' : 'Origin created.');
        location.href = '/dashboard/origins';
      } catch (error) {
        showError(form, error.message);
      } finally {
        busy(form, false);
      }
    });
  }

  $$('[data-origin-test]').forEach((form) => {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const output = $('output', form);
      output.className = 'test-result';
      output.textContent = 'Testing…';
      try {
        const r = await api('POST', form.dataset.originTest, { path: form.elements.path.value });
        const size = r.size != null ? ` · ${(r.size / 1024).toFixed(1)} KB` : '';
        const code = r.errorClass ? ` (${r.errorClass})` : '';
        output.textContent = `${r.outcome}${code} · ${r.latencyMs.toFixed(1)} ms${size} — ${r.detail}`;
        output.classList.add(r.outcome === 'found' ? 'ok' : 'bad');
      } catch (error) {
        output.textContent = error.message;
        output.classList.add('bad');
      }
    });
  });

  // ---- Media Library: upload, folders, file details ------------------------------------------
  const dropzone = $('#dropzone');
  if (dropzone) {
    const input = $('#file-input');
    const folder = dropzone.dataset.folder;
    const uploads = $('#uploads');

    function upload(file) {
      const li = document.createElement('li');
      li.innerHTML = '<span class="file-name"></span><progress max="100" value="0"></progress><span class="state">waiting</span>';
      $('.file-name', li).textContent = file.name;
      uploads.append(li);
      return new Promise((resolve) => {
        const body = new FormData();
        body.append('file', file);
        body.append('fileName', file.name);
        body.append('folder', folder);
        body.append('useUniqueFileName', 'false');
        const request = new XMLHttpRequest();
        request.open('POST', '/api/v1/files/upload');
        request.setRequestHeader('X-CSRF-Token', csrf);
        request.upload.addEventListener('progress', (e) => {
          if (e.lengthComputable) {
            $('progress', li).value = Math.round((e.loaded / e.total) * 100);
            $('.state', li).textContent = `${Math.round((e.loaded / e.total) * 100)} %`;
          }
        });
        request.addEventListener('load', () => {
          let message = '';
          try { message = JSON.parse(request.responseText).message || ''; } catch { message = request.statusText; }
          const ok = request.status >= 200 && request.status < 300;
          li.classList.add(ok ? 'done' : 'failed');
          $('progress', li).value = ok ? 100 : 0;
          $('.state', li).textContent = ok ? 'uploaded' : message;
          resolve(ok);
        });
        request.addEventListener('error', () => {
          li.classList.add('failed');
          $('.state', li).textContent = 'network error';
          resolve(false);
        });
        request.send(body);
      });
    }

    async function uploadAll(files) {
      const results = [];
      // Two at a time: progress stays readable and the server is not flooded.
      const queue = [...files];
      async function worker() {
        while (queue.length) results.push(await upload(queue.shift()));
      }
      await Promise.all([worker(), worker()]);
      const done = results.filter(Boolean).length;
      flashLater(`${done} of ${results.length} file${results.length === 1 ? '' : 's'} uploaded.`);
      if (done) location.reload();
    }

    input.addEventListener('change', () => { if (input.files.length) uploadAll(input.files); });
    ['dragenter', 'dragover'].forEach((name) => dropzone.addEventListener(name, (e) => { e.preventDefault(); dropzone.classList.add('over'); }));
    ['dragleave', 'drop'].forEach((name) => dropzone.addEventListener(name, (e) => { e.preventDefault(); dropzone.classList.remove('over'); }));
    dropzone.addEventListener('drop', (e) => { if (e.dataTransfer.files.length) uploadAll(e.dataTransfer.files); });
  }

  const newFolder = $('#new-folder');
  if (newFolder) {
    newFolder.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearErrors(newFolder);
      const name = newFolder.elements.folderName.value.trim();
      try {
        await api('POST', '/v1/folder', { folderName: name, parentFolderPath: newFolder.dataset.folder });
        flashLater(`Folder ${name} created.`);
        location.href = `/dashboard/library?folder=${encodeURIComponent(`${newFolder.dataset.folder}${name}/`)}`;
      } catch (error) {
        showError(newFolder, error.message, 'folderName');
      }
    });
  }

  const fileCard = $('[data-file-id]');
  if (fileCard) {
    const id = fileCard.dataset.fileId;
    const tags = $('#tags-form');
    tags.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearErrors(fileCard);
      const list = tags.elements.tags.value.split(',').map((t) => t.trim()).filter(Boolean);
      try {
        await api('PATCH', `/v1/files/${encodeURIComponent(id)}/details`, { tags: list });
        flash('Tags saved.');
      } catch (error) {
        showError(fileCard, error.message);
      }
    });
    $('#purge-file').addEventListener('click', async (event) => {
      clearErrors(fileCard);
      try {
        await api('POST', '/v1/files/purge', { url: event.target.dataset.url });
        flash('Cached copies purged: the next request fetches the file again.');
      } catch (error) {
        showError(fileCard, error.message);
      }
    });
  }

  // ---- Named transformations -------------------------------------------------------------
  const namedForm = $('#named-form');
  if (namedForm) {
    const preview = $('#named-preview');
    const caption = $('#named-preview-caption');
    let timer = null;
    function updatePreview() {
      if (!preview) return;
      const text = namedForm.elements.transformation.value.trim();
      const base = namedForm.dataset.previewBase;
      const sample = namedForm.dataset.sample;
      preview.src = text ? `${base}tr:${encodeURIComponent(text).replace(/%2C/g, ',').replace(/%3A/g, ':')}/${sample}` : `${base}${sample}`;
    }
    if (preview) {
      preview.addEventListener('error', () => { caption.textContent = 'This transformation cannot be applied (see the field).'; });
      preview.addEventListener('load', () => { caption.textContent = `Sample: ${namedForm.dataset.sample}`; });
    }
    namedForm.elements.transformation.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(updatePreview, 350);
    });
    namedForm.addEventListener('reset', () => {
      namedForm.elements.id.value = '';
      $('[data-form-title]', namedForm).textContent = 'Add a named transformation';
      setTimeout(updatePreview, 0);
    });
    $$('[data-edit-named]').forEach((button) => button.addEventListener('click', () => {
      namedForm.elements.id.value = button.dataset.id;
      namedForm.elements.name.value = button.dataset.name;
      namedForm.elements.transformation.value = button.dataset.transformation;
      namedForm.elements.enabled.checked = button.dataset.enabled === 'true';
      $('[data-form-title]', namedForm).textContent = `Edit ${button.dataset.name}`;
      updatePreview();
      namedForm.elements.transformation.focus();
    }));
    namedForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearErrors(namedForm);
      const id = namedForm.elements.id.value;
      const body = {
        name: namedForm.elements.name.value.trim(),
        transformation: namedForm.elements.transformation.value.trim(),
        enabled: namedForm.elements.enabled.checked,
      };
      try {
        if (id) await api('PATCH', `/v1/named-transformations/${encodeURIComponent(id)}`, body);
        else await api('POST', '/v1/named-transformations', body);
        flashLater(`Named transformation ${body.name} saved.`);
        location.reload();
      } catch (error) {
        showError(namedForm, error.message);
      }
    });
  }

  // ---- Accounts (operator): new keys are shown once ----------------------------------------
  function showKeys(keys) {
    const panel = $('#new-keys');
    $('[data-keys-account]', panel).textContent = keys.id;
    $('[data-private-key]', panel).textContent = keys.privateKey;
    $('[data-public-key]', panel).textContent = keys.publicKey;
    $('[data-copy-private]', panel).dataset.copy = keys.privateKey;
    panel.hidden = false;
    panel.scrollIntoView({ block: 'nearest' });
  }
  const accountForm = $('#account-form');
  if (accountForm) {
    accountForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearErrors(accountForm);
      const id = accountForm.elements.id.value.trim();
      if (!id) { showError(accountForm, 'id: the account id is required', 'id'); return; }
      try {
        showKeys(await api('POST', '/v1/operator/accounts', { id }));
        flash(`Account ${id} created.`);
        accountForm.reset();
      } catch (error) {
        showError(accountForm, error.message, 'id');
      }
    });
    $$('[data-rotate]').forEach((button) => button.addEventListener('click', async () => {
      const id = button.dataset.rotate;
      if (!confirm(`Rotate the keys of ${id}? URLs signed with the old key and its dashboard sessions stop working.`)) return;
      try {
        showKeys(await api('POST', `/v1/operator/accounts/${encodeURIComponent(id)}/keys`));
        flash(`New keys for ${id}.`);
      } catch (error) {
        showError(accountForm, error.message);
      }
    }));
  }

  // ---- Custom domains (operator) -------------------------------------------------------------
  const domainForm = $('#domain-form');
  if (domainForm) {
    const accounts = JSON.parse($('#accounts-data').textContent);
    const list = $('#account-ids');
    Object.keys(accounts).sort().forEach((id) => list.append(new Option(id)));
    const account = domainForm.elements.accountId;
    const endpoint = domainForm.elements.urlPrefix;
    account.addEventListener('input', () => {
      endpoint.length = 1;
      (accounts[account.value.trim()] || []).forEach((identifier) => endpoint.add(new Option(`${identifier} (one-to-one)`, identifier)));
    });
    domainForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearErrors(domainForm);
      const host = domainForm.elements.host.value.trim().toLowerCase();
      if (!host) { showError(domainForm, 'host: the host is required', 'host'); return; }
      if (!account.value.trim()) { showError(domainForm, 'accountId: the account is required', 'accountId'); return; }
      const body = { accountId: account.value.trim() };
      if (endpoint.value) body.urlPrefix = endpoint.value;
      try {
        const mapped = await api('PUT', `/v1/operator/custom-domains/${encodeURIComponent(host)}`, body);
        flashLater(`${host} mapped. DNS: ${mapped.dnsRecord.type} ${mapped.dnsRecord.name} → ${mapped.dnsRecord.value}`);
        location.reload();
      } catch (error) {
        showError(domainForm, error.message);
      }
    });
  }
})();
