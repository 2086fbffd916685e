import { api, query } from './api.js';
import { clear, drop, formatTime, h, markedText, thumbnail } from './dom.js';

const filters = ['videoId', 'personId', 'from', 'to'];

// #/search?q=…&videoId=&personId=&from=&to= : the query lives in the address, so results can be bookmarked and Back works.
export async function renderSearch(view, { params, signal }) {
  const [videos, people] = await Promise.all([api('/api/videos?pageSize=200', { signal }), api('/api/people', { signal })]);
  const box = h('input', { id: 'q', name: 'q', type: 'search', value: params.get('q') ?? '', required: true, maxlength: '500', placeholder: 'Words said or shown, or what happens' });
  const video = select('videoId', 'Video', 'Any video', videos.items.map(v => [v.id, v.title]), params);
  const person = select('personId', 'Person', 'Anyone', people.map(p => [p.id, p.name]), params);
  const from = dateInput('from', 'Uploaded from', params);
  const to = dateInput('to', 'Uploaded before', params);
  const results = h('section', { className: 'results', 'aria-live': 'polite', 'aria-label': 'Results' });
  const form = h('form', {
    className: 'search',
    role: 'search',
    onsubmit: event => {
      event.preventDefault();
      const values = { q: box.value.trim(), videoId: video.value, personId: person.value, from: from.value, to: to.value };
      const target = `#/search${query(values)}`;
      // The same address again (after an image search, say) changes no hash: search in place.
      if (location.hash === target) textSearch(results, new URLSearchParams(query(values)), signal);
      else location.hash = target;
    },
  },
  h('div', { className: 'field grow' }, h('label', { for: 'q' }, 'Search'), box),
  h('button', { type: 'submit' }, 'Search'),
  h('details', { className: 'filters', open: filters.some(name => params.get(name)) },
    h('summary', {}, 'Filters'),
    h('div', { className: 'row' }, video.field, person.field, from.field, to.field)));

  const imageInput = h('input', { id: 'image', type: 'file', accept: 'image/jpeg,image/png,image/webp,image/bmp' });
  const imageZone = h('label', { className: 'drop small', for: 'image' }, h('strong', {}, 'Search by image:'), ' drop a picture or a face here, or choose one', imageInput);
  const byImage = async file => {
    clear(results, h('p', {}, `Searching for scenes like ${file.name}…`));
    const form = new FormData();
    form.append('file', file);
    try {
      const answer = await api('/api/search/image', { method: 'POST', form, signal });
      showHits(results, answer.hits, `Scenes like ${answer.fileName}${answer.facesSearched ? ` (${answer.facesSearched} face${answer.facesSearched === 1 ? '' : 's'} searched)` : ''}`);
    } catch (error) {
      if (error.name !== 'AbortError') clear(results, h('p', { className: 'error', role: 'alert' }, error.message));
    }
  };
  imageInput.addEventListener('change', () => imageInput.files[0] && byImage(imageInput.files[0]));
  drop(imageZone, files => byImage(files[0]));

  clear(view, h('h1', {}, 'Search'), form, imageZone, results);
  if (!params.get('q')) {
    box.focus();
    return;
  }
  await textSearch(results, params, signal);
}

async function textSearch(results, params, signal, cursor) {
  const parameters = { q: params.get('q'), cursor };
  for (const name of filters) {
    const value = params.get(name);
    parameters[name] = value && (name === 'from' || name === 'to') ? new Date(`${value}T00:00:00`).toISOString() : value;
  }
  try {
    const answer = await api(`/api/search${query(parameters)}`, { signal });
    const more = answer.nextCursor
      ? h('button', { type: 'button', onclick: event => { event.currentTarget.remove(); textSearch(results, params, signal, answer.nextCursor); } }, 'More results')
      : null;
    showHits(results, answer.hits, cursor ? null : `Results for “${answer.query}”`, Boolean(cursor));
    if (more) results.append(more);
  } catch (error) {
    if (error.name !== 'AbortError') clear(results, h('p', { className: 'error', role: 'alert' }, error.message));
  }
}

function showHits(results, hits, heading, append = false) {
  const list = h('ol', { className: 'hits' }, hits.map(hit));
  if (append) {
    results.append(list);
    return;
  }
  clear(results, heading ? h('h2', {}, heading) : null, hits.length ? list : h('p', {}, 'No scenes match.'));
}

function hit(found) {
  const play = `#/videos/${found.videoId}?t=${found.playFromSeconds}&end=${found.endSeconds}`;
  return h('li', { className: 'card hit' },
    h('a', { href: play, className: 'cover', 'aria-label': `Play ${found.videoTitle} from ${formatTime(found.playFromSeconds)}` }, thumbnail(found.thumbnailUrl, '')),
    h('div', {},
      h('h3', {}, h('a', { href: play }, found.videoTitle), ' ', h('span', { className: 'meta' }, `${formatTime(found.startSeconds)}–${formatTime(found.endSeconds)}`)),
      h('p', { className: 'snippet' }, markedText(found.snippet)),
      h('p', { className: 'why' }, reasons(found.score))));
}

// Which rankings found the scene, and how strongly: each is a reason a person can read.
function reasons(score) {
  const found = (name) => score[name] !== null && score[name] !== undefined;
  const parts = [
    ['lexical', () => `words: ${score.matchedWords?.join(', ') || 'some'}`],
    ['fuzzy', () => `corrected: ${score.correctedWords?.join(', ') || 'a typo'}`],
    ['semantic', () => `meaning: ${Math.round(score.similarity * 100)} % alike`],
    ['visual', () => `picture: ${Math.round(score.visual * 100)} % alike`],
    ['face', () => `face: ${Math.round(score.face * 100)} % alike`],
  ].filter(([name]) => found(name));
  return ['Matched by ', parts.map(([, label], index) => [index ? ', ' : '', h('span', { className: 'badge' }, label())]), ` · rank score ${score.total.toFixed(3)}`];
}

function select(name, label, anyLabel, options, params) {
  const element = h('select', { id: name, name },
    h('option', { value: '' }, anyLabel),
    options.map(([value, text]) => h('option', { value, selected: params.get(name) === value }, text)));
  return { field: h('div', { className: 'field' }, h('label', { for: name }, label), element), get value() { return element.value; } };
}

function dateInput(name, label, params) {
  const element = h('input', { id: name, name, type: 'date', value: params.get(name) ?? '' });
  return { field: h('div', { className: 'field' }, h('label', { for: name }, label), element), get value() { return element.value; } };
}
