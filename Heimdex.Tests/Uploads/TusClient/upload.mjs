// Uploads a file to Heimdex with tus-js-client, interrupting it after the first chunk and resuming it from the
// upload URL as a restarted client would. Prints one JSON line: the upload URL and the server's offset at the break.
// usage: node upload.mjs <endpoint> <api key> <file> <chunk bytes>
import * as tus from 'tus-js-client';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

const [endpoint, apiKey, file, chunkBytes] = process.argv.slice(2);
const data = readFileSync(file);
const common = {
  headers: { Authorization: `Bearer ${apiKey}` },
  metadata: { filename: basename(file), title: 'Uploaded with tus-js-client' },
  chunkSize: Number(chunkBytes),
  retryDelays: [0, 500, 1000, 2000],
};

// First client: stops for good once one chunk is stored.
const firstUrl = await new Promise((resolve, reject) => {
  const upload = new tus.Upload(data, {
    ...common,
    endpoint,
    onChunkComplete: () => upload.abort().then(() => resolve(upload.url), reject),
    onSuccess: () => reject(new Error('the upload finished before it could be interrupted')),
    onError: reject,
  });
  upload.start();
});

const head = await fetch(firstUrl, { method: 'HEAD', headers: { ...common.headers, 'Tus-Resumable': '1.0.0' } });
const offsetAtInterruption = Number(head.headers.get('upload-offset'));

// Second client: knows only the URL, asks the server where to go on, and finishes.
const finishedUrl = await new Promise((resolve, reject) => {
  const upload = new tus.Upload(data, {
    ...common,
    uploadUrl: firstUrl,
    onSuccess: () => resolve(upload.url),
    onError: reject,
  });
  upload.start();
});

console.log(JSON.stringify({ url: finishedUrl, resumedSameUpload: finishedUrl === firstUrl, offsetAtInterruption, length: data.length }));
