import { api, whenSignedOut } from './api.js';
import { clear, h } from './dom.js';
import { renderLibrary } from './library.js';
import { renderUpload } from './upload.js';
import { renderVideo } from './video.js';
import { renderSearch } from './search.js';
import { renderPeople, renderPerson } from './people.js';

const view = document.getElementById('view');
const nav = document.getElementById('nav');
let session = { signedIn: false };
let leaving = new AbortController();

// Hash routes: #/, #/upload, #/videos/{id}?t=&end=, #/search?q=, #/people, #/people/{id}.
const routes = [
  [/^\/$/, renderLibrary],
  [/^\/upload$/, renderUpload],
  [/^\/videos\/([0-9a-f-]{36})$/, renderVideo],
  [/^\/search$/, renderSearch],
  [/^\/people$/, renderPeople],
  [/^\/people\/([0-9a-f-]{36})$/, renderPerson],
];

function current() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, search = ''] = hash.split('?');
  return { path, params: new URLSearchParams(search) };
}

async function show() {
  leaving.abort();
  leaving = new AbortController();
  if (!session.signedIn) {
    renderSignIn();
    return;
  }
  const { path, params } = current();
  for (const link of nav.querySelectorAll('a')) {
    const target = link.getAttribute('href').slice(1);
    link.toggleAttribute('aria-current', target === path || (target !== '/' && path.startsWith(target)));
  }
  const route = routes.find(([pattern]) => pattern.test(path));
  if (!route) {
    clear(view, h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/' }, 'Back to the library')));
    return;
  }
  const [pattern, render] = route;
  try {
    await render(view, { id: path.match(pattern)[1], params, signal: leaving.signal });
  } catch (error) {
    if (error.name === 'AbortError') return;
    clear(view, h('h1', {}, 'Something went wrong'), h('p', { role: 'alert' }, error.message));
  }
}

function signedIn(answer) {
  session = answer;
  nav.hidden = !session.signedIn;
  document.getElementById('who').textContent = session.signedIn ? session.name : '';
}

function renderSignIn() {
  nav.hidden = true;
  const error = h('p', { className: 'error', role: 'alert' });
  const key = h('input', { id: 'api-key', name: 'apiKey', type: 'password', autocomplete: 'current-password', required: true, spellcheck: 'false' });
  const form = h('form', {
    className: 'card narrow',
    onsubmit: async event => {
      event.preventDefault();
      error.textContent = '';
      try {
        signedIn(await api('/api/session', { method: 'POST', json: { apiKey: key.value } }));
        await show();
      } catch (failure) {
        error.textContent = failure.message;
        key.focus();
      }
    },
  },
  h('h1', {}, 'Sign in'),
  h('p', {}, 'Your API key signs this browser in until you close it; ask your administrator for one.'),
  h('label', { for: 'api-key' }, 'API key'), key,
  h('button', { type: 'submit' }, 'Sign in'),
  error);
  clear(view, form);
  key.focus();
}

whenSignedOut(() => {
  if (session.signedIn) {
    signedIn({ signedIn: false });
    show();
  }
});

document.getElementById('sign-out').addEventListener('click', async () => {
  await api('/api/session', { method: 'DELETE' });
  signedIn({ signedIn: false });
  location.hash = '#/';
  await show();
});

window.addEventListener('hashchange', () => { show(); view.focus({ preventScroll: true }); });

signedIn(await api('/api/session'));
await show();
