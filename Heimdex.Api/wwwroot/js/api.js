// Every call goes out with the session cookie (same origin) and the header that marks it as this page's own.
export const pageHeaders = Object.freeze({ 'X-Requested-With': 'heimdex' });

export class ApiError extends Error {
  constructor(status, problem) {
    super(problemText(status, problem));
    this.status = status;
    this.problem = problem;
  }
}

function problemText(status, problem) {
  const details = Object.values(problem?.errors ?? {}).flat();
  const text = [problem?.title, problem?.detail, ...details].filter(Boolean).join(': ');
  return text || `The server answered ${status}.`;
}

let onSignedOut = () => {};
export function whenSignedOut(handler) { onSignedOut = handler; }

export async function api(path, { method = 'GET', json, form, signal } = {}) {
  const headers = { ...pageHeaders, Accept: 'application/json' };
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  const response = await fetch(path, { method, headers, body, signal, credentials: 'same-origin' });
  if (response.status === 401 && !path.startsWith('/api/session')) {
    onSignedOut();
  }
  if (!response.ok) {
    let problem = null;
    try { problem = await response.json(); } catch { /* not a problem document */ }
    throw new ApiError(response.status, problem);
  }
  return response.status === 204 ? null : response.json();
}

export function query(parameters) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, value);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
