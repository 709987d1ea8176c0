import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { classifyItem, itemRejectionKind } from '../../../src/sink/opensearch-refusal.js';
import { templateFieldType } from '../../../src/sink/opensearch-template.js';
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

  it('holds back a 400 that is about the index, not the document', () => {
    // Reasons as OpenSearch 2.19.4 answers them (probed on the stack's node).
    const cases: Array<[string, string, string]> = [
      [
        'illegal_argument_exception',
        'no write index is defined for alias [audit-2026.12.07]. The write index may be explicitly disabled using is_write_index=false or the alias points to multiple indices without one being designated as a write index',
        'no_write_index',
      ],
      ['illegal_argument_exception', 'pipeline with id [nope] does not exist', 'pipeline_missing'],
      [
        'illegal_argument_exception',
        'Limit of total fields [10] has been exceeded',
        'index_setting',
      ],
      [
        'mapper_parsing_exception',
        "failed to parse field [time] of type [boolean] in document with id 'x1'. Preview of field's value: '1733000000000'",
        'mapping_conflict',
      ],
      ['strict_dynamic_mapping_exception', 'mapping set to strict', 'mapping_conflict'],
    ];
    for (const [type, reason, refusal] of cases) {
      assert.deepEqual(
        classifyItem(400, type, reason),
        { action: 'refused', reason: refusal, redirectable: false },
        reason,
      );
    }
  });

  it('still rejects a document whose field does not fit the template the index was made from', () => {
    // device.ip is an `ip` in the template: a bad address is the document's fault.
    assert.deepEqual(
      classifyItem(
        400,
        'mapper_parsing_exception',
        "failed to parse field [device.ip] of type [ip] in document with id 'x'. Preview of field's value: 'not-an-ip'",
      ),
      { action: 'reject' },
    );
    assert.equal(templateFieldType('time'), 'date');
    assert.equal(templateFieldType('message.keyword'), 'keyword');
    assert.equal(templateFieldType('no.such.field'), undefined);
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
