// Writes golden.json: the ids OpenAI's GPT-2 encoder (npm gpt-3-encoder 1.1.4) gives for each
// entry of corpus.json. Run it outside the repository, where the package is installed:
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
