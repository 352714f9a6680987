// The `query_string` scoring method: the common part of Lucene's classic query syntax over the
// full-text fields of the schema. Supported: terms, "quoted phrases", field:term, field:"phrase",
// field:(group), parentheses, AND / OR / NOT (also && || !), +required and -excluded clauses, ^boost.
// Adjacent clauses are OR'ed (Lucene's default operator); a term without a field searches every
// full-text field. Wildcards, fuzzy (~), ranges and regular expressions are refused with a 400.
import { InvalidArgumentError } from '@conifer/contracts';
import type { DocumentSchema } from './index-schema.js';

export type QueryStringNode =
  | { readonly kind: 'terms'; readonly field: string; readonly text: string; readonly phrase: boolean; readonly boost: number }
  | { readonly kind: 'or'; readonly children: readonly QueryStringNode[] }
  | { readonly kind: 'and'; readonly must: readonly QueryStringNode[]; readonly should: readonly QueryStringNode[]; readonly not: readonly QueryStringNode[] };

type Token =
  | { t: 'word'; v: string }
  | { t: 'phrase'; v: string }
  | { t: '(' | ')' | 'AND' | 'OR' | 'NOT' | '+' | '-' | ':' }
  | { t: '^'; v: number };

function tokenize(query: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const fail = (message: string): never => {
    throw new InvalidArgumentError(`query_string: ${message}`);
  };
  while (i < query.length) {
    const c = query[i]!;
    if (/\s/u.test(c)) {
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ':') {
      out.push({ t: c });
      i++;
      continue;
    }
    if (c === '"') {
      const end = query.indexOf('"', i + 1);
      if (end < 0) fail('unterminated quoted phrase');
      out.push({ t: 'phrase', v: query.slice(i + 1, end) });
      i = end + 1;
      if (query[i] === '~' || query[i] === '*') fail('phrase slop (~) and phrase prefix (*) are not supported by Conifer');
      continue;
    }
    if (c === '^') {
      const m = /^\^(\d+(?:\.\d+)?)/.exec(query.slice(i));
      if (m === null) fail('^ must be followed by a number');
      out.push({ t: '^', v: Number(m![1]) });
      i += m![0].length;
      continue;
    }
    if (query.startsWith('&&', i)) {
      out.push({ t: 'AND' });
      i += 2;
      continue;
    }
    if (query.startsWith('||', i)) {
      out.push({ t: 'OR' });
      i += 2;
      continue;
    }
    if ((c === '+' || c === '-' || c === '!') && (out.length === 0 || i === 0 || /[\s(]/u.test(query[i - 1]!))) {
      out.push({ t: c === '!' ? 'NOT' : c });
      i++;
      continue;
    }
    let j = i;
    while (j < query.length && !/[\s()":^]/u.test(query[j]!)) {
      if (query[j] === '\\' && j + 1 < query.length) j++;
      j++;
    }
    const word = query.slice(i, j).replace(/\\(.)/gu, '$1');
    if (word === 'AND' || word === 'OR' || word === 'NOT') out.push({ t: word });
    else {
      if (/[*?~]/u.test(query.slice(i, j).replace(/\\./gu, ''))) fail(`"${word}": wildcards and fuzzy terms are not supported by Conifer`);
      if (/^[[{]/u.test(word)) fail('range queries are not supported by Conifer');
      if (word.startsWith('/')) fail('regular expressions are not supported by Conifer');
      out.push({ t: 'word', v: word });
    }
    i = j;
  }
  return out;
}

export function parseQueryString(query: string, schema: DocumentSchema): QueryStringNode {
  const tokens = tokenize(query);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const fail = (message: string): never => {
    throw new InvalidArgumentError(`query_string: ${message}`);
  };
  if (schema.text.length === 0) fail('the index schema has no string field with full_text_search');
  const checkField = (field: string): void => {
    if (!schema.text.includes(field)) fail(`"${field}" is not a string field declared with full_text_search`);
  };

  const leaf = (fields: readonly string[], text: string, phrase: boolean, boost: number): QueryStringNode =>
    fields.length === 1
      ? { kind: 'terms', field: fields[0]!, text, phrase, boost }
      : { kind: 'or', children: fields.map((field) => ({ kind: 'terms', field, text, phrase, boost }) as const) };

  const withBoost = (node: QueryStringNode, boost: number): QueryStringNode => {
    if (boost === 1) return node;
    if (node.kind === 'terms') return { ...node, boost: node.boost * boost };
    if (node.kind === 'or') return { kind: 'or', children: node.children.map((c) => withBoost(c, boost)) };
    return { kind: 'and', must: node.must.map((c) => withBoost(c, boost)), should: node.should.map((c) => withBoost(c, boost)), not: node.not };
  };

  const clause = (fields: readonly string[]): QueryStringNode => {
    let token = peek();
    if (token === undefined) fail('unexpected end of query');
    let scoped = fields;
    if (token!.t === 'word' && tokens[pos + 1]?.t === ':') {
      const field = (token as { v: string }).v;
      checkField(field);
      scoped = [field];
      pos += 2;
      token = peek();
      if (token === undefined) fail(`nothing after "${field}:"`);
    }
    let node: QueryStringNode;
    if (token!.t === '(') {
      pos++;
      node = booleanQuery(scoped);
      if (peek()?.t !== ')') fail('missing )');
      pos++;
    } else if (token!.t === 'word' || token!.t === 'phrase') {
      pos++;
      node = leaf(scoped, (token as { v: string }).v, token!.t === 'phrase', 1);
    } else {
      return fail(`unexpected "${token!.t}"`);
    }
    const boost = peek();
    if (boost?.t === '^') {
      pos++;
      node = withBoost(node, boost.v);
    }
    return node;
  };

  const booleanQuery = (fields: readonly string[]): QueryStringNode => {
    const items: Array<{ occur: 'must' | 'should' | 'not'; node: QueryStringNode }> = [];
    let pendingAnd = false;
    while (pos < tokens.length && peek()!.t !== ')') {
      let token = peek()!;
      if (token.t === 'AND') {
        if (items.length === 0) fail('AND needs a clause on its left');
        pendingAnd = true;
        pos++;
        continue;
      }
      if (token.t === 'OR') {
        if (items.length === 0) fail('OR needs a clause on its left');
        pos++;
        continue;
      }
      let occur: 'must' | 'should' | 'not' = 'should';
      if (token.t === '+' || token.t === '-' || token.t === 'NOT') {
        occur = token.t === '+' ? 'must' : 'not';
        pos++;
        token = peek()!;
        if (token === undefined) fail('a clause is missing after an operator');
      }
      const node = clause(fields);
      if (pendingAnd) {
        const previous = items[items.length - 1]!;
        if (previous.occur === 'should') previous.occur = 'must';
        if (occur === 'should') occur = 'must';
        pendingAnd = false;
      }
      items.push({ occur, node });
    }
    if (pendingAnd) fail('AND needs a clause on its right');
    if (items.length === 0) fail('empty query');
    if (items.length === 1 && items[0]!.occur !== 'not') return items[0]!.node;
    return {
      kind: 'and',
      must: items.filter((x) => x.occur === 'must').map((x) => x.node),
      should: items.filter((x) => x.occur === 'should').map((x) => x.node),
      not: items.filter((x) => x.occur === 'not').map((x) => x.node),
    };
  };

  const node = booleanQuery(schema.text);
  if (pos !== tokens.length) fail('unbalanced )');
  return node;
}
