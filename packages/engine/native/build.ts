// Builds Conifer's usearch binding (native/usearch-binding.cpp against usearch's own headers and NumKong kernels, three
// headers patched below) into native/build/build/Release/conifer_usearch.node. Run by the package's `build` script; skipped
// when the last build used the same inputs. Without a C++ toolchain (make, a C++ compiler, python3 for node-gyp) it
// records why and exits 0: the engine then uses usearch's prebuilt binding (src/ann/usearch-binding.ts), slower on
// large graphs but the same graphs and answers. A compile error fails the build under CI and warns otherwise.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const USEARCH_VERSION = '2.25.3';
const here = dirname(fileURLToPath(import.meta.url));
const buildDir = join(here, 'build');
const addon = join(buildDir, 'build', 'Release', 'conifer_usearch.node');
const statusFile = join(buildDir, 'status.json');

/** What the last build did (native/build/status.json: checked by src/ann/usearch-binding.spec.ts, named in the engine's fallback reason). */
interface BuildStatus {
  built: boolean;
  inputs: string;
  reason?: string;
}

const require = createRequire(import.meta.url);
/** The installed usearch package's directory (its `exports` hide package.json from require.resolve). */
function packageRoot(name: string): string {
  let dir = dirname(require.resolve(name));
  while (!existsSync(join(dir, 'package.json')) || (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name !== name) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json of ${name} above ${require.resolve(name)}`);
    dir = up;
  }
  return dir;
}
const usearchRoot = packageRoot('usearch');
const usearchVersion = (JSON.parse(readFileSync(join(usearchRoot, 'package.json'), 'utf8')) as { version: string }).version;
// Its `gyp` and `include` are relative to the current directory.
const addonApi = createRequire(join(usearchRoot, 'package.json'))('node-addon-api') as { gyp: string; include: string };

interface Patch {
  /** A header of usearch's include/usearch directory. */
  file: string;
  before: string;
  after: string;
}

/** A walk's step in usearch: the prefetch callback over the popped candidate's unvisited neighbours. */
const PREFETCH_STEP = `            // Optional prefetching
            if (!is_dummy<prefetch_at>()) {
                candidates_range_t missing_candidates{*this, candidate_neighbors, visits};
                prefetch(missing_candidates.begin(), missing_candidates.end());
            }`;
/** The same step loading the node at the top of the candidate heap first (the next step's node: a wasted load if the top changes). */
const PREFETCH_STEP_LOADING_AHEAD = `            // Optional prefetching
            if (!is_dummy<prefetch_at>()) {
                candidates_range_t missing_candidates{*this, candidate_neighbors, visits};
                if (!next.empty()) {
                    unsigned char ahead = *reinterpret_cast<unsigned char const volatile*>(node_at_(next.top().slot).tape());
                    asm volatile("" : : "r"(ahead));
                }
                prefetch(missing_candidates.begin(), missing_candidates.end());
            }`;

// The walk scores each unvisited neighbour of a candidate in turn, and at 1M nodes every neighbour's vector is a
// cache (and TLB) miss. usearch's walk takes a prefetch callback but its dense index passes none; this one loads one
// byte of each vector first, so the misses overlap instead of following one another. Real loads, not prefetch
// instructions: those were dropped on the 2-vCPU VMs measured here (no gain on 4 KB pages; 1.5× the loads' CPU with
// the graph on 2 MB pages, session 16), the loads cut a search's CPU 30–37 % at 1M × 128 (bench/RESULTS.md, session 15).
const PATCHES: Patch[] = [
  {
    file: 'index_dense.hpp',
    before: `    template <typename scalar_at, typename predicate_at>
    search_result_t search_(scalar_at const* vector,`,
    after: `    struct vectors_touch_t {
        index_dense_gt const* index;
        template <typename iterator_at> inline void operator()(iterator_at begin, iterator_at end) const noexcept {
            unsigned sink = 0;
            for (; begin != end; ++begin)
                sink += *reinterpret_cast<unsigned char const volatile*>(index->vectors_lookup_[get_slot(begin)]);
            asm volatile("" : : "r"(sink));
        }
    };

    template <typename scalar_at, typename predicate_at>
    search_result_t search_(scalar_at const* vector,`,
  },
  {
    file: 'index_dense.hpp',
    before: `            auto allow = [free_key_copy](member_cref_t const& member) noexcept {
                return (vector_key_t)member.key != free_key_copy;
            };
            auto typed_result = typed_->search(vector_data, wanted, metric_proxy_t{*this}, search_config, allow);
            return search_result_t{std::move(typed_result), std::move(lock)};
        } else {`,
    // Without a predicate of its own, usearch still passes one that reads every accepted neighbour's node for its key
    // (a removed entry's is \`free_key_\`): one more cache miss per neighbour, ~a third of the walk's CPU at 1M × 128
    // (perf, session 16). Conifer never removes from a graph (deleted slots are dropped after the search), so no key
    // is free and the walk is given no predicate at all: the same answers.
    after: `            auto typed_result = typed_->search(vector_data, wanted, metric_proxy_t{*this}, search_config,
                                               dummy_predicate_t{}, vectors_touch_t{this});
            return search_result_t{std::move(typed_result), std::move(lock)};
        } else {`,
  },
  // Inserting walks the graph the same way (its own nearest neighbours at every level).
  {
    file: 'index_dense.hpp',
    before: `                   : typed_->add(key, vector_data, metric, update_config, on_success);`,
    after: `                   : typed_->add(key, vector_data, metric, update_config, on_success, vectors_touch_t{this});`,
  },
  // Each step of the walk starts with the popped candidate's node (its neighbour list), another miss the loads above
  // cannot overlap: the next candidate's node is loaded while this one's neighbours are scored. The heap's top may
  // change meanwhile (a wasted load, nothing else). 1M × 128 at 709 candidates: ×0.90 on top of the patches above.
  {
    file: 'index.hpp',
    before: `            neighbors_ref_t candidate_neighbors = neighbors_base_(node_at_(candidate.slot));

${PREFETCH_STEP}`,
    after: `            neighbors_ref_t candidate_neighbors = neighbors_base_(node_at_(candidate.slot));

${PREFETCH_STEP_LOADING_AHEAD}`,
  },
  // The same for an insert's walk (search_to_insert_, each level of the new node): the builder's time after an ingest
  // is time the namespace's tail is scanned exactly. Reading a byte of a node another thread may be relinking is
  // harmless: the value is discarded. One thread's build CPU ×0.91–0.94 at 100k–300k × 128, ×0.90 at 50k × 768, the
  // saved graph byte-identical (bench/src/addon-build-ab.ts; session 17). Loads of the successors a full neighbour
  // scores when it links back (form_reverse_links_) were tried too: ×1.02 / ×0.97 on top of this, not kept.
  {
    file: 'index.hpp',
    before: `            node_lock_t candidate_lock = node_lock_(candidate_slot);
            neighbors_ref_t candidate_neighbors = neighbors_(candidate_ref, level);

${PREFETCH_STEP}`,
    after: `            node_lock_t candidate_lock = node_lock_(candidate_slot);
            neighbors_ref_t candidate_neighbors = neighbors_(candidate_ref, level);

${PREFETCH_STEP_LOADING_AHEAD}`,
  },
  // 2 MB pages for the walk. A viewed graph: its mapping is advised for huge pages and read in at once (the binding's
  // viewAsync drops the file's 4 KB page cache first, so the kernel reads it back in 2 MB folios; ext4 has had them
  // since Linux 6.16). A graph built or loaded in memory: usearch's arenas are advised the same (the machine's THP
  // setting is \`madvise\` on the hosts measured). Both advices are hints: a kernel without them maps 4 KB pages.
  {
    file: 'index.hpp',
    before: `        byte_t* file = (byte_t*)mmap(NULL, file_stat.st_size, PROT_READ, MAP_SHARED, descriptor, 0);
        if (file == MAP_FAILED) {
            ::close(descriptor);
            return result.failed(std::strerror(errno));
        }`,
    after: `        byte_t* file = (byte_t*)mmap(NULL, file_stat.st_size, PROT_READ, MAP_SHARED, descriptor, 0);
        if (file == MAP_FAILED) {
            ::close(descriptor);
            return result.failed(std::strerror(errno));
        }
        ::madvise(file, file_stat.st_size, MADV_HUGEPAGE);
        ::madvise(file, file_stat.st_size, 22 /* MADV_POPULATE_READ, Linux 5.14 */);`,
  },
  // usearch's mapped file starts with descriptor 0 and its close() closes whatever it holds: a \`view\` of a missing file
  // closed the process's stdin (fd 0), and libuv later aborted on a handle that had reused it (\`uv__close: Assertion
  // fd > STDERR_FILENO\`; found by ann-worker.int-spec's failed map, session 16). Only a descriptor it opened is closed.
  {
    file: 'index.hpp',
    before: `        munmap(ptr_, length_);
        ::close(file_descriptor_);
        file_descriptor_ = 0;`,
    after: `        if (ptr_)
            munmap(ptr_, length_);
        if (file_descriptor_ > 0)
            ::close(file_descriptor_);
        file_descriptor_ = 0;`,
  },
  {
    file: 'index_plugins.hpp',
    before: `        auto* result = mmap(NULL, count_bytes, PROT_WRITE | PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return (result == MAP_FAILED) ? nullptr : (byte_t*)result;`,
    after: `        auto* result = mmap(NULL, count_bytes, PROT_WRITE | PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (result != MAP_FAILED)
            ::madvise(result, count_bytes, MADV_HUGEPAGE);
        return (result == MAP_FAILED) ? nullptr : (byte_t*)result;`,
  },
];

function writeStatus(status: BuildStatus): void {
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(statusFile, `${JSON.stringify(status, null, 2)}\n`);
}

function skip(inputs: string, reason: string): never {
  writeStatus({ built: false, inputs, reason });
  process.stderr.write(`@conifer/engine: usearch's prebuilt binding will be used (${reason})\n`);
  process.exit(0);
}

const sources = [join(here, 'usearch-binding.cpp'), fileURLToPath(import.meta.url)];
const inputs = createHash('sha256')
  .update(usearchVersion)
  .update(process.platform + process.arch)
  .update(sources.map((f) => readFileSync(f, 'utf8')).join('\0'))
  .digest('hex')
  .slice(0, 16);

if (existsSync(addon) && existsSync(statusFile)) {
  const last = JSON.parse(readFileSync(statusFile, 'utf8')) as BuildStatus;
  if (last.built && last.inputs === inputs) process.exit(0);
}
if (usearchVersion !== USEARCH_VERSION) skip(inputs, `usearch ${usearchVersion} installed; the header patch is for ${USEARCH_VERSION}`);
if (process.platform !== 'linux') skip(inputs, `not built on ${process.platform}`);

const nodeGyp = [
  process.env.npm_config_node_gyp,
  join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
  '/usr/local/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
].find((p): p is string => p !== undefined && existsSync(p));
if (nodeGyp === undefined) skip(inputs, 'node-gyp not found (it comes with npm)');
for (const tool of ['make', 'python3', process.env.CXX ?? 'g++']) {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) skip(inputs, `${tool} not found`);
}

// The headers include their siblings by quoted name: all of them are copied, the patched ones with their patches.
const headers = new Map<string, string>();
for (const name of readdirSync(join(usearchRoot, 'include/usearch'))) headers.set(name, readFileSync(join(usearchRoot, 'include/usearch', name), 'utf8'));
for (const { file, before, after } of PATCHES) {
  const text = headers.get(file);
  if (text === undefined || !text.includes(before)) skip(inputs, `usearch/${file} does not have the code the patch expects`);
  headers.set(file, text.replace(before, after));
}
mkdirSync(join(buildDir, 'include/usearch'), { recursive: true });
for (const [name, text] of headers) writeFileSync(join(buildDir, 'include/usearch', name), text);

// gyp wants paths inside the .gyp file's tree (a source or an included .gyp above it is built or generated above
// the build directory): usearch's package, node-addon-api's headers and our source are linked or copied in.
const link = (target: string, name: string): void => {
  rmSync(join(buildDir, name), { force: true, recursive: true });
  symlinkSync(target, join(buildDir, name));
};
link(usearchRoot, 'usearch');
link(resolve(addonApi.include.replace(/"/g, '')), 'node-addon-api');
copyFileSync(join(here, 'usearch-binding.cpp'), join(buildDir, 'usearch-binding.cpp'));
const gyp = {
  variables: { numkong_root: 'usearch/numkong' },
  includes: ['usearch/numkong/numkong.gypi'],
  targets: [
    {
      target_name: 'conifer_usearch',
      sources: ['usearch-binding.cpp'],
      dependencies: ['numkong_lib'],
      cflags: ['-fexceptions', '-Wno-unknown-pragmas', '-Wno-maybe-uninitialized'],
      cflags_cc: ['-fexceptions', '-Wno-unknown-pragmas', '-Wno-maybe-uninitialized', '-std=c++17'],
      include_dirs: ['node-addon-api', 'include'],
      defines: ['USEARCH_USE_NUMKONG=1', 'NK_DYNAMIC_DISPATCH=1', 'USEARCH_USE_OPENMP=0'],
    },
  ],
};
writeFileSync(join(buildDir, 'binding.gyp'), JSON.stringify(gyp, null, 2));

// A binary of other inputs must not outlive a failed build (usearch-binding.ts loads whatever is there).
rmSync(addon, { force: true });
process.stderr.write('@conifer/engine: compiling the usearch binding (native/build; a few minutes the first time)\n');
// configure + build, not rebuild: make keeps the NumKong objects of an earlier build (most of the compile time).
// Headers of the Node that runs this (its release tarball has them), else what npm is configured with (`nodedir`),
// else node-gyp downloads them; the binding uses Node-API only, so any recent version's headers fit.
const ownHeaders = join(dirname(process.execPath), '..');
const nodedir = existsSync(join(ownHeaders, 'include/node/node_api.h')) ? [`--nodedir=${ownHeaders}`] : [];
const gypRun = (verb: string) => spawnSync(process.execPath, [nodeGyp, verb, `--directory=${buildDir}`, '--jobs=max', ...nodedir], { encoding: 'utf8', maxBuffer: 64 << 20 });
const configure = gypRun('configure');
const run = configure.status === 0 ? gypRun('build') : configure;
writeFileSync(join(buildDir, 'build.log'), `${configure.stdout ?? ''}${configure.stderr ?? ''}${run === configure ? '' : `${run.stdout ?? ''}${run.stderr ?? ''}`}`);
if (run.status !== 0 || !existsSync(addon)) {
  const tail = `${run.stdout ?? ''}${run.stderr ?? ''}`.split('\n').slice(-25).join('\n');
  if (process.env.CI === 'true') {
    writeStatus({ built: false, inputs, reason: 'compile failed' });
    process.stderr.write(`${tail}\n@conifer/engine: the usearch binding failed to compile (native/build/build.log)\n`);
    process.exit(1);
  }
  skip(inputs, `compile failed, see native/build/build.log:\n${tail}`);
}
writeStatus({ built: true, inputs });
