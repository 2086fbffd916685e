import { api } from './api.js';
import { clear, formatDate, formatTime, h, thumbnail } from './dom.js';

const pollMilliseconds = 2000;

export async function renderPeople(view, { signal }) {
  const people = await api('/api/people', { signal });
  const name = h('input', { id: 'person-name', required: true, maxlength: '200', autocomplete: 'off' });
  const error = h('p', { className: 'error', role: 'alert' });
  const form = h('form', {
    className: 'inline',
    onsubmit: async event => {
      event.preventDefault();
      try {
        const person = await api('/api/people', { method: 'POST', json: { name: name.value.trim() } });
        location.hash = `#/people/${person.id}`;
      } catch (failure) {
        error.textContent = failure.message;
      }
    },
  }, h('label', { for: 'person-name' }, 'New person'), name, h('button', { type: 'submit' }, 'Create'), error);
  clear(view, h('h1', {}, 'People'),
    h('p', {}, 'Add a person with a few clear photos of their face; Heimdex then finds them in every video.'),
    form,
    people.length
      ? h('ul', { className: 'people' }, people.map(person => h('li', { className: 'card' },
        h('h2', {}, h('a', { href: `#/people/${person.id}` }, person.name)),
        h('p', { className: 'meta' }, `${person.photos.length} photo${person.photos.length === 1 ? '' : 's'} · `,
          h('span', { className: `badge ${person.searchable ? 'indexed' : 'pending'}` }, person.searchable ? 'searchable' : 'no usable photo yet')))))
      : h('p', {}, 'Nobody yet.'));
}

export async function renderPerson(view, { id, signal }) {
  const [person, appearances] = await Promise.all([api(`/api/people/${id}`, { signal }), api(`/api/people/${id}/appearances`, { signal })]);
  const photos = h('ul', { className: 'photos', 'aria-label': 'Reference photos' });
  const input = h('input', { id: 'photo', type: 'file', accept: 'image/jpeg,image/png,image/webp,image/bmp', multiple: true });
  const error = h('p', { className: 'error', role: 'alert' });
  let timer;
  signal.addEventListener('abort', () => clearTimeout(timer));
  const refresh = async () => {
    const fresh = await api(`/api/people/${id}`, { signal });
    showPhotos(photos, fresh, refresh);
    clearTimeout(timer);
    if (fresh.photos.some(photo => photo.state === 'uploaded' || photo.state === 'processing')) timer = setTimeout(refresh, pollMilliseconds);
  };
  input.addEventListener('change', async () => {
    error.textContent = '';
    for (const file of input.files) {
      const form = new FormData();
      form.append('file', file);
      try {
        await api(`/api/people/${id}/photos`, { method: 'POST', form });
      } catch (failure) {
        error.textContent = `${file.name}: ${failure.message}`;
      }
    }
    input.value = '';
    await refresh();
  });

  clear(view,
    h('div', { className: 'heading' }, h('h1', {}, person.name), h('a', { href: '#/people' }, 'People')),
    h('section', { 'aria-labelledby': 'photos-heading' },
      h('h2', { id: 'photos-heading' }, 'Reference photos'),
      h('label', { className: 'drop small', for: 'photo' }, h('strong', {}, 'Add photos'), ' of this person’s face', input),
      error, photos),
    h('section', { 'aria-labelledby': 'appearances-heading' },
      h('h2', { id: 'appearances-heading' }, 'Appearances'),
      appearances.length ? h('ul', { className: 'appearances' }, appearances.map(timeline)) : h('p', {}, 'Not seen in any video yet.')),
    h('button', {
      type: 'button',
      className: 'danger',
      onclick: async () => {
        if (!confirm(`Delete ${person.name} and their photos?`)) return;
        await api(`/api/people/${id}`, { method: 'DELETE' });
        location.hash = '#/people';
      },
    }, `Delete ${person.name}`));
  await refresh();
}

function showPhotos(list, person, refresh) {
  clear(list, person.photos.length ? person.photos.map(photo => h('li', { className: `photo ${photo.state}`, dataset: { state: photo.state } },
    h('span', { className: `badge ${photo.state}` }, photo.state),
    ` added ${formatDate(photo.createdAt)}`,
    photo.state === 'failed' ? h('p', { className: 'error', role: 'alert' }, photo.error ?? 'No reason recorded.') : null,
    h('button', {
      type: 'button',
      className: 'link',
      onclick: async () => {
        await api(`/api/people/${person.id}/photos/${photo.id}`, { method: 'DELETE' });
        await refresh();
      },
    }, 'Remove'))) : h('li', {}, 'No photos yet.'));
}

// One bar per video, its length the video's duration, a mark for each stretch the person is seen; a mark plays it.
function timeline(video) {
  const duration = video.durationSeconds || Math.max(...video.ranges.map(range => range.endSeconds));
  return h('li', { className: 'card' },
    h('h3', {}, h('a', { href: `#/videos/${video.videoId}` }, video.title)),
    h('div', { className: 'timeline', role: 'list', 'aria-label': `Where ${video.title} shows them` },
      video.ranges.map(range => h('a', {
        role: 'listitem',
        href: `#/videos/${video.videoId}?t=${range.startSeconds}&end=${range.endSeconds}`,
        title: `${formatTime(range.startSeconds)}–${formatTime(range.endSeconds)}`,
        'aria-label': `Seen ${formatTime(range.startSeconds)} to ${formatTime(range.endSeconds)}`,
        style: { left: `${(range.startSeconds / duration) * 100}%`, width: `${Math.max(0.5, ((range.endSeconds - range.startSeconds) / duration) * 100)}%` },
      }))),
    h('ol', { className: 'strip' }, video.ranges.map(range => h('li', {},
      h('a', { className: 'scene', href: `#/videos/${video.videoId}?t=${range.startSeconds}&end=${range.endSeconds}` },
        thumbnail(range.thumbnailUrl, ''), h('span', {}, `${formatTime(range.startSeconds)}–${formatTime(range.endSeconds)}`))))));
}
