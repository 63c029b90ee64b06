// Writes golden.json: the ids OpenAI's GPT-2 encoder (npm gpt-3-encoder 1.1.4) gives for each
// entry of corpus.json; and golden-random.json: the same for 1000 seeded random strings, written
// as UTF-16 code units since some hold lone surrogates. Run it outside the repository, where the package is installed:
//   mkdir -p /tmp/enc && cd /tmp/enc && npm install gpt-3-encoder@1.1.4
//   NODE_PATH=/tmp/enc/node_modules node make-golden.js
// An entry is a string, or {"utf16": [code units]} for strings with lone surrogates (which
// System.Text.Json cannot read as a string).
'use strict';
const fs = require('fs');
const path = require('path');
const { encode, decode } = require('gpt-3-encoder');

const corpus = JSON.parse(fs.readFileSync(path.join(__dirname, 'corpus.json'), 'utf8'));
const golden = corpus.map(entry => {
  const text = typeof entry === 'string' ? entry : String.fromCharCode(...entry.utf16);
  const ids = encode(text);
  if (ids.some(id => id === undefined)) {
    throw new Error(`gpt-3-encoder produced an unknown token for ${JSON.stringify(text)}`);
  }
  return typeof entry === 'string' ? { text, ids } : { utf16: entry.utf16, ids, decoded: decode(ids) };
});
const lines = golden.map(g => '  ' + JSON.stringify(g));
fs.writeFileSync(path.join(__dirname, 'golden.json'), '[\n' + lines.join(',\n') + '\n]\n');
console.log(`${golden.length} entries, ${golden.reduce((n, g) => n + g.ids.length, 0)} ids`);

// Seeded random strings: fragments GPT-2's pattern cares about, plus code points from blocks
// assigned long ago (so Node's and .NET's Unicode versions agree on them), plus lone surrogates.
function mulberry32(seed) {
  return function () {
    seed |= 0; seed = seed + 0x6D2B79F5 | 0;
    let t = Math.imul(seed ^ seed >>> 15, 1 | seed);
    t = t + Math.imul(t ^ t >>> 7, 61 | t) ^ t;
    return ((t ^ t >>> 14) >>> 0) / 4294967296;
  };
}
const random = mulberry32(20261122);
const pick = array => array[Math.floor(random() * array.length)];
const fragments = [' ', ' ', ' ', '  ', '\t', '\n', '\r\n', '\v', '\f', '\u00a0', '\u3000', '\u2028', '\ufeff', '\u0085',
  "'", "'", 's', 't', 're', 've', 'm', 'll', 'd', 'S', 'the', ' the', 'ing', 'Hello', 'world', '0', '7', '42', '2024', '3.14',
  '!', '.', ',', '-', '_', '<|endoftext|>', '(', ')', '{', '}', '"', '$', '\u20ac', '\u2014', '\u2026', '\u00e9', 'e\u0301',
  '\u4e2d', '\u30a2', '\ud55c', '\u0639', '\u05e9', '\u0928\u094d', '\u00b2', '\u00bd', '\u0663',
  '\u{1F600}', '\u{1F44D}\u{1F3FD}', '\u{1F468}\u200d\u{1F469}\u200d\u{1F467}', '\u{1F1EF}\u{1F1F5}', '\u{1D400}', '\u{1D7D8}', '\u{20000}'];
const blocks = [[0x20, 0x7f], [0xa0, 0x250], [0x370, 0x3ff], [0x400, 0x4ff], [0x590, 0x5ff], [0x600, 0x6ff], [0x900, 0x97f],
  [0x2000, 0x206f], [0x3040, 0x30ff], [0x4e00, 0x9fa5], [0xac00, 0xd7a3], [0x1f600, 0x1f64f], [0x1d400, 0x1d49b]];
function randomText() {
  let text = '';
  const count = Math.floor(random() * 40);
  for (let i = 0; i < count; i++) {
    const r = random();
    if (r < 0.2) {
      const [low, high] = pick(blocks);
      text += String.fromCodePoint(low + Math.floor(random() * (high - low)));
    } else if (r < 0.23) {
      text += String.fromCharCode(0xd800 + Math.floor(random() * 0x800));
    } else {
      text += pick(fragments);
    }
  }
  return text;
}
const randomGolden = [];
for (let i = 0; i < 1000; i++) {
  const text = randomText();
  const units = Array.from({ length: text.length }, (_, k) => text.charCodeAt(k));
  randomGolden.push('  ' + JSON.stringify({ utf16: units, ids: encode(text) }));
}
fs.writeFileSync(path.join(__dirname, 'golden-random.json'), '[\n' + randomGolden.join(',\n') + '\n]\n');
console.log(`${randomGolden.length} random entries`);
