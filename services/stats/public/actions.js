// Operator actions: drain or remove an engine, stop a stream. They need the API key, which the operator pastes
// once; it stays in this tab's sessionStorage (gone when the tab closes) and goes only to stats, which checks it
// and forwards the action to the fleet. Without a key no action button is shown.
import { h } from './dom.js';

const STORAGE = 'acefleet-api-key';

const apiKey = () => sessionStorage.getItem(STORAGE) ?? '';

function report(text, level) {
  const status = document.getElementById('action-status');
  status.textContent = text;
  status.dataset.level = level;
}

/** POST an action; on failure the error from the catalogue (status, code, message) is shown in the header. */
async function run(what, path, onDone) {
  report(`${what}…`, 'busy');
  try {
    const res = await fetch(path, { method: 'POST', headers: { authorization: `Bearer ${apiKey()}` } });
    const body = await res.json().catch(() => null);
    if (!res.ok) {
      const error = body?.error ?? { code: 'error', message: res.statusText };
      report(`${what} failed: HTTP ${res.status} ${error.code}: ${error.message}`, 'error');
      return;
    }
    report(`${what}: done`, 'ok');
  } catch (err) {
    report(`${what} failed: ${err.message}`, 'error');
  }
  onDone();
}

/** A button for one action on `target` (an engine or stream id), or null while no key is set. */
function actionButton(action, label, target, path, onDone) {
  if (!apiKey()) return null;
  const onclick = () => run(`${label} ${target}`, path, onDone);
  return h('button', { class: `action ${action}`, type: 'button', 'data-action': action, onclick }, label);
}

const engine = (id, action) => `/api/actions/engines/${encodeURIComponent(id)}/${action}`;

export const engineActions = (e, onDone) => [
  actionButton('drain', 'Drain', e.id, engine(e.id, 'drain'), onDone),
  actionButton('remove', 'Remove', e.id, engine(e.id, 'remove'), onDone),
];

export const streamActions = (s, onDone) =>
  actionButton(
    'stop',
    'Stop',
    s.streamId,
    `/api/actions/streams/${encodeURIComponent(s.streamId)}/stop`,
    onDone,
  );

/** The key form in the header: paste the key to show the actions, forget it to hide them. */
export function setupKeyForm(onChange) {
  const form = document.getElementById('key-form');
  const input = form.querySelector('input');
  const forget = form.querySelector('[data-forget]');
  const sync = () => {
    form.dataset.keySet = apiKey() ? 'yes' : 'no';
    input.value = '';
    input.placeholder = apiKey() ? 'API key set' : 'API key';
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (input.value.trim()) sessionStorage.setItem(STORAGE, input.value.trim());
    sync();
    onChange();
  });
  forget.addEventListener('click', () => {
    sessionStorage.removeItem(STORAGE);
    report('', 'ok');
    sync();
    onChange();
  });
  sync();
}
