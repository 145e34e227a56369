"""Gathers the training corpus of the default pack from Debian and npm packages only.

Prose: the Python 3.11 documentation sources (reStructuredText) and the Node.js API docs (Markdown).
Code: the Python 3.11 standard library (.py) and TypeScript's lib .d.ts files.
Every source is public domain or permissively licensed; the list (with package versions) is written
to work/sources.json and copied into the model card.

Documents are files; files larger than CHUNK chars are cut at blank lines into chunks that count as
documents, so that the held-out split is not a handful of huge files. Exact duplicates (by content
hash) are dropped. The validation split is chosen by a hash of the document's name (about 3%).

Run (from the repo root):  /usr/bin/python3 models/recipe/corpus.py [--install]
--install runs `apt-get install -y python3.11-doc libpython3.11-stdlib` first (plus nodejs-doc when
/usr/share/doc/nodejs/api is missing; the docs used here came with the NodeSource nodejs 20 package); TypeScript comes
from the repo's node_modules (`npm ci`).
Writes models/recipe/work/corpus/{train,val}.jsonl and models/recipe/work/val/*.txt (one plain-text
file per held-out document, for `lm-probe corpus`).
"""
import argparse
import glob
import hashlib
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, '..', '..'))
WORK = os.path.join(HERE, 'work')
CHUNK = 60_000
VAL_PERCENT = 3


def deb_version(pkg):
    try:
        return subprocess.run(['dpkg-query', '-W', '-f=${Version}', pkg], capture_output=True, text=True).stdout.strip() or None
    except FileNotFoundError:
        return None


def npm_version(name):
    try:
        with open(os.path.join(ROOT, 'node_modules', name, 'package.json')) as f:
            return json.load(f)['version']
    except OSError:
        return None


def python_stdlib_files():
    base = '/usr/lib/python3.11'
    skip = ('/test/', '/tests/', '/dist-packages/', '/site-packages/', '/__pycache__/', '/pydoc_data/',
            '/encodings/', '/idle_test/', '/lib2to3/tests/', '/config-3.11')
    out = []
    for p in sorted(glob.glob(base + '/**/*.py', recursive=True)):
        rel = p[len(base):]
        if any(s in rel + '/' for s in skip) or os.path.basename(p).startswith('test_'):
            continue
        out.append(p)
    return out


SOURCES = [
    {
        'name': 'python-docs', 'kind': 'prose', 'package': 'python3.11-doc (Debian)',
        'version': lambda: deb_version('python3.11-doc'),
        'license': 'PSF-2.0 (Python Software Foundation License; docs also under the Zero-Clause BSD for examples)',
        'files': lambda: sorted(glob.glob('/usr/share/doc/python3.11/html/_sources/**/*.rst.txt', recursive=True)),
    },
    {
        'name': 'nodejs-api-docs', 'kind': 'prose', 'package': 'nodejs (the NodeSource build installed on the project machines; Debian\'s nodejs-doc ships the same docs), /usr/share/doc/nodejs/api/*.md',
        'version': lambda: deb_version('nodejs'),
        'license': 'MIT (Node.js license)',
        'files': lambda: sorted(glob.glob('/usr/share/doc/nodejs/api/*.md')),
    },
    {
        'name': 'python-stdlib', 'kind': 'code', 'package': 'libpython3.11-stdlib (Debian), /usr/lib/python3.11/**/*.py without tests, encodings, pydoc_data',
        'version': lambda: deb_version('libpython3.11-stdlib'),
        'license': 'PSF-2.0',
        'files': python_stdlib_files,
    },
    {
        'name': 'typescript-lib', 'kind': 'code', 'package': 'typescript (npm), lib/*.d.ts',
        'version': lambda: npm_version('typescript'),
        'license': 'Apache-2.0',
        'files': lambda: sorted(glob.glob(os.path.join(ROOT, 'node_modules/typescript/lib/*.d.ts'))),
    },
]


def chunks(text):
    if len(text) <= CHUNK:
        yield text
        return
    start = 0
    while start < len(text):
        end = min(len(text), start + CHUNK)
        if end < len(text):
            cut = text.rfind('\n\n', start + CHUNK // 2, end)
            if cut < 0:
                cut = text.rfind('\n', start + CHUNK // 2, end)
            if cut > 0:
                end = cut + 1
        yield text[start:end]
        start = end


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--install', action='store_true')
    args = ap.parse_args()
    if args.install:
        pkgs = ['python3.11-doc', 'libpython3.11-stdlib']
        if not glob.glob('/usr/share/doc/nodejs/api/*.md'):
            pkgs.append('nodejs-doc')  # Debian's package of the same Node.js docs, where node's own package lacks them
        subprocess.run(['apt-get', 'install', '-y'] + pkgs, check=True)
    os.makedirs(os.path.join(WORK, 'corpus'), exist_ok=True)
    valdir = os.path.join(WORK, 'val')
    os.makedirs(valdir, exist_ok=True)
    for f in glob.glob(os.path.join(valdir, '*.txt')):
        os.remove(f)
    seen = set()
    stats = []
    ftrain = open(os.path.join(WORK, 'corpus', 'train.jsonl'), 'w')
    fval = open(os.path.join(WORK, 'corpus', 'val.jsonl'), 'w')
    for src in SOURCES:
        files = src['files']()
        if not files:
            sys.exit(f"source {src['name']} has no files: install {src['package']} (see --install)")
        st = {k: v for k, v in src.items() if k not in ('files', 'version')}
        st.update(version=src['version'](), files=len(files), docs=0, dups=0, chars=0, valDocs=0, valChars=0)
        for path in files:
            with open(path, 'rb') as f:
                raw = f.read()
            try:
                text = raw.decode('utf-8')
            except UnicodeDecodeError:
                text = raw.decode('latin-1')
            text = text.replace('\r\n', '\n')
            if not text.strip():
                continue
            name = os.path.relpath(path, ROOT if path.startswith(ROOT) else '/')
            for i, piece in enumerate(chunks(text)):
                h = hashlib.sha256(piece.encode('utf-8')).hexdigest()
                if h in seen:
                    st['dups'] += 1
                    continue
                seen.add(h)
                doc_id = f'{src["name"]}:{name}#{i}'
                is_val = int(hashlib.md5(doc_id.encode()).hexdigest(), 16) % 100 < VAL_PERCENT
                rec = json.dumps({'id': doc_id, 'source': src['name'], 'kind': src['kind'], 'text': piece})
                st['docs'] += 1
                st['chars'] += len(piece)
                if is_val:
                    st['valDocs'] += 1
                    st['valChars'] += len(piece)
                    fval.write(rec + '\n')
                    safe = doc_id.replace('/', '_').replace(':', '_').replace('#', '_')
                    with open(os.path.join(valdir, safe + '.txt'), 'w', encoding='utf-8', newline='') as vf:
                        vf.write(piece)
                else:
                    ftrain.write(rec + '\n')
        stats.append(st)
        print(json.dumps(st))
    ftrain.close()
    fval.close()
    with open(os.path.join(WORK, 'sources.json'), 'w') as f:
        json.dump(stats, f, indent=1)


if __name__ == '__main__':
    main()
