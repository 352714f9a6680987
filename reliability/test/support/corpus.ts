// The bad-input corpus: generated from a table of routes (method, path, a valid body, query parameters) by
// mutating every JSON path, path parameter and query parameter with hostile values, plus whole-body variants
// (truncated, not JSON, wrong type, nested too deep, oversized, invalid UTF-8, wrong content type) and auth
// variants. Requests that could be valid only ever touch "corpus-*" ids, namespaces and projects.

type Surface = 'rest' | 'grpc' | 'store';

export interface RouteSpec {
  readonly name: string;
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
  /** Path template with :params. */
  readonly path: string;
  readonly params?: Record<string, string>;
  readonly query?: Record<string, string | string[]>;
  readonly body?: unknown;
  readonly surface: Surface;
  /** Headers that authenticate the route (Api-Key, bearer or internal token). */
  readonly auth: Record<string, string>;
  /** Form bodies accepted too (oauth). */
  readonly form?: boolean;
}

export interface BadRequest {
  readonly label: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string | Uint8Array;
  readonly surface: Surface;
}

// Deep structures as text (JSON.stringify would recurse).
const deepObjectText = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const deepArrayText = (depth: number) => '['.repeat(depth) + '1' + ']'.repeat(depth);
const deepFilterText = (depth: number) => '{"$and":['.repeat(depth) + '{"genre":{"$eq":"x"}}' + ',{"genre":{"$ne":"y"}}]}'.repeat(depth);
/** The body's JSON text with one more top-level field given as raw JSON text. */
const withField = (body: unknown, name: string, raw: string) => {
  const text = JSON.stringify({ ...(body as object), [name]: '__raw__' });
  return text.replace('"__raw__"', raw);
};

/** Values substituted at every JSON path (raw JSON text, so non-JSON numbers can be sent too). */
const BAD_JSON_VALUES: Record<string, string> = {
  string: '"x"',
  emptyString: '""',
  number: '42',
  negative: '-1',
  fraction: '0.5',
  huge: '1e308',
  overflow: '1e309',
  hugeInt: '123456789012345678901234567890',
  negZero: '-0',
  NaN: 'NaN',
  Infinity: 'Infinity',
  true: 'true',
  object: '{"$gt":1}',
  array: '[1,"a",null,{}]',
  nested: deepObjectText(200),
  deepArray: deepArrayText(5000),
  longString: JSON.stringify('x'.repeat(100_000)),
  traversal: '"../../../../etc/passwd"',
  nul: '"a\\u0000b"',
  loneSurrogate: '"\\ud800"',
  crlf: '"a\\r\\nX-Injected: 1"',
  dollarKey: '{"$where":"1"}',
  proto: '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}',
};

const BAD_PATH_SEGMENTS: Record<string, string> = {
  traversal: '..%2F..%2F..%2Fetc%2Fpasswd',
  dotdot: '..',
  encodedDotDot: '%2E%2E',
  nul: 'a%00b',
  badPercent: '%ZZ',
  overlongUtf8: '%C0%AF',
  invalidUtf8: '%FF%FE',
  long: 'a'.repeat(5000),
  unicode: '%E2%98%83',
  space: 'a%20b',
  crlf: 'a%0D%0AX-Injected:%201',
  upper: 'UPPER',
  json: '%7B%22a%22%3A1%7D',
};

const BAD_QUERY_VALUES: Record<string, string> = {
  negative: '-1',
  zero: '0',
  huge: '1e309',
  text: 'abc',
  bigInt: '99999999999999999999999',
  traversal: '../../etc/passwd',
  invalidUtf8: '%FF%FE',
  badPercent: '%ZZ',
  long: 'a'.repeat(5000),
  empty: '',
};

function jsonPaths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const paths: (string | number)[][] = [];
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      paths.push([...prefix, i]);
      paths.push(...jsonPaths(item, [...prefix, i]));
    });
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      paths.push([...prefix, key]);
      paths.push(...jsonPaths(item, [...prefix, key]));
    }
  }
  return paths;
}

/** JSON text of `value` with the value at `path` replaced by raw JSON text. */
function replaceAt(value: unknown, path: (string | number)[], raw: string): string {
  const marker = `__corpus_marker_${Math.random().toString(36).slice(2)}__`;
  const clone = JSON.parse(JSON.stringify(value)) as Record<string | number, unknown>;
  let target = clone as Record<string | number, unknown>;
  for (const step of path.slice(0, -1)) target = target[step] as Record<string | number, unknown>;
  target[path.at(-1)!] = marker;
  return JSON.stringify(clone).replace(`"${marker}"`, raw);
}

function buildPath(route: RouteSpec, params: Record<string, string>, query?: Record<string, string | string[]>): string {
  let path = route.path;
  for (const [name, value] of Object.entries(params)) path = path.replace(`:${name}`, value);
  const q = query ?? route.query;
  if (q) {
    const parts: string[] = [];
    for (const [name, value] of Object.entries(q)) for (const v of Array.isArray(value) ? value : [value]) parts.push(`${name}=${v}`);
    if (parts.length) path += `?${parts.join('&')}`;
  }
  return path;
}

const encodeParams = (params: Record<string, string> = {}) =>
  Object.fromEntries(Object.entries(params).map(([k, v]) => [k, encodeURIComponent(v)]));

