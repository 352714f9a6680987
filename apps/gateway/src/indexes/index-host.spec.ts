import { describe, expect, it } from '@jest/globals';
import { indexHost, isIndexHost, parseIndexHostHeader } from './index-host.js';

const project = '0b5c9a8e-3f7d-4c1a-9e2b-6d4f8a1c2e3b';

describe('index hosts', () => {
  it('uses a path prefix under the public URL by default, scheme kept', () => {
    expect(indexHost({ publicUrl: 'http://127.0.0.1:8080' }, project, 'docs')).toBe(`http://127.0.0.1:8080/data/${project}/docs`);
    expect(indexHost({ publicUrl: 'https://conifer.example.com/base' }, project, 'docs')).toBe(
      `https://conifer.example.com/base/data/${project}/docs`,
    );
  });

  it('uses <index>-<project>.<suffix> with the public URL scheme when a suffix is configured', () => {
    expect(indexHost({ publicUrl: 'https://conifer.example.com', indexHostSuffix: 'idx.example.com' }, project, 'my-docs')).toBe(
      `https://my-docs-${project}.idx.example.com`,
    );
    expect(indexHost({ publicUrl: 'http://gw.local:8080', indexHostSuffix: 'idx.local:8080' }, project, 'a')).toBe(
      `http://a-${project}.idx.local:8080`,
    );
  });

  it('parses Host headers of index hosts (names with dashes, any port, any case)', () => {
    expect(parseIndexHostHeader(`my-docs-${project}.idx.example.com`, 'idx.example.com')).toEqual({ projectId: project, indexName: 'my-docs' });
    expect(parseIndexHostHeader(`A-${project.toUpperCase()}.IDX.example.com:8443`, 'idx.example.com')).toEqual({
      projectId: project,
      indexName: 'a',
    });
    expect(parseIndexHostHeader(`a-${project}.idx.local:8080`, 'idx.local:8080')).toEqual({ projectId: project, indexName: 'a' });
  });

  it('refuses hosts that are not index hosts', () => {
    expect(parseIndexHostHeader(`docs-${project}.other.com`, 'idx.example.com')).toBeUndefined();
    expect(parseIndexHostHeader('idx.example.com', 'idx.example.com')).toBeUndefined();
    expect(parseIndexHostHeader(`docs${project}.idx.example.com`, 'idx.example.com')).toBeUndefined();
    expect(parseIndexHostHeader(`docs-not-a-uuid-at-all-not-a-uuid-at-all.idx.example.com`, 'idx.example.com')).toBeUndefined();
    expect(parseIndexHostHeader(`x.docs-${project}.idx.example.com`, 'idx.example.com')).toBeUndefined();
    expect(parseIndexHostHeader(`docs-${project}.idx.example.com`, undefined)).toBeUndefined();
    expect(isIndexHost(`docs-${project}.idx.example.com`, 'idx.example.com')).toBe(true);
    expect(isIndexHost('conifer.example.com', 'idx.example.com')).toBe(false);
  });
});
