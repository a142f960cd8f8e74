// Writes tests/fixtures/bpe_cases.json: GPT-2 BPE ids computed by the npm package gpt-3-encoder
// (the reference) for a list of test strings, with the pieces of the GPT-2 pre-tokenisation
// pattern, plus the token count and an FNV-1a hash of the ids of the whole KJV corpus (the text
// src/data/corpus.cpp extracts with /usr/bin/bible). The C++ tests must reproduce all of it.
// Usage (after the setup script's npm install): node tools/make_bpe_fixtures.js
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const root = path.join(__dirname, '..');
const encoder = require(path.join(root, 'node_modules', 'gpt-3-encoder'));
const version = require(path.join(root, 'node_modules', 'gpt-3-encoder', 'package.json')).version;

// The pre-tokenisation pattern the package uses (not exported by it).
const pattern = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
const pieces = (text) => Array.from(text.matchAll(pattern), (m) => m[0]);

const texts = [
  'Hello world',
  'The quick brown fox jumps over the lazy dog.',
  "I'm sure you'll see they've done what we'd said: it's John's, isn't it? We're here.",
  "'s 't 're 've 'm 'll 'd 'S 'T ''s 'x",
  'In 1984 there were 3.14159 pies, 1,000,000 dollars and 42nd street; 0x1F 007.',
  'Spaces:  two,   three,    four.\tTab\t\ttabs\nnewline\n\nparagraph\r\n   \n end   ',
  '      leading and trailing      ',
  '!!! ??? ... --- *** ### @@@ $$$ %%% ^^^ &&& ((( ))) [[[ ]]] {{{ }}} <<< >>> ,,, ;;; :::',
  'Hello,, world,,, a,b,c ,, , "quoted" (paren) [bracket] {brace} <angle> a/b\\c | ~`',
  'Emoji: 😀 😃 🎉👍🏽 ❤️ 👨‍👩‍👧‍👦 🇫🇷 done',
  'Accents: café naïve résumé façade Ångström Straße Øresund Łódź crème brûlée',
  'Greek: Καλημέρα κόσμε, η γλώσσα μου έδωσαν ελληνική. Αλφα Βήτα 123',
  'Cyrillic: Съешь же ещё этих мягких французских булок, да выпей чаю. Україна',
  'Chinese: 我能吞下玻璃而不伤身体。你好，世界！中文测试',
  'Japanese: 私はガラスを食べられます。それは私を傷つけません。ひらがなカタカナ漢字',
  'Mixed: GPT-2 tokenizes “smart quotes”, em—dashes, €100, ½ cup, ² and ³, ٣ and ३ digits.',
  'Korean 안녕하세요 Arabic مرحبا Hebrew שלום Hindi नमस्ते Thai สวัสดี',
  'Unicode spaces:\u00a0nbsp\u2003em\u3000ideographic\u2028line\u202fnarrow',
  'Code: for (int i = 0; i < n; ++i) { sum += a[i] * b[i]; } // done\n\tif (x) return;',
  '<|endoftext|> special text is encoded as plain text',
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  '',
  ' ',
  '\n',
  'x',
];

function fnv1a64(ids) {
  let hash = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  for (const id of ids) {
    for (let i = 0; i < 4; i++) {  // the id's four little-endian bytes
      hash ^= BigInt((id >>> (8 * i)) & 0xff);
      hash = (hash * prime) & 0xffffffffffffffffn;
    }
  }
  return hash.toString(16).padStart(16, '0');
}

function encodeLong(text) {
  // The package's encode() concatenates arrays per piece (quadratic); encoding piece by piece
  // gives the same ids because each piece matches the pattern as a whole.
  const ids = [];
  for (const piece of pieces(text)) {
    const again = pieces(piece);
    if (again.length !== 1 || again[0] !== piece) throw new Error(`piece ${piece} splits again`);
    for (const id of encoder.encode(piece)) ids.push(id);
  }
  return ids;
}

const cases = texts.map((text) => {
  const ids = encoder.encode(text);
  if (encoder.decode(ids) !== text) throw new Error(`reference does not round-trip: ${text}`);
  return { text, pieces: pieces(text), ids };
});

const kjvText = execFileSync('/usr/bin/bible', ['-l1000', 'gen1:1-rev22:21'],
                             { input: '', maxBuffer: 64 << 20 }).toString('utf8').replace(/^\n/, '');
const kjvIds = encodeLong(kjvText);
const corpora = [{ name: 'kjv', bytes: kjvText.length, tokens: kjvIds.length,
                   ids_fnv1a64: fnv1a64(kjvIds), first_ids: kjvIds.slice(0, 32) }];

const out = { generator: 'tools/make_bpe_fixtures.js', package: 'gpt-3-encoder', version,
              cases, corpora };
fs.writeFileSync(path.join(root, 'tests', 'fixtures', 'bpe_cases.json'),
                 JSON.stringify(out, null, 1) + '\n');
console.log(`wrote ${cases.length} cases and ${corpora.length} corpus checks`);
