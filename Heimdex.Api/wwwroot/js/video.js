import { api } from './api.js';
import { clear, formatBytes, formatTime, h, thumbnail } from './dom.js';
import { finished, retryButton, stageLine } from './stages.js';

const stageDone = (video, name) => video.stages.some(stage => stage.stage === name && (stage.state === 'succeeded' || stage.state === 'skipped'));

// #/videos/{id}?t=START&end=END plays exactly that segment: it starts at START and pauses once at END.
export async function renderVideo(view, { id, params, signal }) {
  const video = await api(`/api/videos/${id}`, { signal });
  const [scenes, transcript, people] = await Promise.all([
    stageDone(video, 'detect_shots') ? api(`/api/videos/${id}/scenes`, { signal }) : [],
    stageDone(video, 'transcribe') ? api(`/api/videos/${id}/transcript`, { signal }) : { segments: [] },
    api('/api/people', { signal }),
  ]);

  const player = h('video', { id: 'player', controls: true, preload: 'metadata', src: video.streamUrl, playsinline: true });
  if (stageDone(video, 'transcribe')) {
    player.append(h('track', { kind: 'subtitles', srclang: 'en', label: 'Transcript', src: `/api/videos/${id}/subtitles.vtt`, default: true }));
  }
  playSegment(player, Number.parseFloat(params.get('t')), Number.parseFloat(params.get('end')));

  const seek = seconds => { player.currentTime = seconds; player.play().catch(() => {}); };
  const lines = transcript.segments.map(segment => ({
    segment,
    button: h('button', { type: 'button', className: 'line', onclick: () => seek(segment.startSeconds) },
      h('time', {}, formatTime(segment.startSeconds)), ' ', segment.text),
  }));
  player.addEventListener('timeupdate', () => highlight(lines, player.currentTime));

  const downloads = [
    stageDone(video, 'transcribe') ? h('a', { href: `/api/videos/${id}/subtitles.srt`, download: '' }, 'Subtitles (SRT)') : null,
    stageDone(video, 'notes') ? h('a', { href: `/api/videos/${id}/notes.pdf`, download: '' }, 'Notes (PDF)') : null,
  ].filter(Boolean);

  const progress = h('div', {}, stageLine(video), retryButton(video, () => renderVideo(view, { id, params, signal })));
  clear(view,
    h('div', { className: 'heading' }, h('h1', {}, video.title), h('a', { href: '#/' }, 'Library')),
    video.description ? h('p', { className: 'description' }, video.description) : null,
    h('p', { className: 'meta' }, `${formatTime(video.durationSeconds)} · ${video.width ?? '?'}×${video.height ?? '?'} · ${formatBytes(video.sizeBytes)}`,
      downloads.length ? [' · ', downloads.flatMap((link, index) => index ? [' · ', link] : [link])] : null),
    progress,
    h('div', { className: 'watch' },
      h('div', { className: 'player' }, player),
      h('section', { className: 'transcript', 'aria-labelledby': 'transcript-heading' },
        h('h2', { id: 'transcript-heading' }, 'Transcript'),
        lines.length ? h('ol', {}, lines.map(line => h('li', {}, line.button))) : h('p', {}, finished(video) ? 'No speech.' : 'Not transcribed yet.'))),
    h('section', { 'aria-labelledby': 'scenes-heading' },
      h('h2', { id: 'scenes-heading' }, `Scenes (${scenes.length})`),
      h('ol', { className: 'strip' }, scenes.map(scene => h('li', {},
        h('button', { type: 'button', className: 'scene', onclick: () => seek(scene.startSeconds), 'aria-label': `Scene ${scene.index + 1} at ${formatTime(scene.startSeconds)}` },
          thumbnail(scene.thumbnailUrl, ''), h('span', {}, formatTime(scene.startSeconds))))))),
    h('div', { className: 'columns' },
      onScreenText(scenes, seek),
      peopleSeen(scenes, people, seek)));

  if (!finished(video)) {
    const timer = setTimeout(async () => {
      const fresh = await api(`/api/videos/${id}`, { signal }).catch(() => null);
      if (!fresh) return;
      if (finished(fresh)) renderVideo(view, { id, params, signal });
      else clear(progress, stageLine(fresh));
    }, 2000);
    signal.addEventListener('abort', () => clearTimeout(timer));
  }
}

function playSegment(player, start, end) {
  if (!Number.isFinite(start)) return;
  player.addEventListener('loadedmetadata', () => {
    player.currentTime = start;
    player.play().catch(() => {});
  }, { once: true });
  if (!Number.isFinite(end)) return;
  const stopAtEnd = () => {
    if (player.currentTime >= end) {
      player.pause();
      player.removeEventListener('timeupdate', stopAtEnd);
    }
  };
  player.addEventListener('timeupdate', stopAtEnd);
}

function highlight(lines, time) {
  for (const { segment, button } of lines) {
    const playing = time >= segment.startSeconds && time < segment.endSeconds;
    if (playing === button.hasAttribute('aria-current')) continue;
    button.toggleAttribute('aria-current', playing);
    if (playing) button.scrollIntoView({ block: 'nearest' });
  }
}

function onScreenText(scenes, seek) {
  const seen = new Map();
  for (const line of scenes.flatMap(scene => scene.onScreenText)) {
    const key = `${line.text}@${line.startSeconds}`;
    if (!seen.has(key)) seen.set(key, line);
  }
  const lines = [...seen.values()].sort((a, b) => a.startSeconds - b.startSeconds);
  return h('section', { 'aria-labelledby': 'text-heading' },
    h('h2', { id: 'text-heading' }, 'On-screen text'),
    lines.length
      ? h('ul', {}, lines.map(line => h('li', {}, h('button', { type: 'button', className: 'line', onclick: () => seek(line.startSeconds) },
        h('time', {}, formatTime(line.startSeconds)), ' ', line.text))))
      : h('p', {}, 'None read.'));
}

function peopleSeen(scenes, people, seek) {
  const names = new Map(people.map(person => [person.id, person.name]));
  const firstSeen = new Map();
  for (const scene of scenes) {
    for (const face of scene.faces) {
      if (face.personId && names.has(face.personId) && !firstSeen.has(face.personId)) firstSeen.set(face.personId, scene.startSeconds);
    }
  }
  return h('section', { 'aria-labelledby': 'people-heading' },
    h('h2', { id: 'people-heading' }, 'People seen'),
    firstSeen.size
      ? h('ul', {}, [...firstSeen].map(([personId, seconds]) => h('li', {},
        h('a', { href: `#/people/${personId}` }, names.get(personId)), ' first at ',
        h('button', { type: 'button', className: 'link', onclick: () => seek(seconds) }, formatTime(seconds)))))
      : h('p', {}, 'Nobody you named.'));
}
