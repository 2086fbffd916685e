import { api, query } from './api.js';
import { clear, formatDate, formatTime, h, thumbnail } from './dom.js';
import { finished, retryButton, stageLine } from './stages.js';

const pageSize = 24;
const pollMilliseconds = 2000;

export async function renderLibrary(view, { params, signal }) {
  const page = Math.max(1, Number.parseInt(params.get('page') ?? '1', 10) || 1);
  const grid = h('ul', { className: 'grid', 'aria-label': 'Videos' });
  const pager = h('nav', { className: 'pager', 'aria-label': 'Pages' });
  const message = h('p', { className: 'error', role: 'alert' });
  clear(view, h('div', { className: 'heading' }, h('h1', {}, 'Library'), h('a', { className: 'button', href: '#/upload' }, 'Upload videos')),
    message, grid, pager);

  let timer;
  signal.addEventListener('abort', () => clearTimeout(timer));
  const load = async () => {
    try {
      const videos = await api(`/api/videos${query({ page, pageSize })}`, { signal });
      message.textContent = '';
      clear(grid, videos.items.length
        ? videos.items.map(video => card(video, load))
        : h('li', { className: 'empty' }, 'No videos yet. ', h('a', { href: '#/upload' }, 'Upload one.')));
      renderPager(pager, videos);
      if (videos.items.some(video => !finished(video))) timer = setTimeout(load, pollMilliseconds);
    } catch (error) {
      if (error.name === 'AbortError') return;
      message.textContent = error.message;
      timer = setTimeout(load, pollMilliseconds * 3);
    }
  };
  await load();
}

function card(video, reload) {
  const link = `#/videos/${video.id}`;
  return h('li', { className: `card video ${video.state}`, dataset: { videoId: video.id, state: video.state } },
    h('a', { href: link, className: 'cover', tabindex: '-1', 'aria-hidden': 'true' }, thumbnail(video.thumbnailUrl, '')),
    h('h2', {}, h('a', { href: link }, video.title)),
    h('p', { className: 'meta' },
      h('span', {}, formatTime(video.durationSeconds)), ' · ',
      h('span', { className: `badge ${video.state}` }, video.state), ' · ',
      h('time', { datetime: video.createdAt }, formatDate(video.createdAt))),
    stageLine(video),
    h('div', { className: 'actions' },
      retryButton(video, reload),
      h('button', {
        type: 'button',
        className: 'danger',
        'aria-label': `Delete ${video.title}`,
        onclick: async () => {
          if (!confirm(`Delete “${video.title}” with its scenes, transcript and files? This cannot be undone.`)) return;
          await api(`/api/videos/${video.id}`, { method: 'DELETE' });
          reload();
        },
      }, 'Delete')));
}

function renderPager(pager, videos) {
  const pages = Math.max(1, Math.ceil(videos.total / videos.pageSize));
  clear(pager,
    videos.page > 1 ? h('a', { href: `#/?page=${videos.page - 1}`, rel: 'prev' }, 'Newer') : null,
    h('span', {}, `Page ${videos.page} of ${pages} · ${videos.total} videos`),
    videos.page < pages ? h('a', { href: `#/?page=${videos.page + 1}`, rel: 'next' }, 'Older') : null);
}
