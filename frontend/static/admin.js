// Admin actions in the web app: the admin token dialog, running an action with
// the token, and a control to forget it. The token is asked for once per tab
// (api.js keeps it in sessionStorage), leaves the page only as an
// Authorization header, and is forgotten as soon as the server refuses it.

import { HTTPError, adminToken, forgetAdminToken, saveAdminToken } from './api.js';
import { el, labelled } from './dom.js';

const TOKEN_EVENT = 'curio:admin-token';

function tokenChanged() {
  window.dispatchEvent(new Event(TOKEN_EVENT));
}

// The dialog is created on first use and kept for the life of the page.
let dialog = null;

function tokenDialog() {
  if (dialog) return dialog;
  const node = el('dialog', 'token-dialog');
  node.id = 'token-dialog';
  const form = el('form', 'token-form');
  form.method = 'dialog';
  const title = el('h2', 'dialog-title', 'Admin token');
  title.id = 'token-dialog-title';
  node.setAttribute('aria-labelledby', title.id);
  const why = el('p', 'note',
    'Starting runs needs this server’s admin token (CURIO_ADMIN_TOKEN). It is kept in this tab only, until you close the tab or forget it.');
  why.id = 'token-dialog-why';
  node.setAttribute('aria-describedby', why.id);
  const input = el('input');
  input.id = 'admin-token';
  input.name = 'token';
  input.type = 'password';
  input.autocomplete = 'off';
  input.spellcheck = false;
  input.required = true;
  const buttons = el('div', 'dialog-buttons');
  const cancel = el('button', 'button', 'Cancel');
  cancel.type = 'button';
  cancel.addEventListener('click', () => node.close('cancel'));
  const ok = el('button', 'button button-primary', 'Use this token');
  ok.type = 'submit';
  ok.value = 'ok';
  ok.id = 'token-submit';
  buttons.append(cancel, ok);
  form.append(title, why, labelled('Admin token', input), buttons);
  node.append(form);
  document.body.append(node);
  dialog = { node, input };
  return dialog;
}

// askToken shows the token dialog and resolves to the token typed, or "" when
// the user cancels (Cancel or Escape).
export function askToken() {
  const d = tokenDialog();
  d.input.value = '';
  d.node.returnValue = '';
  return new Promise((resolve) => {
    d.node.addEventListener('close', () => {
      const token = d.node.returnValue === 'ok' ? d.input.value.trim() : '';
      d.input.value = ''; // the field never keeps it
      resolve(token);
    }, { once: true });
    d.node.showModal();
    d.input.focus();
  });
}

// AdminError is an admin action's failure, with a message for the user.
export class AdminError extends Error {
  constructor(message, status) {
    super(message);
    this.name = 'AdminError';
    this.status = status;
  }
}

// withToken runs action(token) with the kept token, asking for one first when
// none is kept. It resolves to the action's result, or null when the user
// cancelled the dialog. Failures are AdminErrors: a 401 forgets the token, a
// 503 from the admin guard says admin is disabled on this server.
export async function withToken(action) {
  let token = adminToken();
  if (!token) {
    token = await askToken();
    if (!token) return null;
    saveAdminToken(token);
    tokenChanged();
  }
  try {
    return await action(token);
  } catch (err) {
    if (!(err instanceof HTTPError)) throw new AdminError(err?.message || 'The request failed.', 0);
    switch (err.status) {
      case 401:
        forgetAdminToken();
        tokenChanged();
        throw new AdminError('The server refused the admin token, so it was forgotten. Try again with the token set in CURIO_ADMIN_TOKEN.', 401);
      case 503:
        if (String(err.message).includes('CURIO_ADMIN_TOKEN')) {
          throw new AdminError('Admin actions are disabled on this server: it has no admin token. Set CURIO_ADMIN_TOKEN (or CURIO_ADMIN_TOKEN_FILE) on the API to enable them.', 503);
        }
        throw new AdminError(`The server cannot start runs right now (${err.message}). Try again in a moment.`, 503);
      default:
        throw new AdminError(err.message, err.status);
    }
  }
}

// tokenControl says whether a token is kept for this tab, with a button to
// forget it (or to set one); it follows changes until signal aborts.
export function tokenControl(signal) {
  const box = el('p', 'token-control');
  const text = el('span', 'muted');
  const button = el('button', 'button button-small');
  button.type = 'button';
  button.id = 'token-button';
  const render = () => {
    const kept = Boolean(adminToken());
    text.textContent = kept
      ? 'An admin token is kept for this tab. '
      : 'You will be asked for the admin token when you start a run. ';
    button.textContent = kept ? 'Forget token' : 'Set token';
    button.dataset.token = kept ? 'kept' : 'none';
  };
  button.addEventListener('click', async () => {
    if (adminToken()) {
      forgetAdminToken();
    } else {
      const token = await askToken();
      if (!token) return;
      saveAdminToken(token);
    }
    tokenChanged();
    button.focus();
  });
  window.addEventListener(TOKEN_EVENT, render, { signal });
  render();
  box.append(text, button);
  return box;
}