export function generateCorpus(routes: RouteSpec[], other: { wrongKey: Record<string, string>; weakKey?: Record<string, string> }): BadRequest[] {
  const out: BadRequest[] = [];
  const json = { 'content-type': 'application/json' };
  for (const route of routes) {
    const params = encodeParams(route.params);
    const path = buildPath(route, params);
    const base = (label: string, extra: Partial<BadRequest>): BadRequest => ({
      label: `${route.name} ${label}`,
      method: route.method,
      path,
      headers: { ...route.auth, ...(route.body !== undefined ? json : {}) },
      surface: route.surface,
      ...extra,
    });

    // Auth variants: none, malformed, another tenant's / a wrong credential, and a valid but weak one.
    out.push(base('no credentials', { headers: route.body !== undefined ? json : {}, body: route.body !== undefined ? JSON.stringify(route.body) : undefined }));
    out.push(base('wrong credentials', { headers: { ...other.wrongKey, ...(route.body !== undefined ? json : {}) }, body: route.body !== undefined ? JSON.stringify(route.body) : undefined }));
    if (other.weakKey) out.push(base('weak credentials', { headers: { ...other.weakKey, ...(route.body !== undefined ? json : {}) }, body: route.body !== undefined ? JSON.stringify(route.body) : undefined }));

    // Path parameters.
    for (const name of Object.keys(route.params ?? {})) {
      for (const [label, segment] of Object.entries(BAD_PATH_SEGMENTS)) {
        out.push(base(`path :${name}=${label}`, {
          path: buildPath(route, { ...params, [name]: segment }),
          body: route.body !== undefined ? JSON.stringify(route.body) : undefined,
        }));
      }
    }
    // Query parameters.
    for (const name of Object.keys(route.query ?? {})) {
      for (const [label, value] of Object.entries(BAD_QUERY_VALUES)) {
        out.push(base(`query ${name}=${label}`, { path: buildPath(route, params, { ...route.query, [name]: value }) }));
      }
      out.push(base(`query ${name} x2000`, { path: buildPath(route, params, { ...route.query, [name]: Array.from({ length: 2000 }, (_, i) => `corpus-${i}`) }) }));
    }
    if (route.method === 'GET') continue;
    if (route.method === 'DELETE') {
      out.push(base('unexpected body', { headers: { ...route.auth, ...json }, body: '{"a":' }));
      continue;
    }

    // Every JSON path × every hostile value.
    const body = route.body ?? {};
    for (const jsonPath of jsonPaths(body)) {
      for (const [label, raw] of Object.entries(BAD_JSON_VALUES)) {
        out.push(base(`body ${jsonPath.join('.')}=${label}`, { body: replaceAt(body, jsonPath, raw) }));
      }
    }
    // Whole-body variants.
    const text = JSON.stringify(body);
    const variants: Record<string, string | Uint8Array> = {
      empty: '',
      null: 'null',
      array: '[]',
      string: '"x"',
      number: '1',
      notJson: 'hello',
      NaN: 'NaN',
      trailingGarbage: `${text}xyz`,
      duplicateKeys: text.replace(/^\{/, '{"name":1,"name":2,'),
      bom: `\uFEFF${text}`,
      deepObject: deepObjectText(10_000),
      deepFilter: withField(body, 'filter', deepFilterText(2_000)),
      deepFilterShallow: withField(body, 'filter', deepFilterText(60)),
      wideIn: JSON.stringify({ ...(body as object), filter: { genre: { $in: Array.from({ length: 20_000 }, (_, i) => `g${i}`) } } }),
      unknownOperator: JSON.stringify({ ...(body as object), filter: { genre: { $regex: '.*' } } }),
      extraFields: JSON.stringify({ ...(body as object), __proto__: { admin: true }, unknown_field: 1 }),
      invalidUtf8: Uint8Array.from([...Buffer.from(text.slice(0, Math.max(1, text.length - 2))), 0xff, 0xfe, 0xc0, 0xaf, ...Buffer.from(text.slice(-2))]),
      utf16: new Uint8Array(Buffer.from(text, 'utf16le')),
    };
    for (let cut = 1; cut < text.length; cut += Math.max(1, Math.floor(text.length / 6))) variants[`truncated@${cut}`] = text.slice(0, cut);
    for (const [label, payload] of Object.entries(variants)) out.push(base(`body ${label}`, { body: payload }));
    // Oversized (above the 4 MB gateway limit) and wrong content types.
    out.push(base('body oversized', { body: `{"pad":"${'x'.repeat(5 * 1024 * 1024)}"}` }));
    out.push(base('content-type text/plain', { headers: { ...route.auth, 'content-type': 'text/plain' }, body: text }));
    out.push(base('content-type xml', { headers: { ...route.auth, 'content-type': 'application/xml' }, body: '<a/>' }));
    out.push(base('content-type form', { headers: { ...route.auth, 'content-type': 'application/x-www-form-urlencoded' }, body: route.form ? 'grant_type=password&client_id[]=x' : 'a=1&a=2' }));
    out.push(base('content-type bogus charset', { headers: { ...route.auth, 'content-type': 'application/json; charset=ebcdic' }, body: text }));
    out.push(base('no content-type', { headers: { ...route.auth }, body: text }));
  }
  return out;
}
