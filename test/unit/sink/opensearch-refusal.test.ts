import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { classifyItem, itemRejectionKind } from '../../../src/sink/opensearch-refusal.js';
import { StallRegister } from '../../../src/sink/stall-register.js';

describe('classifyItem', () => {
  it('dead-letters only a refusal of the document itself', () => {
    for (const type of [
      'mapper_parsing_exception',
      'document_parsing_exception',
      'illegal_argument_exception',
    ]) {
      assert.deepEqual(classifyItem(400, type), { action: 'reject' }, type);
    }
    assert.deepEqual(classifyItem(413, undefined), { action: 'reject' });
  });

  // The kind is the `reason` label of records_dead_lettered_total: set from what the node said,
  // not guessed later from the free-text reason.
  it('names the kind of a rejected document from its status and error type', () => {
    assert.equal(itemRejectionKind(400, 'mapper_parsing_exception'), 'mapping_error');
    assert.equal(itemRejectionKind(400, 'document_parsing_exception'), 'mapping_error');
    assert.equal(itemRejectionKind(400, 'strict_dynamic_mapping_exception'), 'mapping_error');
    assert.equal(itemRejectionKind(400, 'illegal_argument_exception'), 'mapping_error');
    assert.equal(itemRejectionKind(400, 'x_content_parse_exception'), 'invalid_event');
    assert.equal(itemRejectionKind(413, undefined), 'too_large');
    assert.equal(itemRejectionKind(400, 'some_new_exception'), 'rejected');
    assert.equal(itemRejectionKind(400, undefined), 'rejected');
  });

  it('holds back what the cluster configuration refuses, whatever the status', () => {
    // The statuses are what OpenSearch 2.19 answers per item (checked against the stack's node);
    // security_exception is what the security plugin answers, absent from the test node.
    const cases: Array<[number, string | undefined, string, boolean]> = [
      [403, 'security_exception', 'forbidden', false],
      [401, undefined, 'forbidden', false],
      [404, 'index_not_found_exception', 'index_not_found', false],
      [403, 'cluster_block_exception', 'index_blocked', true],
      [429, 'cluster_block_exception', 'index_blocked', false], // flood stage: lifts itself
      [400, 'index_closed_exception', 'index_closed', true],
      [400, 'invalid_index_name_exception', 'invalid_index_name', false],
      [422, 'something_new', 'other', false],
    ];
    for (const [status, type, reason, redirectable] of cases) {
      assert.deepEqual(
        classifyItem(status, type),
        { action: 'refused', reason, redirectable },
        `${status} ${type}`,
      );
    }
  });

  it('keeps success, duplicates and transient failures as before', () => {
    assert.deepEqual(classifyItem(201, undefined), { action: 'delivered' });
    assert.deepEqual(classifyItem(409, 'version_conflict_engine_exception'), {
      action: 'duplicate',
    });
    assert.deepEqual(classifyItem(429, 'es_rejected_execution_exception'), { action: 'retry' });
    assert.deepEqual(classifyItem(503, undefined), { action: 'retry' });
  });
});

describe('StallRegister', () => {
  it('reports stalled while any delivery waits on a refusal, with every distinct one', () => {
    const reports: Array<[boolean, string | undefined]> = [];
    const register = new StallRegister('opensearch', (_sink, stalled, detail) =>
      reports.push([stalled, detail]),
    );
    const first = register.holder();
    const second = register.holder();
    first.set(new Map([['idx-a', 'a is blocked']]));
    second.set(new Map([['idx-a', 'a is blocked']]));
    second.set(
      new Map([
        ['idx-a', 'a is blocked'],
        ['idx-b', 'b is closed'],
      ]),
    );
    first.clear(); // one delivery is done; the other still waits on both indices
    assert.deepEqual(reports.at(-1), [true, 'a is blocked; b is closed']);
    second.set(new Map([['idx-b', 'b is closed']]));
    assert.deepEqual(reports.at(-1), [true, 'b is closed']);
    second.clear();
    assert.deepEqual(reports.at(-1), [false, undefined]);
  });
});
