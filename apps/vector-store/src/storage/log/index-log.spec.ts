import { describe, expect, it } from '@jest/globals';
import { positionFileName, stalePositionFiles } from './index-log.js';

describe('snapshot position files', () => {
  it('are named after the snapshot they belong to', () => {
    expect(positionFileName(12)).toBe('snapshot-00000012.pos');
  });

  it('are stale once their snapshot is gone and a newer one exists; one being written is kept', () => {
    const files = ['index.json', 'snapshot-00000002.pos', 'snapshot-00000003.bin', 'snapshot-00000003.pos', 'snapshot-00000004.pos', 'wal-00000004.log'];
    expect(stalePositionFiles(files)).toEqual(['snapshot-00000002.pos']);
    expect(stalePositionFiles(['snapshot-00000001.pos'])).toEqual([]);
  });
});
